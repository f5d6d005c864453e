import FitFormats
import Foundation

/// The model file's sha256, which is part of every encoder identity. Hashing 72 MB costs a
/// quarter of a second, so the result is kept in a sidecar file `<model>.sha256` holding
/// "size mtime sha256", and reused while the file's size and modification time match.
enum ModelDigest {
    static func sha256(ofModelAt path: String, data: Data) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes[.size] as? NSNumber)?.intValue ?? -1
        let mtime = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let stamp = "\(size) \(String(format: "%.6f", mtime))"
        let sidecar = path + ".sha256"
        if let text = try? String(contentsOfFile: sidecar, encoding: .utf8) {
            let parts = text.split(separator: " ")
            if parts.count == 3, "\(parts[0]) \(parts[1])" == stamp, parts[2].count == 64 {
                return String(parts[2])
            }
        }
        let digest = data.withUnsafeBytes { SHA256.digest($0).hexString }
        try? "\(stamp) \(digest)".write(toFile: sidecar, atomically: true, encoding: .utf8)
        return digest
    }
}
