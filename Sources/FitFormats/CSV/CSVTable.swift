import Foundation

/// A small CSV file read whole (RFC 4180: comma-separated, fields optionally in double quotes
/// with "" for a quote inside, CRLF or LF line ends, a UTF-8 byte-order mark ignored). Made
/// for label and metadata files of a few thousand lines; each row remembers its line number
/// so an error can name it.
public struct CSVTable: Sendable {
    public struct Row: Sendable {
        /// 1-based line of the file where the row starts.
        public let line: Int
        public let fields: [String]
    }

    public let path: String
    public let header: [String]
    public let rows: [Row]

    public init(path: String) throws {
        do { try InputFile.requireRegular(URL(fileURLWithPath: path)) } catch let error as FormatError {
            throw CSVError(path: path, line: nil, message: error.message)
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CSVError(path: path, line: nil, message: "cannot be read (\(error.localizedDescription))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CSVError(path: path, line: nil, message: "is not UTF-8 text")
        }
        try self.init(text: text, path: path)
    }

    public init(text: String, path: String) throws {
        self.path = path
        var records: [Row] = []
        var field = "", fields: [String] = []
        var inQuotes = false, fieldWasQuoted = false
        var line = 1, recordLine = 1
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var i = 0
        func endRecord() {
            fields.append(field)
            // A blank line is no record.
            if !(fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted) { records.append(Row(line: recordLine, fields: fields)) }
            field = ""; fields = []; fieldWasQuoted = false
        }
        while i < scalars.count {
            let c = scalars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < scalars.count, scalars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 1 } else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                guard field.isEmpty else {
                    throw CSVError(path: path, line: line, message: "a double quote inside an unquoted field")
                }
                inQuotes = true
                fieldWasQuoted = true
            } else if c == "," {
                fields.append(field); field = ""; fieldWasQuoted = false
            } else if c == "\n" || c == "\r" {
                if c == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
                endRecord()
                line += 1
                recordLine = line
            } else {
                field.unicodeScalars.append(c)
            }
            i += 1
        }
        if inQuotes { throw CSVError(path: path, line: recordLine, message: "a quoted field is not closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }
        guard let first = records.first else { throw CSVError(path: path, line: nil, message: "is empty: no header line") }
        header = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        rows = Array(records.dropFirst())
        for row in rows where row.fields.count != header.count {
            throw CSVError(path: path, line: row.line, message: "has \(row.fields.count) fields where the header has \(header.count)")
        }
    }

    /// The index of the header column named `name` (case-insensitive), or nil.
    public func column(_ name: String) -> Int? {
        header.firstIndex { $0.caseInsensitiveCompare(name) == .orderedSame }
    }
}

/// A CSV file that cannot be read as a table, with the line where that shows.
public struct CSVError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let line: Int?
    public let message: String

    public var description: String { "\(path)\(line.map { ", line \($0)" } ?? ""): \(message)" }
}
