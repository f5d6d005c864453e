import Foundation
import GRDB

/// Begins and finishes run rows: the lineage spine every written row points to.
///
/// A run records its process (`ProcessIdentity`). Only a run whose process is gone is marked
/// failed by another (`sweep`), with that cause; a live run of the same kind makes `begin`
/// refuse, so two writers of one kind never work on a store at once (writes are IMMEDIATE
/// transactions, so the check and the insert cannot interleave with another process's).
public enum RunLedger {
    public enum Status: String, Sendable { case running, succeeded, failed }

    /// Inserts a run in status `running` for this process and returns its id. Runs of dead
    /// processes are marked failed first; a live run of the same kind is an error.
    public static func begin(_ db: Database, kind: String, parameters: some Encodable) throws -> Int64 {
        try sweep(db)
        if let live = try Row.fetchOne(db, sql: """
            SELECT id, host, pid FROM run WHERE kind = ? AND status = 'running' ORDER BY id DESC LIMIT 1
            """, arguments: [kind]) {
            let r = live.stored(in: "run")
            throw StoreError.runInProgress(kind: kind, run: try r["id"], pid: try r["pid"], host: try r["host"])
        }
        let me = ProcessIdentity.current
        try db.execute(
            sql: """
                INSERT INTO run (kind, parameters, code_version, started_at, status, host, pid, process_start)
                VALUES (?, ?, ?, ?, 'running', ?, ?, ?)
                """,
            arguments: [kind, try JSONText.encode(parameters), FitstoreVersion.codeVersion, Timestamp.now(),
                        me.host, Int64(me.pid), me.start])
        return db.lastInsertedRowID
    }

    public static func finish(_ db: Database, run id: Int64, status: Status = .succeeded,
                              counts: some Encodable, message: String? = nil) throws {
        try db.execute(
            sql: "UPDATE run SET status = ?, ended_at = ?, counts = ?, message = ? WHERE id = ?",
            arguments: [status.rawValue, Timestamp.now(), try JSONText.encode(counts), message, id])
    }

    /// A run that failed before it could be recorded (its transaction rolled back with it):
    /// inserted as failed, with the cause.
    public static func recordFailed(_ db: Database, kind: String, parameters: some Encodable, message: String) throws {
        let me = ProcessIdentity.current
        let now = Timestamp.now()
        try db.execute(
            sql: """
                INSERT INTO run (kind, parameters, code_version, started_at, ended_at, status, counts, message, host, pid, process_start)
                VALUES (?, ?, ?, ?, ?, 'failed', '{}', ?, ?, ?, ?)
                """,
            arguments: [kind, try JSONText.encode(parameters), FitstoreVersion.codeVersion, now, now, message,
                        me.host, Int64(me.pid), me.start])
    }

    /// Marks a run of this process failed with the error that ended it (what it committed
    /// before stays, and says so in the run's counts).
    public static func fail(_ db: Database, run id: Int64, message: String) throws {
        try db.execute(sql: "UPDATE run SET status = 'failed', ended_at = ?, message = ? WHERE id = ? AND status = 'running'",
                       arguments: [Timestamp.now(), message, id])
    }

    /// Runs left 'running' by processes that are gone (killed, crashed, the machine rebooted):
    /// marked failed, with that cause. Live runs, and runs of other hosts, are left alone.
    /// Returns how many were marked.
    @discardableResult
    public static func sweep(_ db: Database) throws -> Int {
        var marked = 0
        for row in try Row.fetchAll(db, sql: "SELECT id, host, pid, process_start FROM run WHERE status = 'running'") {
            let id: Int64 = try row.stored(in: "run")["id"]
            let pid: Int64? = try row.stored(in: "run")["pid"]
            let identity = ProcessIdentity(host: try row.stored(in: "run")["host"] ?? "", pid: Int32(truncatingIfNeeded: pid ?? -1), start: try row.stored(in: "run")["process_start"])
            // Runs from before migration 8 name no process: they cannot be running now.
            let liveness: ProcessIdentity.Liveness = pid == nil ? .dead : identity.liveness
            guard liveness == .dead else { continue }
            let who = pid.map { "pid \($0) on \(identity.host)" } ?? "its process"
            try db.execute(sql: "UPDATE run SET status = 'failed', message = ? WHERE id = ?",
                           arguments: ["interrupted: \(who) ended before the run finished (killed or crashed); what it committed is kept", id])
            marked += 1
        }
        return marked
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
