import FitFormats
import GRDB

/// Each input file a data set was ingested from, by content digest: unchanged inputs are
/// recognised and skipped, and a row can be traced to the file version it came from.
public enum SourceFile {
    /// The digest (hex) of the file last ingested in `role`, if any.
    public static func latestDigest(_ db: Database, dataset: Int64, role: DA5401Folder.Role) throws -> String? {
        try String.fetchOne(db, sql: """
            SELECT sha256 FROM source_file WHERE dataset_id = ? AND role = ?
             ORDER BY run_id DESC, id DESC LIMIT 1
            """, arguments: [dataset, role.rawValue])
    }

    /// Records that `run` read this file version; returns its row id (one row per distinct
    /// content, pointed at the latest run that read it).
    public static func record(_ db: Database, dataset: Int64, role: DA5401Folder.Role, path: String, bytes: Int,
                              sha256: String, records: Int, run: Int64) throws -> Int64 {
        let id = try Int64.fetchOne(db, sql: """
            INSERT INTO source_file (dataset_id, role, path, bytes, sha256, records, run_id)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (dataset_id, role, sha256) DO UPDATE SET run_id = excluded.run_id, path = excluded.path
            RETURNING id
            """, arguments: [dataset, role.rawValue, path, bytes, sha256, records, run])
        guard let id else { throw StoreError.damaged(table: "source_file", row: "sha256 \(sha256)", reason: "the upsert returned no row") }
        return id
    }

    public static func setRecords(_ db: Database, file: Int64, records: Int) throws {
        try db.execute(sql: "UPDATE source_file SET records = ? WHERE id = ?", arguments: [records, file])
    }
}
