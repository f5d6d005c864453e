import FitFormats
import Foundation

/// A Hugging Face model folder as `sentence-transformers` saves it (`config.json`,
/// `model.safetensors`, `tokenizer.json`, `modules.json`, `1_Pooling/config.json`,
/// `sentence_bert_config.json`), or a bare `transformers` folder (no `modules.json`: mean
/// pooling, no normalization). Reads what the encoder needs and refuses, naming the file and
/// the field, what it does not support.
public struct HuggingFaceFolder: Sendable {
    public enum Architecture: String, Sendable {
        /// BERT (all-MiniLM, LaBSE, the e5 family): absolute positions from 0, token types.
        case bert
        /// XLM-RoBERTa and RoBERTa: positions from padding_idx + 1, one token type.
        case xlmRoberta = "xlm-roberta"
        /// MPNet: positions from padding_idx + 1, no token types, relative position buckets
        /// added to every layer's attention scores.
        case mpnet
    }

    public enum Pooling: String, Sendable { case mean, cls, max }

    public struct Config: Sendable, Equatable {
        public let hidden: Int
        public let layers: Int
        public let heads: Int
        public let ffn: Int
        public let vocab: Int
        public let maxPositions: Int
        public let typeVocab: Int
        public let eps: Float
        public let padTokenID: Int
        public let relativeBuckets: Int
    }

    public let path: String
    public let architecture: Architecture
    public let config: Config
    public let pooling: Pooling
    public let normalize: Bool
    /// Tokens per sequence, specials included (sentence-transformers' max_seq_length).
    public let maxSequenceLength: Int
    /// sentence-transformers lowercases the text itself before tokenizing when set.
    public let lowercaseInput: Bool
    /// Folder-relative paths of the files that make the model, for its digest.
    public let files: [String]
    public let weightsFile: String
    public let tokenizerFile: String
    /// tokenizer_config.json's tokenizer_class, when there is one.
    public let tokenizerClass: String?

    public init(path: String) throws {
        self.path = path
        let folder = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelFolderError(path: path, message: "is not a folder")
        }
        func file(_ name: String) -> String { folder.appendingPathComponent(name).path }
        func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }
        func object(_ name: String) throws -> JSONObject {
            let value: JSONValue
            do { value = try JSONDocument.parse(contentsOf: URL(fileURLWithPath: file(name))) } catch {
                throw ModelFolderError(path: file(name), message: "cannot be read as JSON: \(error)")
            }
            guard case .object(let o) = value else { throw ModelFolderError(path: file(name), message: "is not a JSON object") }
            return o
        }
        func int(_ o: JSONObject, _ key: String, in name: String, default d: Int? = nil) throws -> Int {
            guard let v = o[key] else {
                if let d { return d }
                throw ModelFolderError(path: file(name), message: "field \(key) is missing")
            }
            guard case .number(let lexeme) = v, let n = Int(lexeme) else {
                throw ModelFolderError(path: file(name), message: "field \(key) is not a whole number")
            }
            return n
        }

        // The Transformer module: the folder itself unless modules.json says otherwise.
        var files: [String] = []
        var modulePath = "", poolingPath: String?, normalize = false, sawModules = false
        if exists("modules.json") {
            sawModules = true
            files.append("modules.json")
            let value: JSONValue
            do { value = try JSONDocument.parse(contentsOf: URL(fileURLWithPath: file("modules.json"))) } catch {
                throw ModelFolderError(path: file("modules.json"), message: "cannot be read as JSON: \(error)")
            }
            guard case .array(let modules) = value else { throw ModelFolderError(path: file("modules.json"), message: "is not a list of modules") }
            for (i, m) in modules.enumerated() {
                guard case .object(let o) = m, let type = o["type"]?.stringValue else {
                    throw ModelFolderError(path: file("modules.json"), message: "module \(i) has no type")
                }
                let p = o["path"]?.stringValue ?? ""
                switch type.split(separator: ".").last.map(String.init) ?? type {
                case "Transformer": modulePath = p
                case "Pooling": poolingPath = p
                case "Normalize": normalize = true
                default:
                    throw ModelFolderError(path: file("modules.json"), message: "module \(i) is a \(type): only Transformer, Pooling and Normalize are supported")
                }
            }
        }
        func inModule(_ name: String) -> String { modulePath.isEmpty ? name : modulePath + "/" + name }

        // config.json
        let configName = inModule("config.json")
        guard exists(configName) else { throw ModelFolderError(path: file(configName), message: "is missing (not a Hugging Face model folder?)") }
        files.append(configName)
        let c = try object(configName)
        let modelType = c["model_type"]?.stringValue ?? ""
        switch modelType {
        case "bert": architecture = .bert
        case "xlm-roberta", "roberta": architecture = .xlmRoberta
        case "mpnet": architecture = .mpnet
        default:
            throw ModelFolderError(path: file(configName), message: "model_type '\(modelType)' is not supported (bert, xlm-roberta, roberta and mpnet are)")
        }
        if let act = c["hidden_act"]?.stringValue, act != "gelu" {
            throw ModelFolderError(path: file(configName), message: "hidden_act '\(act)' is not supported (gelu is)")
        }
        if let p = c["position_embedding_type"]?.stringValue, p != "absolute" {
            throw ModelFolderError(path: file(configName), message: "position_embedding_type '\(p)' is not supported (absolute is)")
        }
        var eps: Float = architecture == .bert ? 1e-12 : 1e-5
        if case .number(let lexeme)? = c["layer_norm_eps"], let e = Float(lexeme), e > 0, e.isFinite { eps = e }
        let config = Config(
            hidden: try int(c, "hidden_size", in: configName), layers: try int(c, "num_hidden_layers", in: configName),
            heads: try int(c, "num_attention_heads", in: configName), ffn: try int(c, "intermediate_size", in: configName),
            vocab: try int(c, "vocab_size", in: configName), maxPositions: try int(c, "max_position_embeddings", in: configName),
            typeVocab: try int(c, "type_vocab_size", in: configName, default: architecture == .mpnet ? 0 : 1),
            eps: eps, padTokenID: try int(c, "pad_token_id", in: configName, default: architecture == .bert ? 0 : 1),
            relativeBuckets: try int(c, "relative_attention_num_buckets", in: configName, default: 32))
        guard config.hidden > 0, config.heads > 0, config.hidden % config.heads == 0, (config.hidden / config.heads) % 8 == 0,
              config.hidden % 32 == 0, config.ffn % 32 == 0, config.layers > 0, config.layers <= 256, config.vocab > 0,
              config.hidden <= 1 << 14, config.ffn <= 1 << 16, config.maxPositions > 2, config.maxPositions <= 1 << 16 else {
            throw ModelFolderError(path: file(configName), message: "its sizes are not ones this encoder runs (hidden a multiple of 32 and of heads x 8, intermediate a multiple of 32): \(config)")
        }
        self.config = config
        // Positions usable by a sequence: RoBERTa-style models start at padding_idx + 1.
        let positions = architecture == .bert ? config.maxPositions : config.maxPositions - config.padTokenID - 1

        // Pooling.
        var pooling = Pooling.mean
        if let poolingPath {
            let name = poolingPath.isEmpty ? "config.json" : poolingPath + "/config.json"
            let p = try object(name)
            files.append(name)
            func flag(_ key: String) -> Bool { if case .bool(true)? = p[key] { true } else { false } }
            let modes = [("pooling_mode_mean_tokens", Pooling.mean), ("pooling_mode_cls_token", .cls), ("pooling_mode_max_tokens", .max)].filter { flag($0.0) }
            if flag("pooling_mode_mean_sqrt_len_tokens") || flag("pooling_mode_weightedmean_tokens") || flag("pooling_mode_lasttoken") {
                throw ModelFolderError(path: file(name), message: "asks for a pooling this encoder does not do (mean, cls and max are)")
            }
            guard modes.count == 1 else {
                throw ModelFolderError(path: file(name), message: "must set exactly one of pooling_mode_mean_tokens, pooling_mode_cls_token, pooling_mode_max_tokens")
            }
            pooling = modes[0].1
        } else if sawModules {
            throw ModelFolderError(path: file("modules.json"), message: "names no Pooling module")
        }
        self.pooling = pooling
        self.normalize = normalize

        // sentence_bert_config.json
        var maxLength = positions, lowercase = false
        let sbert = inModule("sentence_bert_config.json")
        if exists(sbert) {
            files.append(sbert)
            let s = try object(sbert)
            maxLength = min(positions, try int(s, "max_seq_length", in: sbert, default: positions))
            if case .bool(true)? = s["do_lower_case"] { lowercase = true }
        }
        guard maxLength > 2 else { throw ModelFolderError(path: file(sbert), message: "max_seq_length \(maxLength) leaves no room for text") }
        maxSequenceLength = maxLength
        lowercaseInput = lowercase

        // Weights and tokenizer.
        let weights = inModule("model.safetensors")
        guard exists(weights) else {
            let hint = exists(inModule("pytorch_model.bin")) ? ": only safetensors weights are read (convert pytorch_model.bin with safetensors' convert script)" : ""
            throw ModelFolderError(path: file(weights), message: "is missing\(hint)")
        }
        let tokenizer = inModule("tokenizer.json")
        guard exists(tokenizer) else { throw ModelFolderError(path: file(tokenizer), message: "is missing (the fast tokenizer's file is needed)") }
        var tokenizerClass: String?
        let tokenizerConfig = inModule("tokenizer_config.json")
        if exists(tokenizerConfig) {
            tokenizerClass = try object(tokenizerConfig)["tokenizer_class"]?.stringValue
            files.append(tokenizerConfig)
        }
        self.tokenizerClass = tokenizerClass
        files += [tokenizer, weights]
        weightsFile = file(weights)
        tokenizerFile = file(tokenizer)
        self.files = files
    }
}

/// Why a model folder cannot be used: the file (or folder) and what is wrong with it.
public struct ModelFolderError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}
