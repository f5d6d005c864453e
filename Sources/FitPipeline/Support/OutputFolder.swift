import CFitSystem
import FitFormats
import FitStore
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A folder of files that appears whole or not at all: the files are written into a hidden
/// sibling (`.NAME.PID.part/`), which then takes the final name in one step, an atomic
/// exchange with the old folder where one exists (Linux `renameat2`), so a reader of the
/// final name sees the old export or the whole new one, never a mix. Where the exchange is
/// not available, the old folder is first moved aside (`.NAME.PID.old/`): a kill between the
/// two renames leaves no folder under the final name, never a mixed one.
///
/// The folder must be fitstore's own: a new path, an empty folder, or one holding only the
/// files this writer writes (a previous export). A folder holding anything else is refused,
/// because replacing it would delete the user's files. Leftover siblings of dead processes
/// are removed when the next writer of that folder starts.
public final class OutputFolder {
    public let url: URL
    /// Where the files are written until `commit`.
    public let staging: URL
    private var committed = false

    /// `names`: every file this writer may put in the folder.
    public init(_ url: URL, names: Set<String>, store: String?, option: String = "--out") throws {
        let url = url.standardizedFileURL
        self.url = url
        let pid = ProcessInfo.processInfo.processIdentifier
        staging = Self.sibling(of: url, pid: pid, suffix: "part")
        if let store {
            try OutputGuard.check(url, store: store, option: option)
            for name in names { try OutputGuard.check(url.appendingPathComponent(name), store: store, option: option) }
        }
        let fm = FileManager.default
        let parent = url.deletingLastPathComponent()
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: parent.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw FormatError(file: url.path, message: "cannot write it: the folder \(parent.path) does not exist")
        }
        if fm.fileExists(atPath: url.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw FormatError(file: url.path, message: "cannot write it: it is a file, and \(option) takes a folder")
            }
            let present = try fm.contentsOfDirectory(atPath: url.path)
            // Temporary files an older fitstore left inside its export folder count as its own.
            let foreign = present.filter { name in
                !names.contains(name) && !names.contains { name.hasPrefix(".\($0).") && name.hasSuffix(".part") }
            }.sorted()
            if !foreign.isEmpty {
                throw FormatError(file: url.path, message: "cannot write it: the folder holds files fitstore did not write there ("
                                  + foreign.prefix(3).joined(separator: ", ") + (foreign.count > 3 ? ", ..." : "")
                                  + "), and an export replaces its whole folder; choose a new or empty folder")
            }
        }
        Self.removeStaleSiblings(of: url)
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw FormatError(file: url.path, message: OutputFile.reason(error, folder: parent.path))
        }
    }

    /// The path of file `name` while it is being written.
    public func file(_ name: String) -> URL { staging.appendingPathComponent(name) }

    /// Puts the written folder under the final name, replacing the old one in one step.
    public func commit() throws {
        KillPoint.reach("export.staged")
        let fm = FileManager.default
        do {
            // Everything on disk before it becomes visible under the final name.
            for name in try fm.contentsOfDirectory(atPath: staging.path) {
                let fd = open(staging.appendingPathComponent(name).path, O_RDONLY)
                if fd >= 0 { fsync(fd); close(fd) }
            }
            if !fm.fileExists(atPath: url.path) {
                try posix(rename(staging.path, url.path))
            } else if fitstore_rename_exchange(staging.path, url.path) == 0 {
                // The old folder now sits under the staging name.
                try? fm.removeItem(at: staging)
            } else {
                let old = Self.sibling(of: url, pid: ProcessInfo.processInfo.processIdentifier, suffix: "old")
                try posix(rename(url.path, old.path))
                try posix(rename(staging.path, url.path))
                try? fm.removeItem(at: old)
            }
            committed = true
        } catch {
            throw FormatError(file: url.path, message: OutputFile.reason(error, folder: url.deletingLastPathComponent().path))
        }
    }

    deinit {
        if !committed { try? FileManager.default.removeItem(at: staging) }
    }

    private func posix(_ result: Int32) throws {
        guard result == 0 else { throw NSError(domain: NSPOSIXErrorDomain, code: Int(errno), userInfo: [NSFilePathErrorKey: url.path]) }
    }

    static func sibling(of url: URL, pid: Int32, suffix: String) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(pid).\(suffix)")
    }

    /// Removes `.NAME.PID.part` and `.NAME.PID.old` folders whose process is gone.
    static func removeStaleSiblings(of url: URL) {
        let parent = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent)."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            for suffix in [".part", ".old"] where name.hasSuffix(suffix) {
                let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
                guard let pid = Int32(middle), pid != ProcessInfo.processInfo.processIdentifier,
                      !OutputFile.processIsAlive(pid) else { continue }
                try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
            }
        }
    }
}
