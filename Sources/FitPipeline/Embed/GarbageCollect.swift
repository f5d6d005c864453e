import FitStore
import Foundation

/// `fitstore gc`: drops vectors of model encoders other than the one to keep.
public struct GarbageCollect {
    public struct Report: Sendable {
        public var encoders: [(key: String, vectors: Int)] = []
        public var runID: Int64?
    }

    let store: Store

    public init(store: Store) { self.store = store }

    public func run(keeping key: String, dryRun: Bool) throws -> Report {
        var report = Report()
        try store.write { db in
            let collectable = try Encoder.collectable(db, keeping: key)
            report.encoders = collectable.map { ($0.encoder.key, $0.vectors) }
            guard !dryRun, !collectable.isEmpty else { return }
            struct Parameters: Encodable { let keep: String }
            struct Counts: Encodable { let encoders: Int; let vectors: Int }
            let runID = try RunLedger.begin(db, kind: "gc", parameters: Parameters(keep: key))
            report.runID = runID
            for (encoder, _) in collectable { try encoder.delete(db) }
            try RunLedger.finish(db, run: runID, counts: Counts(encoders: collectable.count, vectors: report.encoders.reduce(0) { $0 + $1.vectors }))
        }
        if !dryRun, report.runID != nil {
            try store.vacuum()
        }
        return report
    }
}
