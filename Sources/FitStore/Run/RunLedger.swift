import Foundation
import GRDB

/// Begins and finishes run rows: the lineage spine every written row points to.
public enum RunLedger {
    public enum Status: String, Sendable { case running, succeeded, failed }

    /// Inserts a run in status `running` and returns its id.
    public static func begin(_ db: Database, kind: String, parameters: some Encodable) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO run (kind, parameters, code_version, started_at, status) VALUES (?, ?, ?, ?, 'running')",
            arguments: [kind, try JSONText.encode(parameters), FitstoreVersion.codeVersion, Timestamp.now()])
        return db.lastInsertedRowID
    }

    public static func finish(_ db: Database, run id: Int64, status: Status = .succeeded,
                              counts: some Encodable, message: String? = nil) throws {
        try db.execute(
            sql: "UPDATE run SET status = ?, ended_at = ?, counts = ?, message = ? WHERE id = ?",
            arguments: [status.rawValue, Timestamp.now(), try JSONText.encode(counts), message, id])
    }

    /// Runs left in `running` by a process that died: marks them failed so they do not look
    /// live. Called by long commands before they start (their finished batches stay).
    public static func markInterrupted(_ db: Database, kind: String) throws -> Int {
        try db.execute(
            sql: "UPDATE run SET status = 'failed', message = 'interrupted (process ended before finishing)' WHERE kind = ? AND status = 'running'",
            arguments: [kind])
        return db.changesCount
    }
}

/// Canonical JSON text for JSON columns: sorted keys, no escaping of '/'.
public enum JSONText {
    public static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
