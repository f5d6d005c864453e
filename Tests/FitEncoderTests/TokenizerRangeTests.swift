import FitEncoder
import FitFormats
import FitTestSupport
import Foundation
import Testing

/// A model folder is validated, not trusted (issue #22 item 4): every token id its tokenizer
/// can emit (vocabulary, unknown, added and special tokens, padding) must be a row of the
/// model's word embeddings, or the folder is refused naming the file and the id. Before,
/// `[UNK]` mapped to 999999999 was accepted and encoding read outside the embedding table.
@Suite struct TokenizerRangeTests {
    static let hidden = 32, ffn = 64, vocab = 12, positions = 16

    /// A one-layer BERT folder with deterministic weights and a WordPiece tokenizer.
    static func folder(unk: Int = 1, addedID: Int = 0, cls: Int = 2) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory("tiny-bert")
        let H = hidden, FF = ffn
        let config = #"{"model_type": "bert", "hidden_size": \#(H), "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": \#(FF), "vocab_size": \#(vocab), "max_position_embeddings": \#(positions), "type_vocab_size": 2, "hidden_act": "gelu"}"#
        try Data(config.utf8).write(to: dir.file("config.json"))
        let words = ["[PAD]": 0, "[UNK]": unk, "[CLS]": cls, "[SEP]": 3, "hello": 4, "world": 5, "##s": 6, "a": 7]
        let vocabJSON = words.sorted { $0.value < $1.value }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ")
        let tokenizer = """
            {"version": "1.0",
             "added_tokens": [{"id": \(addedID), "content": "[PAD]", "special": true, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false}],
             "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
             "pre_tokenizer": {"type": "BertPreTokenizer"},
             "post_processor": {"type": "TemplateProcessing",
               "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
               "pair": [],
               "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [\(cls)], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
             "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                       "vocab": {\(vocabJSON)}}}
            """
        try Data(tokenizer.utf8).write(to: dir.file("tokenizer.json"))
        var tensors: [(String, [Int])] = [
            ("embeddings.word_embeddings.weight", [vocab, H]), ("embeddings.position_embeddings.weight", [positions, H]),
            ("embeddings.token_type_embeddings.weight", [2, H]), ("embeddings.LayerNorm.weight", [H]), ("embeddings.LayerNorm.bias", [H]),
        ]
        let p = "encoder.layer.0."
        for name in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"] {
            tensors += [(p + name + ".weight", [H, H]), (p + name + ".bias", [H])]
        }
        tensors += [(p + "attention.output.LayerNorm.weight", [H]), (p + "attention.output.LayerNorm.bias", [H]),
                    (p + "intermediate.dense.weight", [FF, H]), (p + "intermediate.dense.bias", [FF]),
                    (p + "output.dense.weight", [H, FF]), (p + "output.dense.bias", [H]),
                    (p + "output.LayerNorm.weight", [H]), (p + "output.LayerNorm.bias", [H])]
        let writer = try SafetensorsWriter(url: dir.file("model.safetensors"),
                                           tensors: tensors.map { .init(name: $0.0, dtype: .f32, shape: $0.1) })
        var state: UInt64 = 7
        for (name, shape) in tensors {
            let n = shape.reduce(1, *)
            let values: [Float] = (0..<n).map { _ in
                if name.hasSuffix("LayerNorm.weight") { return 1 }
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return Float(Int(state >> 40) % 2001 - 1000) / 20_000
            }
            try writer.write(values)
        }
        try writer.close()
        return dir
    }

    static func refusal(_ dir: TemporaryDirectory) -> String? {
        do {
            _ = try TextEmbedder(folder: try HuggingFaceFolder(path: dir.url.path), configuration: .init(prefix: "", lengthPolicy: .truncate, threads: 1))
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func aFolderWhoseIdsFitItsEmbeddingsEncodes() throws {
        let dir = try Self.folder()
        let embedder = try TextEmbedder(folder: try HuggingFaceFolder(path: dir.url.path), configuration: .init(prefix: "", lengthPolicy: .truncate, threads: 1))
        #expect(embedder.tokenize("Hello worlds, zebra").map(Int.init) == [4, 5, 6, 1, 1])
        let vectors = embedder.embed(["Hello worlds", "a"])
        #expect(vectors.count == 2 && vectors.allSatisfy { $0.count == Self.hidden && $0.allSatisfy(\.isFinite) })
    }

    @Test func idsOutsideTheEmbeddingTableAreRefusedByName() throws {
        let unknown = Self.refusal(try Self.folder(unk: 999_999_999))
        #expect(unknown?.contains("tokenizer.json") == true && unknown?.contains("999999999") == true, "\(unknown ?? "accepted")")
        let added = Self.refusal(try Self.folder(addedID: 40))
        #expect(added?.contains("tokenizer.json") == true && added?.contains("40") == true, "\(added ?? "accepted")")
        let special = Self.refusal(try Self.folder(cls: 12))
        #expect(special?.contains("tokenizer.json") == true && special?.contains("12") == true, "\(special ?? "accepted")")
        let negative = Self.refusal(try Self.folder(addedID: -3))
        #expect(negative != nil, "a negative added token id was accepted")
    }
}
