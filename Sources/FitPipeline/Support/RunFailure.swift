import FitStore
import GRDB

extension Store {
    /// Runs `body` for a run that is already begun; when it throws, the run is marked failed
    /// with the error (in a transaction of its own: what the run committed before stays)
    /// and the error goes on. A command that fails never leaves its run 'succeeded' or
    /// 'running'. (When even that write fails, say on a full disk, the run stays 'running'
    /// and the next writer marks it failed once this process is gone.)
    func failingRun<T>(_ run: Int64, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            // The cause in words, as the user reads it (no "SQLite error N" in the ledger).
            let cause = (error as? DatabaseError).map { DatabaseErrorWords.sentence(for: $0, path: path) } ?? "\(error)"
            try? write { try RunLedger.fail($0, run: run, message: cause) }
            throw error
        }
    }

    /// Runs `body`, a step that begins its run inside its one transaction. When the store
    /// itself fails it (a full disk, an input/output error, a lock held too long), the
    /// transaction rolls back with the run in it, so a failed run is recorded in a
    /// transaction of its own, with the cause in words. Input the step refuses leaves the
    /// store as it was, without a run.
    func recordingFailure<T>(kind: String, parameters: some Encodable, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError where Self.environmental.contains(error.resultCode.primaryResultCode.rawValue) {
            let cause = DatabaseErrorWords.sentence(for: error, path: path)
            try? write { try RunLedger.recordFailed($0, kind: kind, parameters: parameters, message: cause) }
            throw error
        }
    }

    /// One write transaction for a step that begins its run inside it (`recordingFailure`).
    func write<T>(recordingFailureOf kind: String, parameters: some Encodable, _ body: (Database) throws -> T) throws -> T {
        try recordingFailure(kind: kind, parameters: parameters) { try write(body) }
    }

    /// Failures of the disk or of other programs, not of the input.
    static let environmental: Set<Int32> = [ResultCode.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_CANTOPEN].map(\.rawValue).reduce(into: []) { $0.insert($1) }
}
