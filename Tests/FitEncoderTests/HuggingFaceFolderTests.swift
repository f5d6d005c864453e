import FitEncoder
import FitTestSupport
import Foundation
import Testing

/// A model folder that cannot be used is refused naming the file and the field, before any
/// weight is read.
@Suite struct HuggingFaceFolderTests {
    static let bertConfig = #"{"model_type": "bert", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128, "vocab_size": 100, "max_position_embeddings": 64, "type_vocab_size": 2, "hidden_act": "gelu"}"#

    func folder(_ files: [String: String]) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory("hf-folder")
        for (name, text) in files {
            let url = dir.file(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return dir
    }

    func refusal(_ files: [String: String]) throws -> String {
        let dir = try folder(files)
        do {
            _ = try HuggingFaceFolder(path: dir.url.path)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    @Test func readsASentenceTransformersFolder() throws {
        let dir = try folder(["config.json": Self.bertConfig, "model.safetensors": "", "tokenizer.json": "{}",
                              "modules.json": #"[{"type": "sentence_transformers.models.Transformer", "path": ""}, {"type": "sentence_transformers.models.Pooling", "path": "1_Pooling"}, {"type": "sentence_transformers.models.Normalize", "path": "2_Normalize"}]"#,
                              "1_Pooling/config.json": #"{"pooling_mode_cls_token": true}"#,
                              "sentence_bert_config.json": #"{"max_seq_length": 32, "do_lower_case": true}"#])
        let f = try HuggingFaceFolder(path: dir.url.path)
        #expect(f.architecture == .bert && f.pooling == .cls && f.normalize && f.maxSequenceLength == 32 && f.lowercaseInput)
        #expect(f.config.eps == 1e-12 && f.files.contains("model.safetensors"))
    }

    @Test func bareTransformersFolderMeanPoolsWithoutNormalizing() throws {
        let dir = try folder(["config.json": Self.bertConfig, "model.safetensors": "", "tokenizer.json": "{}"])
        let f = try HuggingFaceFolder(path: dir.url.path)
        #expect(f.pooling == .mean && !f.normalize && f.maxSequenceLength == 64)
    }

    @Test func refusesWhatItCannotRun() throws {
        let base = ["config.json": Self.bertConfig, "model.safetensors": "", "tokenizer.json": "{}"]
        #expect(try refusal([:]).contains("config.json: is missing"))
        #expect(try refusal(base.merging(["config.json": #"{"model_type": "gpt2"}"#]) { $1 }).contains("model_type 'gpt2' is not supported"))
        #expect(try refusal(base.merging(["config.json": Self.bertConfig.replacingOccurrences(of: "\"gelu\"", with: "\"relu\"")]) { $1 })
            .contains("hidden_act 'relu'"))
        #expect(try refusal(base.merging(["config.json": Self.bertConfig.replacingOccurrences(of: "\"hidden_size\": 64", with: "\"hidden_size\": \"big\"")]) { $1 })
            .contains("field hidden_size is not a whole number"))
        var noWeights = base
        noWeights["model.safetensors"] = nil
        noWeights["pytorch_model.bin"] = ""
        #expect(try refusal(noWeights).contains("only safetensors weights are read"))
        #expect(try refusal(base.merging(["modules.json": #"[{"type": "sentence_transformers.models.Dense", "path": "2_Dense"}]"#]) { $1 })
            .contains("only Transformer, Pooling and Normalize"))
        #expect(try refusal(base.merging(["modules.json": #"[{"type": "x.Pooling", "path": "1_Pooling"}]"#,
                                          "1_Pooling/config.json": #"{"pooling_mode_mean_tokens": true, "pooling_mode_max_tokens": true}"#]) { $1 })
            .contains("exactly one of"))
    }
}
