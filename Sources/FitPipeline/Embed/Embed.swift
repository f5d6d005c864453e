import FitEncoder
import FitStore
import Foundation

/// `fitstore embed`: gives every text in use (prompts, responses, system prompts, metric
/// names and definitions) a vector under the active encoder, incrementally.
///
/// The texts still missing a vector are found with one query; they are embedded in batches,
/// each committed in its own transaction, so `kill -9` loses at most the batch in flight and
/// a rerun continues where the last one stopped. UNIQUE(text_id, encoder_id) makes a
/// duplicate impossible. With nothing missing, no model is loaded and nothing is written.
public struct Embed {
    public struct Options: Sendable {
        public var modelPath: String
        public var configuration: TextEmbedder.Configuration
        /// The built-in model's digest (`ModelLocator.pinnedSHA256`): with it, a store whose
        /// texts all have vectors needs no model file.
        public var pinnedSHA256: String?
        /// An encoder whose vectors are brought in, not computed here (its name and key):
        /// `embed` then only checks that every text in use has one.
        public var imported: (name: String, key: String)?
        /// An encoder made from a model folder (`fitstore encoders add`): its name, key and
        /// stored settings. `configuration` then only gives threads and batch tokens.
        public var folder: (name: String, key: String, settings: FolderEncoders.Settings)?
        /// Texts per transaction.
        public var batchTexts: Int = 256
        /// Stop after this many texts (nil: all). For tests and partial runs.
        public var limit: Int?

        public init(modelPath: String, configuration: TextEmbedder.Configuration, pinnedSHA256: String? = nil,
                    batchTexts: Int = 256, limit: Int? = nil) {
            self.modelPath = modelPath
            self.configuration = configuration
            self.pinnedSHA256 = pinnedSHA256
            self.batchTexts = batchTexts
            self.limit = limit
        }
    }

    public struct Report: Sendable {
        public var encoderKey: String
        public var runID: Int64?
        public var embedded = 0
        public var tokens = 0
        public var remaining = 0
        public var interruptedRunsMarked = 0
        public var seconds: Double = 0
    }

    struct Counts: Encodable { let texts: Int; let tokens: Int; let batches: Int }
    struct Parameters: Encodable { let encoder: String; let model: String; let prefix: String; let length_policy: String; let batch_texts: Int }

    let store: Store
    let progress: any ProgressSink

    public init(store: Store, progress: any ProgressSink = SilentProgress()) {
        self.store = store
        self.progress = progress
    }

    /// The encoder identity the options select, without loading the model.
    public static func encoderKey(_ options: Options) throws -> String {
        if let imported = options.imported { return imported.key }
        if let folder = options.folder { return folder.key }
        return try TextEmbedder.identity(modelPath: options.modelPath, configuration: options.configuration, pinnedSHA256: options.pinnedSHA256)
    }

    public func run(_ options: Options) throws -> Report {
        let started = Date()
        let key = try Self.encoderKey(options)
        var report = Report(encoderKey: key)
        let (missing, missingBytes) = try store.read { try TextVectors.missingTotals($0, key: key) }
        report.interruptedRunsMarked = try store.write { try RunLedger.sweep($0) }
        guard missing > 0 else { return report }
        if let imported = options.imported {
            throw PipelineError.vectorsToImport(encoder: imported.name, texts: missing)
        }
        let embedder: TextEmbedder
        if let folder = options.folder {
            embedder = try FolderEncoders.embedder(name: folder.name, key: folder.key, settings: folder.settings,
                                                   threads: options.configuration.threads, batchTokens: options.configuration.batchTokens)
        } else {
            guard FileManager.default.fileExists(atPath: options.modelPath) else {
                throw PipelineError.modelMissing(path: options.modelPath, textsWithoutVectors: missing, encoder: key)
            }
            embedder = try TextEmbedder(modelPath: options.modelPath, configuration: options.configuration)
        }
        let target = min(missing, options.limit ?? missing)
        let (runID, vectors): (Int64, TextVectors) = try store.write { db in
            let parameters = Parameters(encoder: key, model: options.folder?.settings.folder ?? options.modelPath,
                                        prefix: embedder.configuration.prefix,
                                        length_policy: embedder.configuration.lengthPolicy.description, batch_texts: options.batchTexts)
            let runID = try RunLedger.begin(db, kind: "embed", parameters: parameters)
            if options.folder != nil {
                guard let encoder = try Encoder.keyed(db, key) else {
                    throw StoreError.damaged(table: "encoder", row: key, reason: "the folder encoder is not registered")
                }
                return (runID, TextVectors(encoder: encoder.id))
            }
            // precision: absent for float32, as in every row registered before int8 existed.
            struct Config: Encodable {
                let model_sha256: String; let prefix: String; let length_policy: String; let activations: String; let precision: String?
            }
            let encoder = try Encoder.register(db, key: key, kind: .model, source: .builtin, name: options.configuration.builtInName,
                                               dims: embedder.dimensions, config: Config(
                model_sha256: embedder.modelSHA256, prefix: options.configuration.prefix,
                length_policy: options.configuration.lengthPolicy.description, activations: "q8",
                precision: options.configuration.precision == .float32 ? nil : options.configuration.precision.rawValue), run: runID)
            return (runID, TextVectors(encoder: encoder.id))
        }
        report.runID = runID
        return try store.failingRun(runID) {
            try embedMissing(embedder: embedder, vectors: vectors, run: runID, key: key, missing: missing,
                             missingBytes: missingBytes, target: target, options: options, report: report, started: started)
        }
    }

    private func embedMissing(embedder: TextEmbedder, vectors: TextVectors, run runID: Int64, key: String, missing: Int,
                              missingBytes: Int, target: Int, options: Options, report: Report, started: Date) throws -> Report {
        var report = report
        var batches = 0
        var bytesDone = 0
        // Progress in bytes of text: later batches hold longer texts (they are sorted by
        // length), so a count of texts would give a falsely early ETA.
        let phase = "embed \(target) texts"
        let totalBytes = target == missing ? missingBytes : nil
        while report.embedded < target {
            let take = min(options.batchTexts, target - report.embedded)
            let texts = try store.read { try TextVectors.missing($0, key: key, limit: take) }
            if texts.isEmpty { break }
            // Within a batch, progress moves after each forward pass (at most batchTokens
            // tokens, about a second), by the share of the batch's window tokens done.
            let batchBytes = texts.reduce(0) { $0 + $1.body.utf8.count }
            let before = bytesDone
            let (embedded, tokens) = embedder.embedCountingTokens(texts.map(\.body)) { step in
                let share = step.tokensTotal > 0 ? Double(step.tokensDone) / Double(step.tokensTotal) : 1
                progress.advance(phase: phase, done: before + Int(share * Double(batchBytes)), total: totalBytes, unit: "B")
            }
            report.tokens += tokens
            try store.write { db in
                try vectors.insert(db, zip(texts, embedded).map { ($0.id, $1) }, run: runID)
            }
            batches += 1
            report.embedded += texts.count
            bytesDone += batchBytes
            progress.advance(phase: phase, done: bytesDone, total: totalBytes, unit: "B")
        }
        progress.finish(phase: phase)
        report.remaining = missing - report.embedded
        try store.write { db in
            try RunLedger.finish(db, run: runID, counts: Counts(texts: report.embedded, tokens: report.tokens, batches: batches))
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}
