/// Reads a model's flat Float buffer (a checkpoint blob) front to back, refusing what a model
/// cannot be built from: a buffer too short, or a count or index that is not a whole number in
/// range. `Int(Float)` traps on NaN or out-of-range values; a byte of a store must never reach
/// that, so every integer read here goes through `Int(exactly:)`.
struct _FlatReader {
    let values: [Float]
    private(set) var position = 0

    init(_ values: [Float]) { self.values = values }

    var remaining: Int { values.count - position }

    mutating func value(_ what: @autoclosure () -> String) throws -> Float {
        guard position < values.count else { throw _FlatReaderError(reason: "truncated at value \(position) (\(what()))") }
        defer { position += 1 }
        return values[position]
    }

    /// A whole number within `range`.
    mutating func integer(_ what: @autoclosure () -> String, in range: ClosedRange<Int>) throws -> Int {
        let v = try value(what())
        guard let i = Int(exactly: v), range.contains(i) else {
            throw _FlatReaderError(reason: "\(what()) is \(v) at value \(position - 1), not a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return i
    }

    /// The next `count` values as they are.
    mutating func slice(_ count: Int, _ what: @autoclosure () -> String) throws -> ArraySlice<Float> {
        guard count >= 0, count <= remaining else {
            throw _FlatReaderError(reason: "truncated: \(what()) needs \(count) values, \(remaining) left")
        }
        defer { position += count }
        return values[position..<(position + count)]
    }
}

struct _FlatReaderError: Error {
    let reason: String
}
