import FitFormats
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written under a temporary name beside its final one and renamed into place at the
/// end (`commit`), so a killed or failed command never leaves a partial file under the final
/// name. Errors name the path and say what to do.
///
/// Every file fitstore writes goes through here, and so through two checks made before any
/// work: `OutputGuard` (the path is not the store or one of its companion files, nor a link to
/// one) and a look at what the path holds now (an SQLite database or write-ahead log is never
/// replaced: no output of fitstore is one, so replacing one is always a mistake, whichever
/// store it belongs to). Temporary files of processes that died before renaming theirs
/// (`.NAME.PID.part`) are removed when the next writer of that name starts.
public final class OutputFile {
    public let url: URL
    let staging: URL
    private var committed = false
    private var handle: FileHandle?

    /// `store`: the store the command works on, when it has one; `option`: the option that gave
    /// the path, for messages.
    public init(_ url: URL, store: String?, option: String = "--out") throws {
        self.url = url
        staging = Self.stagingURL(for: url, pid: ProcessInfo.processInfo.processIdentifier)
        try Self.check(url, store: store, option: option)
        let folder = url.deletingLastPathComponent()
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw FormatError(file: url.path, message: "cannot write it: the folder \(folder.path) does not exist")
        }
        Self.removeStaleParts(of: url)
    }

    /// The checks `init` makes, for commands that check before they start working (a path is
    /// refused before an hour of training, not after).
    public static func check(_ url: URL, store: String?, option: String = "--out") throws {
        if let store { try OutputGuard.check(url, store: store, option: option) }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) {
            if isFolder.boolValue {
                throw FormatError(file: url.path, message: "cannot write it: it is a folder (\(option) takes a file path)")
            }
            if let kind = sqliteKind(url.path) {
                throw FormatError(file: url.path, message: "cannot write it: it holds \(kind), which \(option) would destroy; "
                                  + "nothing was written, choose another path")
            }
        }
    }

    /// Writes all of `data` to the temporary file.
    public func write(_ data: Data) throws {
        do {
            try data.write(to: staging)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw FormatError(file: url.path, message: OutputFile.reason(error, folder: url.deletingLastPathComponent().path))
        }
    }

    /// Appends `data` to the temporary file (for outputs written piece by piece).
    public func append(_ data: Data) throws {
        do {
            if handle == nil {
                guard FileManager.default.createFile(atPath: staging.path, contents: nil) else {
                    throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: staging.path])
                }
                handle = try FileHandle(forWritingTo: staging)
            }
            try handle?.write(contentsOf: data)
        } catch {
            try? handle?.close()
            handle = nil
            try? FileManager.default.removeItem(at: staging)
            throw FormatError(file: url.path, message: OutputFile.reason(error, folder: url.deletingLastPathComponent().path))
        }
    }

    /// Moves the temporary file to the final name (replacing what was there): one rename, so
    /// the final name holds the old file or the whole new one, never a part.
    public func commit() throws {
        do {
            if let handle {
                try handle.synchronize()
                try handle.close()
                self.handle = nil
            } else if !FileManager.default.fileExists(atPath: staging.path) {
                try Data().write(to: staging)
            }
            guard rename(staging.path, url.path) == 0 else {
                throw NSError(domain: NSPOSIXErrorDomain, code: Int(errno), userInfo: [NSFilePathErrorKey: url.path])
            }
            committed = true
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw FormatError(file: url.path, message: OutputFile.reason(error, folder: url.deletingLastPathComponent().path))
        }
    }

    deinit {
        try? handle?.close()
        if !committed { try? FileManager.default.removeItem(at: staging) }
    }

    /// `.NAME.PID.part` beside `url`.
    static func stagingURL(for url: URL, pid: Int32) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(pid).part")
    }

    /// Removes the temporary files of `url` left by processes that are gone (killed between
    /// writing and renaming). A live process's file is left alone.
    static func removeStaleParts(of url: URL) {
        let folder = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent)."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".part") {
            let middle = name.dropFirst(prefix.count).dropLast(".part".count)
            guard let pid = Int32(middle), pid != ProcessInfo.processInfo.processIdentifier, !processIsAlive(pid) else { continue }
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    static func processIsAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// What an existing file is when it is an SQLite database or write-ahead log, by its
    /// first bytes; nil otherwise.
    static func sqliteKind(_ path: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: 16) else { return nil }
        if head.count == 16 && head.elementsEqual(Array("SQLite format 3".utf8) + [0]) { return "an SQLite database" }
        if head.count >= 4 {
            let magic = head.prefix(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            if magic == 0x377f_0682 || magic == 0x377f_0683 { return "an SQLite write-ahead log" }
        }
        return nil
    }

    /// One sentence for a file system error: what went wrong and what to do.
    public static func reason(_ error: any Error, folder: String) -> String {
        let ns = error as NSError
        let code = (ns.userInfo[NSUnderlyingErrorKey] as? NSError)?.code ?? ns.code
        switch code {
        case Int(EACCES), Int(EPERM), CocoaError.fileWriteNoPermission.rawValue:
            return "cannot write it: no permission to write in \(folder) (choose another path)"
        case Int(EROFS), CocoaError.fileWriteVolumeReadOnly.rawValue:
            return "cannot write it: \(folder) is on a read-only file system (choose another path)"
        case Int(ENOSPC), CocoaError.fileWriteOutOfSpace.rawValue:
            return "cannot write it: the disk is full (free some space and run the command again)"
        case Int(EISDIR):
            return "cannot write it: it is a folder"
        case Int(ENOTDIR):
            return "cannot write it: part of the path is a file, not a folder"
        default:
            let posix = (ns.userInfo[NSUnderlyingErrorKey] as? NSError).flatMap { $0.domain == NSPOSIXErrorDomain ? $0.code : nil }
                ?? (ns.domain == NSPOSIXErrorDomain ? ns.code : nil)
            if let posix { return "cannot write it: \(String(cString: strerror(Int32(posix))).lowercased())" }
            return "cannot write it: the system refused (\(ns.localizedFailureReason ?? "error \(ns.code)"))"
        }
    }
}
