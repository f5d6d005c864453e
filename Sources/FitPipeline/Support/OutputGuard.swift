import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one check every writer of a file or folder makes before it does any work: the output
/// is not the store, nor one of the files SQLite keeps beside it (its write-ahead log, the
/// log's shared-memory index, a rollback journal), nor a symbolic or hard link to any of them.
///
/// Writing a submission onto `fitstore.sqlite` would replace the store with CSV text; writing
/// onto `fitstore.sqlite-wal` would hand SQLite a log it then tries to replay. Both are
/// refused naming the two paths. A file is the same file when it has the same device and
/// inode (a hard link, or a symbolic link followed); a path that does not exist yet is the same
/// when it resolves, through every link of its folders, to the same place.
public enum OutputGuard {
    /// The store's own file and the companions SQLite may create beside it.
    static func storeFiles(_ store: String) -> [(path: String, role: String)] {
        [(store, "the store"), (store + "-wal", "the store's write-ahead log"),
         (store + "-shm", "the store's shared-memory index"), (store + "-journal", "the store's rollback journal")]
    }

    /// Throws `PipelineError.outputIsStore` when `output` is the store at `store` or one of its
    /// companion files. `option` names the option that gave the path (for the message).
    public static func check(_ output: URL, store: String, option: String = "--out") throws {
        try check(output.path, store: store, option: option)
    }

    /// The same, for a path as the user typed it (named so in the message).
    public static func check(_ output: String, store: String, option: String = "--out") throws {
        let outputKey = resolved(output)
        let outputIdentity = identity(output)
        for (file, role) in storeFiles(store) {
            let same: Bool
            if let outputIdentity, let fileIdentity = identity(file) {
                same = outputIdentity == fileIdentity
            } else {
                same = outputKey == resolved(file)
            }
            if same {
                throw PipelineError.outputIsStore(option: option, output: output, store: store, role: role, file: file)
            }
        }
    }

    /// Device and inode of what `path` names, following links; nil when nothing is there.
    static func identity(_ path: String) -> [UInt64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }

    /// The absolute path `path` leads to: every symbolic link followed, including a dangling
    /// one at the end (whose target may be created by the write), `.` and `..` resolved.
    static func resolved(_ path: String) -> String {
        var current = URL(fileURLWithPath: path).standardizedFileURL.path
        for _ in 0..<40 {
            // A link at the end: follow it textually (its target may not exist yet).
            var info = stat()
            if lstat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK,
               let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current) {
                let base = URL(fileURLWithPath: current).deletingLastPathComponent()
                current = (target.hasPrefix("/") ? URL(fileURLWithPath: target) : base.appendingPathComponent(target)).standardizedFileURL.path
                continue
            }
            break
        }
        // The folder: resolved by the system, when it exists.
        let url = URL(fileURLWithPath: current)
        let folder = url.deletingLastPathComponent().path
        guard let real = realpath(folder, nil) else { return current }
        defer { free(real) }
        let realFolder = String(cString: real)
        return (realFolder == "/" ? "" : realFolder) + "/" + url.lastPathComponent
    }
}
