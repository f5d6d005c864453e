import FitFormats
import FitStore
import Foundation
import GRDB

/// The state one ingest transaction shares between its steps.
final class IngestContext {
    let db: Database
    let runID: Int64
    let datasetID: Int64
    let datasetName: String
    let texts: TextInterner
    let progress: any ProgressSink

    init(db: Database, runID: Int64, datasetID: Int64, datasetName: String, texts: TextInterner, progress: any ProgressSink) {
        self.db = db
        self.runID = runID
        self.datasetID = datasetID
        self.datasetName = datasetName
        self.texts = texts
        self.progress = progress
    }

    /// Records the file version this run read; returns its row id.
    func recordSourceFile(role: DA5401Folder.Role, url: URL, digest: (hex: String, bytes: Int), records: Int) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO source_file (dataset_id, role, path, bytes, sha256, records, run_id)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (dataset_id, role, sha256) DO UPDATE SET run_id = excluded.run_id, path = excluded.path
            """, arguments: [datasetID, role.rawValue, url.path, digest.bytes, digest.hex, records, runID])
        return try Int64.fetchOne(db, sql: "SELECT id FROM source_file WHERE dataset_id = ? AND role = ? AND sha256 = ?",
                                  arguments: [datasetID, role.rawValue, digest.hex])!
    }

    func metricIDs() throws -> [String: Int64] {
        let rows = try Row.fetchAll(db, sql: "SELECT name, id FROM metric WHERE dataset_id = ? AND position IS NOT NULL", arguments: [datasetID])
        return Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, $0[1] as Int64) })
    }
}
