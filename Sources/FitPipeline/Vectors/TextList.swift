import FitFormats
import FitStore
import Foundation

/// `fitstore texts --missing`: the texts in use that lack a vector under an encoder, one JSON
/// object a line, `{"sha256": "<hex of the text's UTF-8>", "text": "..."}`, for embedding
/// elsewhere and bringing back with `fitstore vectors import`. Streamed: memory holds one
/// text at a time; written to a temporary name and renamed at the end.
public struct TextList {
    let store: Store

    public init(store: Store) { self.store = store }

    /// Writes the texts missing under `name` (every text in use when the store has no such
    /// encoder) to `out`; returns how many.
    public func writeMissing(encoder name: String, builtInKey: () throws -> String, to out: URL) throws -> Int {
        let file = try OutputFile(out, store: store.path)
        var count = 0
        try store.read { db in
            let key: String
            do {
                key = try EncoderChoice.key(db, name: name, builtInKey: builtInKey)
            } catch PipelineError.unknownEncoder {
                key = EncoderChoice.importedKey(name)
            }
            var buffer = Data()
            try TextVectors.forEachMissing(db, key: key) { _, sha256, body in
                buffer.append(contentsOf: "{\"sha256\": \"\(sha256)\", \"text\": \(JSONQuoting.quote(body))}\n".utf8)
                count += 1
                if buffer.count > 1 << 20 { try file.append(buffer); buffer.removeAll(keepingCapacity: true) }
            }
            try file.append(buffer)
        }
        try file.commit()
        return count
    }
}
