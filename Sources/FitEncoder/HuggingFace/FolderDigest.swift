import FitFormats
import Foundation

/// A model folder's digest: sha256 over "path NUL sha256-of-file LF" for each file that
/// makes the model (configs, tokenizer, weights), in the folder's order.
///
/// Nothing is written into the user's folder: a caller that keeps the stamps of an earlier
/// digest (the store does, in the encoder's config) passes them back, and a file whose size
/// and modification time are unchanged is not hashed again (the 438 MB of an mpnet-base
/// folder take seconds).
public enum FolderDigest {
    public struct Stamp: Codable, Sendable, Equatable {
        public let name: String
        public let size: Int
        public let mtime: Double
        public let sha256: String
    }

    public static func stamps(of folder: HuggingFaceFolder, reusing known: [Stamp] = []) throws -> [Stamp] {
        try folder.files.map { name in
            let path = URL(fileURLWithPath: folder.path).appendingPathComponent(name).path
            let attributes: [FileAttributeKey: Any]
            do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
                throw ModelFolderError(path: path, message: "cannot be read (\(error.localizedDescription))")
            }
            let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
            let mtime = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            if let old = known.first(where: { $0.name == name }), old.size == size, old.mtime == mtime {
                return old
            }
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
                throw ModelFolderError(path: path, message: "cannot be read (\(error.localizedDescription))")
            }
            return Stamp(name: name, size: size, mtime: mtime, sha256: data.withUnsafeBytes { SHA256.digest($0).hexString })
        }
    }

    public static func digest(_ stamps: [Stamp]) -> String {
        var hasher = SHA256()
        for s in stamps {
            hasher.update(s.name)
            hasher.update([0])
            hasher.update(s.sha256)
            hasher.update([10])
        }
        return hasher.finalize().hexString
    }

    public static func sha256(of folder: HuggingFaceFolder, reusing known: [Stamp] = []) throws -> String {
        digest(try stamps(of: folder, reusing: known))
    }
}
