/// A record that cannot be ingested, named by file, 0-based record index and field.
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
        if let record { parts.append("record \(record)") }
        if let field { parts.append("field '\(field)'") }
        return parts.joined(separator: ": ") + ": " + message
    }
}
