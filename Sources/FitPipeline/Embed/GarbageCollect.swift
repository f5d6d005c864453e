import FitStore
import Foundation

/// `fitstore gc`: drops vectors of built-in encoders other than the one to keep (and of
/// encoders named for removal) that no checkpoint uses, then compacts the file when it has
/// free pages (also when nothing was left to delete).
public struct GarbageCollect {
    public struct Report: Sendable {
        public var encoders: [(key: String, vectors: Int)] = []
        /// Encoders named for removal that stay, because checkpoints use them.
        public var kept: [(name: String, checkpoints: [Int64])] = []
        public var runID: Int64?
        /// File size before and after compaction (nil when the file had no free pages).
        public var compacted: (before: Int64, after: Int64)?
    }

    let store: Store

    public init(store: Store) { self.store = store }

    public func run(keeping key: String, removing named: [String] = [], dryRun: Bool) throws -> Report {
        var report = Report()
        try store.write { db in
            let known = Set(try Encoder.textEncoders(db).encoders.compactMap(\.encoder.name))
            if let unknown = named.first(where: { !known.contains($0) }) {
                throw PipelineError.unknownEncoder(name: unknown, known: known.sorted())
            }
            for name in named {
                guard let encoder = try Encoder.named(db, name) else { continue }
                let users = try encoder.checkpoints(db)
                if !users.isEmpty { report.kept.append((name, users)) }
            }
            let collectable = try Encoder.collectable(db, keeping: key, named: named)
            report.encoders = collectable.map { ($0.encoder.key, $0.vectors) }
            guard !dryRun, !collectable.isEmpty else { return }
            struct Parameters: Encodable { let keep: String }
            struct Counts: Encodable { let encoders: Int; let vectors: Int }
            let runID = try RunLedger.begin(db, kind: "gc", parameters: Parameters(keep: key))
            report.runID = runID
            for (encoder, _) in collectable { try encoder.delete(db) }
            try RunLedger.finish(db, run: runID, counts: Counts(encoders: collectable.count, vectors: report.encoders.reduce(0) { $0 + $1.vectors }))
        }
        if !dryRun, try store.freePages() > 0 {
            let before = try store.fileSize()
            try store.vacuum()
            report.compacted = (before, try store.fileSize())
        }
        return report
    }
}
