import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What every reader of a user's file checks before opening it: that the path leads to a
/// regular file. A symbolic link that loops or leads nowhere is an error, not an absent file;
/// a folder, a FIFO or a device (`/dev/zero`, `/dev/urandom`) is refused before a read that
/// would never end.
public enum InputFile {
    /// Whether anything is at `path`, a dangling or looping link included.
    public static func isPresent(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Throws `FormatError` naming the file unless `url` leads to a regular file.
    public static func requireRegular(_ url: URL) throws {
        var info = stat()
        guard stat(url.path, &info) == 0 else {
            let cause = errno
            var link = stat()
            if lstat(url.path, &link) == 0, (link.st_mode & S_IFMT) == S_IFLNK {
                throw FormatError(file: url.path, message: cause == ELOOP
                                  ? "cannot be read: it is a symbolic link that loops back on itself"
                                  : "cannot be read: it is a symbolic link to nothing (its target is missing)")
            }
            throw FormatError(file: url.path, message: cause == ENOENT ? "does not exist"
                              : cause == EACCES ? "cannot be read: no permission" : "cannot be read: \(String(cString: strerror(cause)).lowercased())")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw FormatError(file: url.path, message: "is a folder, not a file")
        case S_IFIFO: throw FormatError(file: url.path, message: "is a pipe (FIFO), not a regular file: copy its contents into a file")
        case S_IFCHR, S_IFBLK: throw FormatError(file: url.path, message: "is a device, not a regular file")
        case S_IFSOCK: throw FormatError(file: url.path, message: "is a socket, not a regular file")
        default: throw FormatError(file: url.path, message: "is not a regular file")
        }
    }
}
