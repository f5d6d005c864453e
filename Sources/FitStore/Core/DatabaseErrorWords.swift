import Foundation
import GRDB

/// SQLite's failures said in words, naming the store and what to do: the CLI prints these,
/// and the run ledger stores them as a failed run's cause, so neither shows "SQLite error N".
public enum DatabaseErrorWords {
    /// One sentence for `error` raised while using the store at `path` (nil: not known).
    public static func sentence(for error: DatabaseError, path: String?) -> String {
        let store = path ?? "the store"
        let folder = path.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "its folder"
        switch error.resultCode {
        case .SQLITE_CANTOPEN:
            return "cannot open \(store): \(folder) does not exist or cannot be written (SQLite keeps two files beside the store); use --store with a path in a writable folder"
        case .SQLITE_READONLY:
            return "\(store) is read-only here (the file or \(folder) cannot be written): reading commands work; this one needs write permission"
        case .SQLITE_FULL:
            return "the disk holding \(store) is full: free some space and run the command again (what was committed before is kept)"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "\(store) is in use by another program (one writing to it, or reading it while this command needed the whole file): wait for it to finish and run the command again"
        case .SQLITE_IOERR:
            return "could not read or write \(store) (an input/output error): check the disk and the file"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return "\(store) is damaged or not a fitstore store (the file's bytes are not a database SQLite can read)"
        case .SQLITE_PERM, .SQLITE_AUTH:
            return "no permission to use \(store): check its owner and mode"
        default:
            // A constraint or a statement error is a fault of ours, not the user's: say
            // what it was without the SQL.
            return "\(store): the store refused a change (\(error.message ?? "\(error.resultCode)")); the command changed nothing"
        }
    }
}
