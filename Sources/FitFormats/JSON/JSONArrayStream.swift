import Foundation

/// Reads a file holding one JSON array, one element at a time, in bounded memory.
///
///     let stream = try JSONArrayStream(contentsOf: url)
///     while let (index, record) = try stream.next() { ... }
///
/// The whole file is checked: a syntax error anywhere, or bytes after the closing bracket,
/// throw `JSONSyntaxError` when reached.
public final class JSONArrayStream {
    private let parser: JSONParser
    private let handle: FileHandle
    private var nextIndex = 0
    private var finished = false
    public static let chunkSize = 1 << 20
    /// The most bytes one record may span: DA5401 records are kilobytes; a record of 64 MB
    /// is a damaged or hostile file, refused before it fills memory.
    public static let maximumRecordBytes = 64 << 20

    public init(contentsOf url: URL, chunkSize: Int = JSONArrayStream.chunkSize) throws {
        try InputFile.requireRegular(url)
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw FormatError(file: url.path, message: "cannot open file: \(error.localizedDescription)")
        }
        let handle = self.handle
        parser = JSONParser(file: url.path) {
            guard let data = try handle.read(upToCount: chunkSize), !data.isEmpty else { return nil }
            return [UInt8](data)
        }
        try parser.skipByteOrderMark()
        try parser.skipWhitespace()
        guard try parser.peek() == UInt8(ascii: "[") else {
            throw try parser.unexpected("expected a JSON array of records ('[')")
        }
        try parser.expect(UInt8(ascii: "["), "'['")
    }

    deinit { try? handle.close() }

    /// Bytes consumed so far, for progress reports.
    public var bytesRead: Int { parser.byteOffset }

    /// The next element with its 0-based index, or nil after the last one.
    public func next() throws -> (index: Int, value: JSONValue)? {
        if finished { return nil }
        try parser.skipWhitespace()
        if nextIndex == 0 {
            if try parser.consume(ifNext: UInt8(ascii: "]")) { try finish(); return nil }
        } else {
            if try parser.consume(ifNext: UInt8(ascii: "]")) { try finish(); return nil }
            guard try parser.consume(ifNext: UInt8(ascii: ",")) else {
                throw try parser.unexpected("expected ',' or ']' after record \(nextIndex - 1)")
            }
        }
        parser.readLimit = parser.byteOffset + Self.maximumRecordBytes
        parser.readLimitReason = "record \(nextIndex) is longer than \(Self.maximumRecordBytes >> 20) MB: not a record of this format"
        let value = try parser.parseValue(depth: 1)
        parser.readLimit = .max
        defer { nextIndex += 1 }
        return (nextIndex, value)
    }

    private func finish() throws {
        finished = true
        try parser.skipWhitespace()
        guard try parser.atEnd() else { throw try parser.unexpected("expected end of file after the array") }
    }
}
