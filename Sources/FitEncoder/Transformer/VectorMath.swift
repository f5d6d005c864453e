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
        // exp(r) by its Taylor polynomial to degree 7, Horner steps as fused multiply-adds
        // (`addingProduct`: Swift does not contract `p * r + c` by itself): one instruction
        // and one rounding per step instead of two.
        var p = V(repeating: 1.0 / 5040)
        p = V(repeating: 1.0 / 720).addingProduct(p, r)
        p = V(repeating: 1.0 / 120).addingProduct(p, r)
        p = V(repeating: 1.0 / 24).addingProduct(p, r)
        p = V(repeating: 1.0 / 6).addingProduct(p, r)
        p = V(repeating: 0.5).addingProduct(p, r)
        p = V(repeating: 1).addingProduct(p, r)
        p = V(repeating: 1).addingProduct(p, r)
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

    /// The largest lane of a and b. Folded in halves with selects, which lower to vector
    /// max instructions; `SIMD.max()` is a scalar compare-and-branch loop over 16 lanes
    /// and was most of the time of the Q8 rounding pass. Inputs hold no NaN.
    @inline(__always)
    static func maximum(_ a: V, _ b: V) -> Float {
        let m16 = a.replacing(with: b, where: b .> a)
        let m8 = m16.lowHalf.replacing(with: m16.highHalf, where: m16.highHalf .> m16.lowHalf)
        let m4 = m8.lowHalf.replacing(with: m8.highHalf, where: m8.highHalf .> m8.lowHalf)
        let m2 = m4.lowHalf.replacing(with: m4.highHalf, where: m4.highHalf .> m4.lowHalf)
        return Swift.max(m2[0], m2[1])
    }

    @inline(__always)
    static func abs(_ x: V) -> V {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: V.self)
    }

    /// erf(x) to about one float ulp, in two pieces whose coefficients we fitted (least
    /// squares on Chebyshev nodes, relative error weighting):
    ///   |x| <= 1:      erf(x) = x · P(x²),                 P of degree 6 (fit error 1.3e-9)
    ///   1 < |x|:       erf(x) = 1 - e^{-x²} · Q(t),  t = (min(|x|, 4) - 2.5) / 1.5,
    ///                  Q ≈ erfcx on [1, 4], degree 12 (fit error 6e-9); erf rounds to ±1 past 4.
    @inline(__always)
    static func erf(_ x: V) -> V {
        let a = Self.abs(x)
        let u = x * x
        var p = V(repeating: 7.897490618022735e-05)
        p = V(repeating: -0.0008024124849496414).addingProduct(p, u)
        p = V(repeating: 0.005190025535292886).addingProduct(p, u)
        p = V(repeating: -0.026854792130359944).addingProduct(p, u)
        p = V(repeating: 0.11283611964733066).addingProduct(p, u)
        p = V(repeating: -0.37612628788069113).addingProduct(p, u)
        p = V(repeating: 1.1283791664921252).addingProduct(p, u)
        let small = x * p
        // Most GELU inputs are small: skip the tail piece (and its exp) when no lane needs it.
        if all(a .<= 1) { return small }
        let t = (pointwiseMin(a, V(repeating: 4)) - 2.5) * (1.0 / 1.5)
        var q = V(repeating: 1.2445859914628362e-05)
        for c: Float in [-3.6655595032567504e-05, 5.902009053288049e-05, -0.00014469252806505276, 0.0004099895471669716,
                         -0.0010163827113814988, 0.002404004398884626, -0.005567649596291063, 0.012489175771534772,
                         -0.027005669875884222, 0.05611051653600763, -0.11152100738965295, 0.21080636368931813] {
            q = V(repeating: c).addingProduct(q, t)
        }
        let tail = 1 - Self.exp(-u) * q
        let large = tail.replacing(with: -tail, where: x .< 0)
        return large.replacing(with: small, where: a .<= 1)
    }
}
