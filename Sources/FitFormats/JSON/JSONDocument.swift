import Foundation

/// Whole-document parsing, for the small files (metric names, definitions).
public enum JSONDocument {
    public static func parse(_ bytes: [UInt8], file: String) throws -> JSONValue {
        let parser = JSONParser(file: file, initial: bytes, refill: { nil })
        try parser.skipByteOrderMark()
        let value = try parser.parseValue()
        try parser.skipWhitespace()
        guard try parser.atEnd() else { throw try parser.unexpected("expected end of document") }
        return value
    }

    public static func parse(contentsOf url: URL) throws -> JSONValue {
        try InputFile.requireRegular(url)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FormatError(file: url.path, message: "cannot read file: \(error.localizedDescription)")
        }
        return try parse([UInt8](data), file: url.path)
    }
}
