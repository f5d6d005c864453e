import FitFormats
import Foundation

/// A file written under a temporary name beside its final one and renamed into place at the
/// end (`commit`), so a killed or failed command never leaves a partial file under the final
/// name. Errors name the path and say what to do.
public final class OutputFile {
    public let url: URL
    let staging: URL
    private var committed = false

    public init(_ url: URL) throws {
        self.url = url
        staging = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).part")
        let folder = url.deletingLastPathComponent()
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw FormatError(file: url.path, message: "cannot write it: the folder \(folder.path) does not exist")
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

    /// Moves the temporary file to the final name (replacing what was there).
    public func commit() throws {
        do {
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: staging, to: url)
            committed = true
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw FormatError(file: url.path, message: OutputFile.reason(error, folder: url.deletingLastPathComponent().path))
        }
    }

    deinit {
        if !committed { try? FileManager.default.removeItem(at: staging) }
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
        default:
            return "cannot write it: \(ns.localizedDescription)"
        }
    }
}
