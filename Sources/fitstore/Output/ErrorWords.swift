import FitPipeline
import FitStore
import Foundation
import GRDB

/// Errors in words: what went wrong, naming the path, and what to do. No raw "SQLite error
/// N" or Cocoa error domain reaches the user.
enum ErrorWords {
    /// The store the running command opened (for messages about it).
    nonisolated(unsafe) static var storePath: String?

    static func message(for error: any Error) -> String? {
        if let database = error as? DatabaseError { return words(for: database) }
        let ns = error as NSError
        if ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain {
            let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path ?? "a file"
            return "\(path): " + OutputFile.reason(error, folder: URL(fileURLWithPath: path).deletingLastPathComponent().path)
        }
        return nil
    }

    static func words(for error: DatabaseError) -> String {
        let path = storePath ?? "the store"
        let folder = storePath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "its folder"
        switch error.resultCode {
        case .SQLITE_CANTOPEN:
            return "cannot open \(path): \(folder) does not exist or cannot be written (SQLite keeps two files beside the store); use --store with a path in a writable folder"
        case .SQLITE_READONLY:
            return "\(path) is read-only here (the file or \(folder) cannot be written): reading commands work; this one needs write permission"
        case .SQLITE_FULL:
            return "the disk holding \(path) is full: free some space and run the command again (what was committed before is kept)"
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return "\(path) is locked by another program writing to it: wait for it to finish and run the command again"
        case .SQLITE_IOERR:
            return "could not read or write \(path) (an input/output error): check the disk and the file"
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return "\(path) is damaged or not a fitstore store (the file's bytes are not a database SQLite can read)"
        case .SQLITE_PERM, .SQLITE_AUTH:
            return "no permission to use \(path): check its owner and mode"
        default:
            // A constraint or a statement error is a fault of ours, not the user's: say
            // what it was without the SQL.
            return "\(path): the store refused a change (\(error.message ?? "\(error.resultCode)")); the command changed nothing"
        }
    }
}

/// A store this process created for a command that then failed: removed, so a failed
/// `ingest` or `run` into a new path leaves no empty store behind.
enum CreatedStore {
    nonisolated(unsafe) static var path: String?

    static func removeIfEmpty() {
        guard let path else { return }
        let empty = (try? Store(path: path, access: .readOnly).read { try Dataset.names($0).isEmpty }) ?? true
        guard empty else { return }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
