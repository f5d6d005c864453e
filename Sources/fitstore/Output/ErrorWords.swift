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
            let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
            // Cocoa's read errors are codes 256...511, its write errors 512...1023.
            if ns.domain == NSCocoaErrorDomain, (256...511).contains(ns.code) {
                let reason = switch ns.code {
                case CocoaError.fileReadNoSuchFile.rawValue: "does not exist"
                case CocoaError.fileReadNoPermission.rawValue: "cannot be read: no permission"
                case CocoaError.fileReadCorruptFile.rawValue, CocoaError.fileReadInapplicableStringEncoding.rawValue: "cannot be read: its contents are not what was expected"
                default: "cannot be read (is it a folder, or a file that is not there?)"
                }
                return "\(path ?? "a file the command needed") \(reason)"
            }
            guard let path else { return "a file could not be written: " + OutputFile.reason(error, folder: "its folder") }
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
