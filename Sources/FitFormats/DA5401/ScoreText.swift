/// Reads a judge score given as a JSON number or a numeric string ("7", "8.0", "10.00").
public enum ScoreText {
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case notNumeric(String)
        case notFinite(String)
        case outOfRange(Double)

        public var description: String {
            switch self {
            case .notNumeric(let text): "\"\(text)\" is not a number"
            case .notFinite(let text): "\"\(text)\" is not a finite number"
            case .outOfRange(let value): "\(value) is outside [0, 10]"
            }
        }
    }

    /// Decimal notation only: an optional sign, digits with an optional fraction, an optional
    /// exponent. Swift's Double(String) also takes "nan", "inf" and hex floats, which a
    /// score file should never hold.
    public static func parse(_ raw: String) throws(Problem) -> Double {
        let text = String(raw.trimmingWhitespace())
        var bytes = Array(text.utf8)[...]
        func digits() -> Int {
            var n = 0
            while let b = bytes.first, b >= 0x30, b <= 0x39 { bytes.removeFirst(); n += 1 }
            return n
        }
        if let b = bytes.first, b == UInt8(ascii: "+") || b == UInt8(ascii: "-") { bytes.removeFirst() }
        var mantissa = digits()
        if bytes.first == UInt8(ascii: ".") {
            bytes.removeFirst()
            mantissa += digits()
        }
        guard mantissa > 0 else { throw .notNumeric(raw) }
        if let b = bytes.first, b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
            bytes.removeFirst()
            if let s = bytes.first, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { bytes.removeFirst() }
            guard digits() > 0 else { throw .notNumeric(raw) }
        }
        guard bytes.isEmpty, let value = Double(text) else { throw .notNumeric(raw) }
        guard value.isFinite else { throw .notFinite(raw) }
        guard value >= 0, value <= 10 else { throw .outOfRange(value) }
        return value
    }
}

