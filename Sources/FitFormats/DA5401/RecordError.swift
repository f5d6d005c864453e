/// A record that cannot be ingested, named by file, record (0-based index: the first record
/// is record 0, as `test_id - 1` counts) and field.
public struct RecordError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let record: Int?
    public let field: String?
    public let message: String

    public init(file: String, record: Int?, field: String?, message: String) {
        self.file = file
        self.record = record
        self.field = field
        self.message = message
    }

    public var description: String {
        var parts = [file]
        if let record { parts.append("record \(record) (0-based)") }
        if let field { parts.append("field '\(field)'") }
        return parts.joined(separator: ": ") + ": " + message
    }
}
