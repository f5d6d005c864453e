/// The header of a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0).
///
/// Facts from NumPy's format specification: magic `\x93NUMPY`, one byte major and one byte
/// minor version, a little-endian header length (u16 in 1.0, u32 in 2.0/3.0), then an ASCII
/// (3.0: UTF-8) Python dict literal with keys `descr`, `fortran_order` and `shape`, padded
/// with spaces and ended by a newline so that the data starts aligned.
public struct NpyHeader: Equatable, Sendable {
    public var descr: String
    public var fortranOrder: Bool
    public var shape: [Int]

    public init(descr: String, fortranOrder: Bool = false, shape: [Int]) {
        self.descr = descr
        self.fortranOrder = fortranOrder
        self.shape = shape
    }

    public var elementCount: Int { shape.reduce(1, *) }

    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Parses the header at the start of `bytes`; returns it with the offset of the data.
    static func parse(_ bytes: [UInt8], file: String) throws -> (NpyHeader, dataOffset: Int) {
        func fail(_ message: String) -> FormatError { FormatError(file: file, message: message) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw fail("not a NumPy .npy file (missing the \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported .npy format version \(major).\(bytes[7]) (supported: 1.0, 2.0, 3.0)")
        }
        guard headerStart + headerLength <= bytes.count else { throw fail("truncated .npy header") }
        guard let text = String(validating: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self) else {
            throw fail(".npy header is not valid text")
        }
        var literal = PythonLiteralParser(text: text, file: file)
        let header = try literal.parseHeaderDict()
        return (header, headerStart + headerLength)
    }

    /// The serialized header (version 1.0 unless it does not fit), data aligned to 64 bytes.
    func serialized() -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        var dict = "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), 'shape': \(shapeText), }"
        let useVersion2 = dict.utf8.count + 12 + 64 > 65_535
        let prefix = useVersion2 ? 12 : 10
        let total = ((prefix + dict.utf8.count + 1 + 63) / 64) * 64
        dict += String(repeating: " ", count: total - prefix - dict.utf8.count - 1) + "\n"
        var out = Self.magic
        out += [useVersion2 ? 2 : 1, 0]
        let length = dict.utf8.count
        out += [UInt8(length & 0xff), UInt8((length >> 8) & 0xff)]
        if useVersion2 { out += [UInt8((length >> 16) & 0xff), UInt8((length >> 24) & 0xff)] }
        out += Array(dict.utf8)
        return out
    }
}

/// Just enough of Python's literal syntax for an .npy header dict.
private struct PythonLiteralParser {
    let chars: [Character]
    var i = 0
    let file: String

    init(text: String, file: String) {
        chars = Array(text)
        self.file = file
    }

    func fail(_ message: String) -> FormatError {
        FormatError(file: file, message: ".npy header: \(message)")
    }

    mutating func skipSpace() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

    mutating func expect(_ c: Character) throws {
        skipSpace()
        guard i < chars.count, chars[i] == c else { throw fail("expected '\(c)'") }
        i += 1
    }

    mutating func consume(_ c: Character) -> Bool {
        skipSpace()
        if i < chars.count, chars[i] == c { i += 1; return true }
        return false
    }

    mutating func string() throws -> String {
        skipSpace()
        guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else { throw fail("expected a quoted string") }
        let quote = chars[i]
        i += 1
        var s = ""
        while i < chars.count, chars[i] != quote { s.append(chars[i]); i += 1 }
        guard i < chars.count else { throw fail("unterminated string") }
        i += 1
        return s
    }

    mutating func word() -> String {
        skipSpace()
        var s = ""
        while i < chars.count, chars[i].isLetter || chars[i].isNumber { s.append(chars[i]); i += 1 }
        return s
    }

    mutating func parseHeaderDict() throws -> NpyHeader {
        try expect("{")
        var descr: String?
        var fortran: Bool?
        var shape: [Int]?
        while !consume("}") {
            let key = try string()
            try expect(":")
            switch key {
            case "descr":
                skipSpace()
                guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else {
                    throw fail("structured dtypes are not supported (descr must be a plain type string such as '<f4')")
                }
                descr = try string()
            case "fortran_order":
                switch word() {
                case "True": fortran = true
                case "False": fortran = false
                default: throw fail("fortran_order must be True or False")
                }
            case "shape":
                try expect("(")
                var dims: [Int] = []
                while !consume(")") {
                    let w = word()
                    guard let n = Int(w), n >= 0 else { throw fail("shape holds a non-integer \(Excerpt.quote(String(w)))") }
                    dims.append(n)
                    _ = consume(",")
                }
                shape = dims
            default:
                throw fail("unexpected key \(Excerpt.quote(String(key)))")
            }
            _ = consume(",")
        }
        guard let descr, let fortran, let shape else { throw fail("missing descr, fortran_order or shape") }
        return NpyHeader(descr: descr, fortranOrder: fortran, shape: shape)
    }
}
