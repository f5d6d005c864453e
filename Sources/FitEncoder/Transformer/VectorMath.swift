/// Vectorized exp and erf for the softmax and GELU hot loops (scalar expf/erff per element
/// cost more than all the matrix products on long texts).
enum VectorMath {
    typealias V = SIMD16<Float>

    /// e^x with relative error < 2e-7 over the float range; x below -87 gives 0.
    @inline(__always)
    static func exp(_ x: V) -> V {
        // pointwiseMin/Max rather than clamped(): the latter checks its bounds lane by lane
        // and costs ~13 ns an element.
        let clamped = pointwiseMin(pointwiseMax(x, V(repeating: -87.3)), V(repeating: 88.3))
        // x = n ln2 + r, |r| <= ln2 / 2, with ln2 split in two for precision.
        // n = round(x / ln2), kept both as a float and, through the same 1.5 x 2^23 shift,
        // as the integer in the low mantissa bits (no float-to-int conversion needed).
        let shifted = clamped * 1.442_695_040_888_963_4 + 12_582_912
        let n = shifted - 12_582_912
        var r = clamped - n * 0.693_145_751_953_125
        r = r - n * 1.428_606_765_330_187_0e-6
        // exp(r) by its Taylor polynomial to degree 7 (Horner).
        var p = V(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // Scale by 2^n through the exponent bits.
        let bits = (unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        let scaled = p * unsafeBitCast(bits, to: V.self)
        return x.replacing(with: 0, where: x .< -87.3)
            .replacing(with: scaled, where: x .>= -87.3)
    }

    /// Round to nearest (ties to even) for |x| < 2^22 by adding and removing 1.5 x 2^23:
    /// plain SSE2 arithmetic, where `rounded()` would fall back to a libm call per lane
    /// on the baseline x86-64 target.
    @inline(__always)
    static func roundToNearest(_ x: V) -> V {
        let magic = V(repeating: 12_582_912)
        return (x + magic) - magic
    }

    @inline(__always)
    static func abs(_ x: V) -> V {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: V.self)
    }

    /// erf(x) with absolute error < 1.5e-7 (Abramowitz and Stegun 7.1.26).
    @inline(__always)
    static func erf(_ x: V) -> V {
        let a = Self.abs(x)
        let t = 1 / (1 + 0.327_591_1 * a)
        var y = V(repeating: 1.061_405_429)
        y = y * t - 1.453_152_027
        y = y * t + 1.421_413_741
        y = y * t - 0.284_496_736
        y = y * t + 0.254_829_592
        y = 1 - y * t * Self.exp(-a * a)
        return y.replacing(with: -y, where: x .< 0)
    }
}
