/// Per-feature histogram bins for tree learning: ascending cut points, so that bin b of a
/// feature holds the values in (cut[b-1], cut[b]] and the last bin everything above the last
/// cut. A split "bin <= b" is the split "value <= cut[b]" on raw values, which is what a
/// stored tree uses.
public struct FeatureBins: Sendable {
    public let cuts: [[Float]]

    /// Cut points from the given rows of x (row-major, `width` columns): distinct values each
    /// get their own bin while there are at most `bins` of them; otherwise cuts fall at equal
    /// row counts, between distinct values.
    public init(x: [Float], width: Int, rows: [Int], bins: Int) {
        precondition(bins >= 2 && bins <= 256)
        var cuts: [[Float]] = []
        cuts.reserveCapacity(width)
        var column = [Float](repeating: 0, count: rows.count)
        for f in 0..<width {
            for (i, r) in rows.enumerated() { column[i] = x[r * width + f] }
            column.sort()
            var distinct: [Float] = []
            for v in column where distinct.last != v { distinct.append(v) }
            var c: [Float] = []
            if distinct.count <= bins {
                for i in 1..<max(1, distinct.count) { c.append(Self.midpoint(distinct[i - 1], distinct[i])) }
            } else {
                let n = column.count
                for k in 1..<bins {
                    let i = k * n / bins
                    guard i > 0, i < n, column[i - 1] < column[i] else { continue }
                    let cut = Self.midpoint(column[i - 1], column[i])
                    if c.last.map({ $0 < cut }) ?? true { c.append(cut) }
                }
            }
            cuts.append(c)
        }
        self.cuts = cuts
    }

    static func midpoint(_ a: Float, _ b: Float) -> Float {
        let m = a + (b - a) / 2
        return m < b ? m : a
    }

    /// The bin of `value` in feature `f`: the first cut at or above it.
    @inline(__always) public func bin(_ value: Float, feature f: Int) -> UInt8 {
        let c = cuts[f]
        var lo = 0, hi = c.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if value <= c[mid] { hi = mid } else { lo = mid + 1 }
        }
        return UInt8(lo)
    }

    /// Column-major bins of the given rows: result[f * rows.count + i] is the bin of row rows[i].
    public func binned(x: [Float], width: Int, rows: [Int]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * rows.count)
        for f in 0..<width {
            let base = f * rows.count
            for (i, r) in rows.enumerated() { out[base + i] = bin(x[r * width + f], feature: f) }
        }
        return out
    }
}
