import FitEncoder
import FitFormats
import FitStore
import Foundation
import GRDB

/// Encoders made from Hugging Face model folders (`fitstore encoders add NAME DIR`): the
/// folder is validated by loading it whole (weights and tokenizer), its files' digests are
/// recorded with the settings that fix its vectors (prefix, length policy), and `embed
/// --encoder NAME` later runs it only while those files are unchanged.
public struct FolderEncoders {
    /// What the store keeps about a folder encoder, in its `config` column.
    public struct Settings: Codable, Sendable {
        public let folder: String
        public let architecture: String
        public let dims: Int
        public let pooling: String
        public let normalize: Bool
        public let max_seq_length: Int
        public let prefix: String
        public let length_policy: String
        public let digest: String
        public let files: [FolderDigest.Stamp]
        /// The products' arithmetic; absent (folders added before int8 existed): float32.
        public var precision: Precision? = nil

        /// The precision the folder's vectors are made with.
        public var madeWith: Precision { precision ?? .float32 }

        /// The embedder settings these stand for.
        public func configuration(threads: Int, batchTokens: Int) throws -> TextEmbedder.Configuration {
            guard let policy = LengthPolicy(length_policy) else {
                throw PipelineError.encoderDamaged(name: folder, reason: "length policy '\(length_policy)' is not one fitstore knows")
            }
            return TextEmbedder.Configuration(prefix: prefix, lengthPolicy: policy, batchTokens: batchTokens, threads: threads,
                                              quantizeActivations: false, precision: madeWith)
        }
    }

    public struct Added: Sendable {
        public let key: String
        public let dims: Int
        /// false: the same folder and settings were already added under this name.
        public let isNew: Bool
        public let settings: Settings
    }

    let store: Store

    public init(store: Store) { self.store = store }

    /// Registers the folder at `path` as encoder `name` under `configuration`'s prefix,
    /// length policy and precision. The same folder and settings again is a no-op; anything else under a
    /// name in use is refused.
    public func add(name: String, folder path: String, configuration: TextEmbedder.Configuration) throws -> Added {
        let folder = try HuggingFaceFolder(path: URL(fileURLWithPath: path).standardizedFileURL.path)
        let stamps = try FolderDigest.stamps(of: folder)
        // Loading it whole finds a bad weight file or tokenizer now, not at the first embed.
        let embedder = try TextEmbedder(folder: folder, configuration: configuration, stamps: stamps)
        let key = embedder.identity
        let settings = Settings(folder: folder.path, architecture: folder.architecture.rawValue, dims: embedder.dimensions,
                                pooling: folder.pooling.rawValue, normalize: folder.normalize, max_seq_length: folder.maxSequenceLength,
                                prefix: embedder.configuration.prefix, length_policy: embedder.configuration.lengthPolicy.description,
                                digest: embedder.modelSHA256, files: stamps,
                                precision: configuration.precision == .float32 ? nil : configuration.precision)
        return try store.write { db in
            if let existing = try Encoder.named(db, name) {
                guard existing.key == key else {
                    let old = try? Self.settings(of: existing)
                    throw PipelineError.encoderNameTaken(name: name, source: existing.source.rawValue, path: old?.folder)
                }
                return Added(key: key, dims: existing.dims, isNew: false, settings: settings)
            }
            if let sameVectors = try Encoder.keyed(db, key) {
                // The same vectors under another name: one encoder, one name.
                throw PipelineError.encoderNameTaken(name: sameVectors.name ?? key, source: sameVectors.source.rawValue, path: folder.path)
            }
            struct Parameters: Encodable { let name: String; let folder: String; let key: String }
            let run = try RunLedger.begin(db, kind: "encoders-add", parameters: Parameters(name: name, folder: folder.path, key: key))
            _ = try Encoder.register(db, key: key, kind: .model, source: .folder, name: name, dims: embedder.dimensions, config: settings, run: run)
            try RunLedger.finish(db, run: run, counts: ["encoders": 1])
            return Added(key: key, dims: embedder.dimensions, isNew: true, settings: settings)
        }
    }

    /// The settings a folder encoder was added with.
    public static func settings(of encoder: Encoder) throws -> Settings {
        do {
            return try JSONDecoder().decode(Settings.self, from: Data(encoder.config.utf8))
        } catch {
            throw PipelineError.encoderDamaged(name: encoder.name ?? encoder.key, reason: "its settings cannot be read: \(DecodingWords.sentence(error))")
        }
    }

    /// The embedder of a folder encoder, refusing when its files changed since it was added.
    public static func embedder(name: String, key: String, settings: Settings, threads: Int, batchTokens: Int) throws -> TextEmbedder {
        let folder = try HuggingFaceFolder(path: settings.folder)
        let embedder = try TextEmbedder(folder: folder, configuration: try settings.configuration(threads: threads, batchTokens: batchTokens),
                                        stamps: settings.files)
        guard embedder.identity == key else { throw PipelineError.folderChanged(name: name, path: settings.folder) }
        return embedder
    }
}
