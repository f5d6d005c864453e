import FitFormats
import Foundation

/// sha256 and size of a file, read in chunks.
enum FileDigest {
    static func of(_ url: URL) throws -> (hex: String, bytes: Int) {
        try InputFile.requireRegular(url)
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw FormatError(file: url.path, message: "cannot open file: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var total = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
            total += chunk.count
        }
        return (hasher.finalize().hexString, total)
    }
}
