import FitFormats
import FitStore
import Foundation

/// `fitstore vectors import`: vectors computed elsewhere, stored under an encoder name.
///
/// Row i of the `.npy` (float32, float64 rounded to float32, or float16) is the vector of the text on line i of the keys
/// file (`fitstore texts --missing` writes it; only its "sha256" is read). The first import
/// under a name creates the encoder (source 'imported') and fixes its dimension. Everything
/// is checked before anything is written, and the import is one transaction: a wrong row
/// count, a bad line, a hash the store does not have, a non-finite value or a dimension
/// change is refused with the line or row named, and the store is left as it was. A text
/// that already has a vector under the name keeps it.
public struct VectorImport {
    public struct Report: Sendable {
        public var encoder: String
        public var created: Bool
        public var rows: Int
        public var added: Int
        public var alreadyPresent: Int
        public var dims: Int
        public var runID: Int64
        /// The file's element type (float64 and float16 are converted to float32 on the way in).
        public var dtype: String
    }

    let store: Store

    public init(store: Store) { self.store = store }

    /// The sha256 of every non-blank line of a keys file, checked, with its line number.
    static func readKeys(_ url: URL) throws -> [(sha256: String, line: Int)] {
        let file = url.path
        guard let data = FileManager.default.contents(atPath: file) else {
            throw FormatError(file: file, message: "cannot read the file")
        }
        var keys: [(String, Int)] = []
        for (index, raw) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let line = index + 1
            if raw.allSatisfy({ [UInt8(ascii: " "), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains($0) }) { continue }
            func fail(_ message: String) -> FormatError { FormatError(file: file, message: "line \(line): \(message)") }
            let value: JSONValue
            do { value = try JSONDocument.parse(Array(raw), file: file) } catch { throw fail("not a JSON object (\(error))") }
            guard case .object(let object) = value else { throw fail("expected a JSON object with a \"sha256\" field") }
            guard let field = object["sha256"] else { throw fail("no \"sha256\" field") }
            guard case .string(let hex) = field else { throw fail("\"sha256\" must be a string of 64 hex digits") }
            let lower = hex.lowercased()
            guard lower.utf8.count == 64, lower.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
                throw fail("\"sha256\" must be 64 hex digits, not '\(hex.prefix(80))'")
            }
            keys.append((lower, line))
        }
        return keys
    }

    public func run(encoder name: String, keys keysURL: URL, vectors vectorsURL: URL) throws -> Report {
        let keys = try Self.readKeys(keysURL)
        let matrix = try NpyRows(contentsOf: vectorsURL)
        guard matrix.rows == keys.count else {
            throw FormatError(file: vectorsURL.path, message: "holds \(matrix.rows) rows but \(keysURL.lastPathComponent) has \(keys.count) keys: row i is the vector of line i")
        }
        guard matrix.columns > 0 else { throw FormatError(file: vectorsURL.path, message: "rows of 0 values") }
        var firstLine: [String: Int] = [:]
        for (sha256, line) in keys {
            if let earlier = firstLine[sha256] {
                throw FormatError(file: keysURL.path, message: "lines \(earlier) and \(line) name the same text")
            }
            firstLine[sha256] = line
        }
        return try store.write(recordingFailureOf: "import", parameters: ["encoder": name]) { db in
            var created = false
            let existing = try Encoder.named(db, name)
            if let existing {
                guard existing.source == .imported else {
                    throw PipelineError.encoderNotImported(name: name, source: existing.source.rawValue)
                }
                guard existing.dims == matrix.columns else {
                    throw FormatError(file: vectorsURL.path, message: "rows of \(matrix.columns) values, but encoder \(name) has \(existing.dims) dimensions (fixed by its first import)")
                }
            }
            let ids = try Texts.ids(db, sha256s: keys.map(\.sha256))
            if let unknown = keys.first(where: { ids[$0.sha256] == nil }) {
                throw FormatError(file: keysURL.path, message: "line \(unknown.line): no text in the store has sha256 \(unknown.sha256)")
            }
            struct Parameters: Encodable { let encoder: String; let keys: String; let vectors: String; let rows: Int; let dtype: String }
            let runID = try RunLedger.begin(db, kind: "import", parameters: Parameters(
                encoder: name, keys: keysURL.path, vectors: vectorsURL.path, rows: matrix.rows, dtype: matrix.dtype.name))
            let encoder: Encoder
            if let existing {
                encoder = existing
            } else {
                struct Config: Encodable { let imported_from: String; let dims: Int }
                encoder = try Encoder.register(db, key: EncoderChoice.importedKey(name), kind: .model, source: .imported, name: name,
                                               dims: matrix.columns, config: Config(imported_from: vectorsURL.lastPathComponent, dims: matrix.columns),
                                               run: runID)
                created = true
            }
            let writer = TextVectors(encoder: encoder.id)
            var added = 0
            var batch: [(text: Int64, vector: [Float])] = []
            for (i, key) in keys.enumerated() {
                let vector = matrix.row(i)
                let place = "row \(i) (line \(key.line) of \(keysURL.lastPathComponent))"
                if let bad = vector.firstIndex(where: { !$0.isFinite || $0.magnitude > Float(Float16.greatestFiniteMagnitude) }) {
                    throw FormatError(file: vectorsURL.path, message: "\(place): value \(vector[bad]) at column \(bad) is not a finite value a stored vector can hold")
                }
                if vector.allSatisfy({ $0 == 0 }) {
                    throw FormatError(file: vectorsURL.path, message: "\(place): a zero vector")
                }
                guard let text = ids[key.sha256] else { continue }  // checked above
                batch.append((text, vector))
                if batch.count == 4096 {
                    added += try writer.insert(db, batch, run: runID)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            added += try writer.insert(db, batch, run: runID)
            struct Counts: Encodable { let rows: Int; let added: Int; let already_present: Int }
            try RunLedger.finish(db, run: runID, counts: Counts(rows: keys.count, added: added, already_present: keys.count - added))
            return Report(encoder: name, created: created, rows: keys.count, added: added, alreadyPresent: keys.count - added,
                          dims: matrix.columns, runID: runID, dtype: matrix.dtype.name)
        }
    }
}
