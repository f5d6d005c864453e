@testable import FitEncoder
import FitFormats
import Foundation
import Testing

/// Checks the BLAS-packed forward pass against a plain, loop-by-loop implementation of the
/// same equations written independently here.
@Suite struct ForwardPassTests {
    static func naiveMeanPooled(_ ids: [Int32], _ w: [String: [Float]]) -> [Float] {
        let H = SyntheticModel.hidden, FF = SyntheticModel.ffn, NH = SyntheticModel.heads, hd = H / NH
        let L = ids.count
        func layerNorm(_ v: [Float], _ g: [Float], _ b: [Float]) -> [Float] {
            let mean = v.reduce(0, +) / Float(v.count)
            let variance = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(v.count)
            return v.indices.map { (v[$0] - mean) / (variance + 1e-12).squareRoot() * g[$0] + b[$0] }
        }
        func linear(_ x: [Float], _ W: [Float], _ b: [Float], _ out: Int) -> [Float] {
            (0..<out).map { o in b[o] + x.indices.reduce(Float(0)) { $0 + x[$1] * W[o * x.count + $1] } }
        }
        var x: [[Float]] = ids.enumerated().map { p, id in
            layerNorm((0..<H).map { w["emb.word"]![Int(id) * H + $0] + w["emb.pos"]![p * H + $0] + w["emb.type"]![$0] },
                      w["emb.ln.w"]!, w["emb.ln.b"]!)
        }
        for l in 0..<SyntheticModel.layers {
            func t(_ n: String) -> [Float] { w["l\(l).\(n)"]! }
            let q = x.map { linear($0, t("q.w"), t("q.b"), H) }
            let k = x.map { linear($0, t("k.w"), t("k.b"), H) }
            let v = x.map { linear($0, t("v.w"), t("v.b"), H) }
            var ctx = [[Float]](repeating: [Float](repeating: 0, count: H), count: L)
            for i in 0..<L {
                for h in 0..<NH {
                    var s = (0..<L).map { j in (0..<hd).reduce(Float(0)) { $0 + q[i][h * hd + $1] * k[j][h * hd + $1] } / Float(hd).squareRoot() }
                    let m = s.max()!
                    s = s.map { Foundation.exp($0 - m) }
                    let z = s.reduce(0, +)
                    for e in 0..<hd { ctx[i][h * hd + e] = (0..<L).reduce(Float(0)) { $0 + s[$1] / z * v[$1][h * hd + e] } }
                }
            }
            x = (0..<L).map { i in layerNorm(zip(x[i], linear(ctx[i], t("ao.w"), t("ao.b"), H)).map(+), t("aln.w"), t("aln.b")) }
            x = x.map { row in
                let mid = linear(row, t("fi.w"), t("fi.b"), FF).map { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot().float)) }
                return layerNorm(zip(row, linear(mid, t("fo.w"), t("fo.b"), H)).map(+), t("oln.w"), t("oln.b"))
            }
        }
        return (0..<H).map { i in x.reduce(Float(0)) { $0 + $1[i] } / Float(L) }
    }

    @Test func packedBatchMatchesNaiveImplementation() throws {
        let (path, weights) = try SyntheticModel.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let encoder = try TransformerEncoder(ModelFile(path: path), quantizeActivations: false)
        Threads.configure(2)
        let sequences: [[Int32]] = [[0, 5, 7, 2], [0, 9, 2], [0, 4, 6, 7, 8, 10, 11, 12, 13, 2], [0, 2]]
        let packed = encoder.meanPooled(sequences)
        for (s, ids) in sequences.enumerated() {
            let expected = Self.naiveMeanPooled(ids, weights)
            let diff = zip(packed[s], expected).map { abs($0 - $1) }.max()!
            #expect(diff < 2e-4, "sequence \(s): max abs difference \(diff)")
        }
        // Packing must not leak between sequences: alone or together, the same result.
        let alone = encoder.meanPooled([sequences[2]])[0]
        #expect(zip(alone, packed[2]).map { abs($0 - $1) }.max()! < 1e-5)
    }

    @Test func vectorExpAndErfAreAccurate() {
        var worstExp: Float = 0, worstErf: Float = 0
        for i in stride(from: -2000, to: 2000, by: 16) {
            let x = SIMD16<Float>((0..<16).map { Float(i + $0) / 100 })
            let e = VectorMath.exp(x), f = VectorMath.erf(x)
            for l in 0..<16 {
                worstExp = max(worstExp, abs(e[l] - Foundation.exp(x[l])) / Foundation.exp(x[l]))
                worstErf = max(worstErf, Float(abs(Double(f[l]) - Foundation.erf(Double(x[l])))))
            }
        }
        #expect(worstExp < 5e-7 && worstErf < 1.2e-7, "exp rel \(worstExp), erf abs \(worstErf) (one ulp near 1 is 1.2e-7)")
        #expect(VectorMath.exp(SIMD16(repeating: -100))[0] == 0)
    }

    /// LayerNorm(x + residual) runs four rows' sums side by side and its elementwise passes in
    /// vectors; every value must still be what the plain row-by-row loop gives, bit for bit
    /// (sums in element order, one rounding per step, no fused operation): any row count
    /// (whole groups of four and the rest), widths with and without a partial vector, with and
    /// without a residual.
    @Test func layerNormRowsAreThePlainLoopsBitForBit() {
        var rng = SplitMix64(seed: 45)
        for width in [8, 20, 384] {
            for rows in [1, 3, 4, 5, 9] {
                for withResidual in [false, true] {
                    let x = (0..<(rows * width)).map { _ in Float(rng.nextGaussian()) * 3 + 0.5 }
                    let residual = (0..<(rows * width)).map { _ in Float(rng.nextGaussian()) }
                    let weight = (0..<width).map { _ in Float(rng.nextGaussian()) }, bias = (0..<width).map { _ in Float(rng.nextGaussian()) }
                    let eps: Float = 1e-12
                    var expected = x
                    for r in 0..<rows {
                        var mean: Float = 0
                        for i in 0..<width {
                            if withResidual { expected[r * width + i] += residual[r * width + i] }
                            mean += expected[r * width + i]
                        }
                        mean /= Float(width)
                        var variance: Float = 0
                        for i in 0..<width { let d = expected[r * width + i] - mean; variance += d * d }
                        variance /= Float(width)
                        let inv = 1 / (variance + eps).squareRoot()
                        for i in 0..<width { expected[r * width + i] = (expected[r * width + i] - mean) * inv * weight[i] + bias[i] }
                    }
                    var got = x
                    got.withUnsafeMutableBufferPointer { g in
                        residual.withUnsafeBufferPointer { res in
                            Kernels.addLayerNormRows(g.baseAddress!, withResidual ? res.baseAddress! : nil, rows: rows, width: width,
                                                     weight: weight, bias: bias, eps: eps)
                        }
                    }
                    #expect(got.map(\.bitPattern) == expected.map(\.bitPattern), "width \(width), rows \(rows), residual \(withResidual)")
                }
            }
        }
    }
}

extension Double {
    fileprivate var float: Float { Float(self) }
}
