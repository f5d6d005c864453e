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
}
