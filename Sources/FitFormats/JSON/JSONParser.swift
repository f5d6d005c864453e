import Foundation

/// A byte-level recursive-descent JSON parser over a refillable buffer (RFC 8259).
///
/// Why our own: Foundation's JSONSerialization needs the whole document in memory and then
/// several times its size in objects; ingest must stream files of hundreds of megabytes.
/// The parser keeps one chunk plus the value being read.
final class JSONParser {
    private var buffer: [UInt8]
    private var index = 0
    /// Bytes dropped from the front of `buffer` so far, and the newlines among them.
    private var discardedBytes = 0
    private var discardedNewlines = 0
    private var lastNewlineOffset = -1
    private let refill: () throws -> [UInt8]?
    private var exhausted = false
    private var scratch: [UInt8] = []
    let file: String
    static let maximumDepth = 512

    init(file: String, initial: [UInt8] = [], refill: @escaping () throws -> [UInt8]?) {
        self.file = file
        self.buffer = initial
        self.refill = refill
        scratch.reserveCapacity(4096)
    }

    // MARK: Buffer

    /// The next byte without consuming it; nil at end of input.
    @inline(__always)
    func peek() throws -> UInt8? {
        if index < buffer.count { return buffer[index] }
        return try slowPeek()
    }

    /// Reading stops with an error past this byte offset (`readLimitReason` says why): a
    /// record of a stream may not grow without bound.
    var readLimit = Int.max
    var readLimitReason = ""

    private func slowPeek() throws -> UInt8? {
        while index >= buffer.count {
            if exhausted { return nil }
            if discardedBytes + buffer.count > readLimit { throw error(readLimitReason) }
            guard let chunk = try refill(), !chunk.isEmpty else { exhausted = true; return nil }
            noteDiscard(upTo: index)
            buffer.removeFirst(index)
            index = 0
            buffer.append(contentsOf: chunk)
        }
        return buffer[index]
    }

    private func noteDiscard(upTo end: Int) {
        var i = 0
        while i < end {
            if buffer[i] == UInt8(ascii: "\n") {
                discardedNewlines += 1
                lastNewlineOffset = discardedBytes + i
            }
            i += 1
        }
        discardedBytes += end
    }

    var byteOffset: Int { discardedBytes + index }

    func error(_ message: String) -> JSONSyntaxError {
        var line = discardedNewlines + 1
        var lastNewline = lastNewlineOffset
        var i = 0
        while i < min(index, buffer.count) {
            if buffer[i] == UInt8(ascii: "\n") { line += 1; lastNewline = discardedBytes + i }
            i += 1
        }
        return JSONSyntaxError(file: file, line: line, column: byteOffset - lastNewline,
                               byteOffset: byteOffset, message: message)
    }

    private func describe(_ byte: UInt8?) -> String {
        guard let byte else { return "end of input" }
        if byte >= 0x20 && byte < 0x7f { return "'\(Character(Unicode.Scalar(byte)))'" }
        return String(format: "byte 0x%02X", byte)
    }

    func skipWhitespace() throws {
        while let b = try peek() {
            switch b {
            case 0x20, 0x0a, 0x0d, 0x09: index += 1
            default: return
            }
        }
    }

    /// Skips a UTF-8 byte-order mark at the very start, which some editors write.
    func skipByteOrderMark() throws {
        guard byteOffset == 0, try peek() == 0xEF else { return }
        for expected: UInt8 in [0xEF, 0xBB, 0xBF] {
            guard try peek() == expected else { throw error("invalid byte at start of file") }
            index += 1
        }
    }

    func expect(_ byte: UInt8, _ what: String) throws {
        let b = try peek()
        guard b == byte else { throw error("expected \(what), found \(describe(b))") }
        index += 1
    }

    func consume(ifNext byte: UInt8) throws -> Bool {
        if try peek() == byte { index += 1; return true }
        return false
    }

    func atEnd() throws -> Bool { try peek() == nil }

    func unexpected(_ context: String) throws -> JSONSyntaxError {
        error("\(context), found \(describe(try peek()))")
    }

    // MARK: Values

    func parseValue(depth: Int = 0) throws -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth) levels") }
        try skipWhitespace()
        guard let b = try peek() else { throw error("expected a value, found end of input") }
        switch b {
        case UInt8(ascii: "{"): return .object(try parseObject(depth: depth))
        case UInt8(ascii: "["): return .array(try parseArray(depth: depth))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("expected a value, found \(describe(b))")
        }
    }

    private func literal(_ word: StaticString) throws {
        let start = byteOffset
        for expected in UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount) {
            guard try peek() == expected else {
                throw error("invalid literal starting at byte \(start) (expected \(word))")
            }
            index += 1
        }
    }

    private func parseObject(depth: Int) throws -> JSONObject {
        index += 1  // {
        var object = JSONObject()
        var seen = Set<String>()
        try skipWhitespace()
        if try consume(ifNext: UInt8(ascii: "}")) { return object }
        while true {
            try skipWhitespace()
            guard try peek() == UInt8(ascii: "\"") else { throw try unexpected("expected a member name") }
            let key = try parseString()
            guard seen.insert(key).inserted else { throw error("duplicate member name \"\(key)\"") }
            try skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after member name \"\(key)\"")
            let value = try parseValue(depth: depth + 1)
            object.append(key, value)
            try skipWhitespace()
            if try consume(ifNext: UInt8(ascii: ",")) { continue }
            if try consume(ifNext: UInt8(ascii: "}")) { return object }
            throw try unexpected("expected ',' or '}' in object")
        }
    }

    private func parseArray(depth: Int) throws -> [JSONValue] {
        index += 1  // [
        var values: [JSONValue] = []
        try skipWhitespace()
        if try consume(ifNext: UInt8(ascii: "]")) { return values }
        while true {
            values.append(try parseValue(depth: depth + 1))
            try skipWhitespace()
            if try consume(ifNext: UInt8(ascii: ",")) { continue }
            if try consume(ifNext: UInt8(ascii: "]")) { return values }
            throw try unexpected("expected ',' or ']' in array")
        }
    }

    private func parseNumber() throws -> String {
        scratch.removeAll(keepingCapacity: true)
        func digits() throws -> Int {
            var n = 0
            while let b = try peek(), b >= 0x30, b <= 0x39 { scratch.append(b); index += 1; n += 1 }
            return n
        }
        if try peek() == UInt8(ascii: "-") { scratch.append(UInt8(ascii: "-")); index += 1 }
        if try peek() == UInt8(ascii: "0") {
            scratch.append(UInt8(ascii: "0")); index += 1
            if let b = try peek(), b >= 0x30, b <= 0x39 { throw error("leading zero in number") }
        } else if try digits() == 0 {
            throw try unexpected("expected a digit")
        }
        if try peek() == UInt8(ascii: ".") {
            scratch.append(UInt8(ascii: ".")); index += 1
            guard try digits() > 0 else { throw try unexpected("expected a digit after '.'") }
        }
        if let b = try peek(), b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
            scratch.append(b); index += 1
            if let s = try peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { scratch.append(s); index += 1 }
            guard try digits() > 0 else { throw try unexpected("expected a digit in exponent") }
        }
        return String(decoding: scratch, as: UTF8.self)
    }

    func parseString() throws -> String {
        let start = byteOffset
        index += 1  // opening quote
        scratch.removeAll(keepingCapacity: true)
        while true {
            // Fast path: copy a run of plain bytes from the buffer.
            let runStart = index
            while index < buffer.count {
                let b = buffer[index]
                if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { break }
                index += 1
            }
            if index > runStart { scratch.append(contentsOf: buffer[runStart..<index]) }
            guard let b = try peek() else { throw error("unterminated string starting at byte \(start)") }
            switch b {
            case UInt8(ascii: "\""):
                index += 1
                guard let string = String(validating: scratch, as: UTF8.self) else {
                    throw error("string starting at byte \(start) is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                index += 1
                try parseEscape()
            case 0..<0x20:
                throw error("unescaped control character \(String(format: "0x%02X", b)) in string")
            default:
                continue  // the buffer was refilled; keep copying
            }
        }
    }

    private func parseEscape() throws {
        guard let e = try peek() else { throw error("unterminated escape sequence") }
        index += 1
        switch e {
        case UInt8(ascii: "\""): scratch.append(0x22)
        case UInt8(ascii: "\\"): scratch.append(0x5C)
        case UInt8(ascii: "/"): scratch.append(0x2F)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard try consume(ifNext: UInt8(ascii: "\\")), try consume(ifNext: UInt8(ascii: "u")) else {
                    throw error("unpaired surrogate \\u\(String(scalar, radix: 16, uppercase: true))")
                }
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error("invalid low surrogate \\u\(String(low, radix: 16, uppercase: true))")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw error("unpaired surrogate \\u\(String(scalar, radix: 16, uppercase: true))")
            }
            scratch.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
        default:
            index -= 1
            throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
        }
    }

    private func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let h = try peek() else { throw error("unterminated \\u escape") }
            let digit: UInt32
            switch h {
            case 0x30...0x39: digit = UInt32(h - 0x30)
            case 0x41...0x46: digit = UInt32(h - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(h - 0x61 + 10)
            default: throw error("invalid hex digit \(describe(h)) in \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
