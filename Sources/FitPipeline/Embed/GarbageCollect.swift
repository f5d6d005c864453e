import FitStore
import Foundation
import GRDB

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
            let rows = try Row.fetchAll(db, sql: """
                SELECT e.id, e.key, (SELECT COUNT(*) FROM text_embedding t WHERE t.encoder_id = e.id)
                  FROM encoder e
                 WHERE e.kind = 'model' AND e.key <> ?
                   AND NOT EXISTS (SELECT 1 FROM checkpoint c WHERE c.encoder_id = e.id)
                """, arguments: [key])
            report.encoders = rows.map { ($0[1], $0[2]) }
            guard !dryRun, !rows.isEmpty else { return }
            struct Parameters: Encodable { let keep: String }
            struct Counts: Encodable { let encoders: Int; let vectors: Int }
            let runID = try RunLedger.begin(db, kind: "gc", parameters: Parameters(keep: key))
            report.runID = runID
            for row in rows {
                try db.execute(sql: "DELETE FROM text_embedding WHERE encoder_id = ?", arguments: [row[0] as Int64])
                try db.execute(sql: "DELETE FROM encoder WHERE id = ?", arguments: [row[0] as Int64])
            }
            try RunLedger.finish(db, run: runID, counts: Counts(encoders: rows.count, vectors: report.encoders.reduce(0) { $0 + $1.vectors }))
        }
        if !dryRun, report.runID != nil {
            try store.vacuum()
        }
        return report
    }
}
