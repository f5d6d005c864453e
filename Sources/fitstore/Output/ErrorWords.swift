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
        DatabaseErrorWords.sentence(for: error, path: storePath)
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
