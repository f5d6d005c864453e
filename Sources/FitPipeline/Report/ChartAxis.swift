import Foundation

/// An axis whose ends are ticks: the data always lies between the lowest and the highest
/// labelled value (a line below its lowest tick, or a bar touching the plot's top, reads as
/// a drawing error).
struct ChartAxis {
    let lo: Double
    let hi: Double
    /// Values (in axis units: log10 of the data on a log axis) and their labels.
    let ticks: [(value: Double, label: String)]
    let logarithmic: Bool

    /// Position of data value `v` in 0...1 along the axis.
    func fraction(_ v: Double) -> Double {
        let t = logarithmic ? log10(max(v, .leastNormalMagnitude)) : v
        return hi > lo ? (t - lo) / (hi - lo) : 0.5
    }

    /// A linear axis over the data range `lo...hi`, widened to whole tick steps. `headroom`
    /// (a share of the range) is added above the data first, so the tallest bar stays below
    /// the top. `fromZero` starts counts and bars at 0.
    static func linear(_ lo: Double, _ hi: Double, count: Int = 5, fromZero: Bool = false, headroom: Double = 0) -> ChartAxis {
        var a = lo.isFinite ? lo : 0, b = hi.isFinite ? hi : 1
        if fromZero { a = min(0, a) }
        if b - a < 1e-12 {
            // A constant: centre it in a small range.
            let pad = max(abs(a) * 0.1, fromZero ? 1 : 0.5)
            (a, b) = fromZero && a >= 0 ? (a, b + pad) : (a - pad, b + pad)
        }
        b += (b - a) * headroom
        let step = niceStep((b - a) / Double(count))
        // Ticks are whole multiples of the step, each computed from its index (no running
        // sum, whose rounding would move the last tick off the axis end).
        var k0 = (a / step).rounded(.down), k1 = (b / step).rounded(.up)
        while k0 * step > a { k0 -= 1 }
        while k1 * step < b { k1 += 1 }
        if k1 <= k0 { k1 = k0 + 1 }
        let ticks: [(Double, String)] = stride(from: k0, through: k1, by: 1).map { k in
            let v = k == 0 ? 0 : k * step
            return (v, label(v, step: step))
        }
        let first = ticks[0].0, last = ticks[ticks.count - 1].0
        return ChartAxis(lo: first, hi: last, ticks: ticks, logarithmic: false)
    }

    /// A log10 axis over positive data `lo...hi`, from the decade at or below the smallest
    /// value to the decade at or above the largest (one decade either side of a constant).
    static func logarithmic(_ lo: Double, _ hi: Double) -> ChartAxis {
        let a = log10(max(lo, .leastNormalMagnitude)), b = log10(max(hi, lo, .leastNormalMagnitude))
        var first = floor(a), last = ceil(b)
        if last <= first { (first, last) = (first - 1, first + 1) }
        let stride = max(1, Int(((last - first) / 6).rounded(.up)))
        let decades = Array(Swift.stride(from: first, through: last, by: Double(stride)))
        // Plain decimals while every label is short, else all as powers of ten.
        let plain = decades.allSatisfy { abs($0) <= 3 }
        let ticks = decades.map { d -> (Double, String) in
            (d, plain ? label(pow(10, d), step: pow(10, d)) : String(format: "1e%d", Int(d)))
        }
        return ChartAxis(lo: first, hi: last, ticks: ticks, logarithmic: true)
    }

    /// The smallest of 1, 2, 2.5, 5 x 10^k at or above `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(raw)))
        return [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw * (1 - 1e-9) } ?? raw
    }

    /// A tick label with as many decimals as the step needs.
    static func label(_ v: Double, step: Double) -> String {
        if v == v.rounded(), abs(v) < 1e7 { return String(Int(v)) }
        let decimals = max(0, min(6, Int(ceil(-log10(step) - 1e-9)) + (step * pow(10, ceil(-log10(step))) == 2.5 ? 1 : 0)))
        return String(format: "%.\(decimals)f", v)
    }
}
