import FitEncoder
import FitStore
import Foundation
import GRDB

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
        try TextEmbedder.identity(modelPath: options.modelPath, configuration: options.configuration, pinnedSHA256: options.pinnedSHA256)
    }

    public func run(_ options: Options) throws -> Report {
        let started = Date()
        let key = try Self.encoderKey(options)
        var report = Report(encoderKey: key)
        let missingSQL = """
            SELECT t.id, t.body FROM text t
             WHERE t.id IN (SELECT text_id FROM text_in_use)
               AND NOT EXISTS (SELECT 1 FROM text_embedding e
                                WHERE e.text_id = t.id
                                  AND e.encoder_id = (SELECT id FROM encoder WHERE key = ?))
             ORDER BY t.bytes, t.id
            """
        let (missing, missingBytes) = try store.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT COUNT(*), COALESCE(SUM(length(CAST(body AS BLOB))), 0) FROM (\(missingSQL))
                """, arguments: [key])!
            return (row[0] as Int, row[1] as Int)
        }
        report.interruptedRunsMarked = try store.write { try RunLedger.markInterrupted($0, kind: "embed") }
        guard missing > 0 else { return report }
        guard FileManager.default.fileExists(atPath: options.modelPath) else {
            throw PipelineError.modelMissing(path: options.modelPath, textsWithoutVectors: missing, encoder: key)
        }

        let embedder = try TextEmbedder(modelPath: options.modelPath, configuration: options.configuration)
        let target = min(missing, options.limit ?? missing)
        let runID: Int64 = try store.write { db in
            let parameters = Parameters(encoder: key, model: options.modelPath, prefix: options.configuration.prefix,
                                        length_policy: options.configuration.lengthPolicy.description, batch_texts: options.batchTexts)
            let runID = try RunLedger.begin(db, kind: "embed", parameters: parameters)
            struct Config: Encodable { let model_sha256: String; let prefix: String; let length_policy: String; let activations: String }
            try db.execute(sql: """
                INSERT INTO encoder (key, kind, dims, config, run_id) VALUES (?, 'model', ?, ?, ?)
                ON CONFLICT (key) DO NOTHING
                """, arguments: [key, embedder.dimensions, try JSONText.encode(Config(
                    model_sha256: embedder.modelSHA256, prefix: options.configuration.prefix,
                    length_policy: options.configuration.lengthPolicy.description, activations: "q8")), runID])
            return runID
        }
        report.runID = runID
        let encoderID = try store.read { try Int64.fetchOne($0, sql: "SELECT id FROM encoder WHERE key = ?", arguments: [key])! }
        var batches = 0
        var bytesDone = 0
        // Progress in bytes of text: later batches hold longer texts (they are sorted by
        // length), so a count of texts would give a falsely early ETA.
        let phase = "embed \(target) texts"
        let totalBytes = target == missing ? missingBytes : nil
        while report.embedded < target {
            let take = min(options.batchTexts, target - report.embedded)
            let rows = try store.read { db in
                try Row.fetchAll(db, sql: missingSQL + " LIMIT ?", arguments: [key, take])
            }
            if rows.isEmpty { break }
            let texts: [String] = rows.map { $0[1] }
            let (vectors, tokens) = embedder.embedCountingTokens(texts)
            report.tokens += tokens
            try store.write { db in
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO text_embedding (text_id, encoder_id, vector, run_id) VALUES (?, ?, ?, ?)
                    ON CONFLICT (text_id, encoder_id) DO NOTHING
                    """)
                for (row, vector) in zip(rows, vectors) {
                    try insert.execute(arguments: [row[0] as Int64, encoderID, VectorCodec.encode(vector, as: .compact), runID])
                }
            }
            batches += 1
            report.embedded += rows.count
            bytesDone += texts.reduce(0) { $0 + $1.utf8.count }
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
