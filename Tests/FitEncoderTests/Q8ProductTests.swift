@testable import FitEncoder
import FitFormats
import Foundation
import Testing

/// The int8 product: every path gives the same bits, each row its own result whatever else is
/// in the call, within a derived bound of the float64 value; its rounding of activations is the
/// built-in encoder's Q8 rounding.
@Suite struct Q8ProductTests {
    static func random(_ n: Int, _ rng: inout SplitMix64, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in scale * Float(rng.nextGaussian()) }
    }

    /// Shapes of e5-small's products (384 -> 1152, 1536 -> 384) and an output count that is
    /// not a multiple of the 16-output group.
    static let shapes = [(outputs: 1152, inputs: 384), (outputs: 384, inputs: 1536), (outputs: 37, inputs: 64)]

    /// Each path's result against the float64 sum of the same block terms. The path computes
    /// d = fl(sa·sw) (relative error ≤ u) and adds d·s with one rounding per block (fma), so
    /// |y − y64| ≤ Σ_b |term_b|·((blocks + 1)·u) · (1 + small): the bound below, with u = 2⁻²⁴.
    @Test func everyPathGivesTheSameBitsWithinTheDerivedBoundOfFloat64() throws {
        var rng = SplitMix64(seed: 27)
        for (outputs, inputs) in Self.shapes {
            // Two whole panels of 32 rows and a part of one (Q8Product.c runs a panel's tiles
            // against one group of weights at a time; the VNNI path's sums start from values
            // made per panel), the last tile short of a whole one.
            let rows = 71
            let x = Self.random(rows * inputs, &rng, scale: 3)
            let wf = Self.random(outputs * inputs, &rng, scale: 0.05)
            let bias = Self.random(outputs, &rng)
            let (qa, sa) = Q8Product.quantize(x, rows: rows, width: inputs)
            let (qw, sw) = Q8Product.quantize(wf, rows: outputs, width: inputs)
            let w = try Q8Weights(weights: qw, scales: sw, outputs: outputs, inputs: inputs, bias: bias)
            var results: [Q8Product.Path: [Float]] = [:]
            for path in Q8Product.Path.allCases where path.rawValue <= Q8Product.best.rawValue {
                var y = [Float](repeating: .nan, count: rows * outputs)
                qa.withUnsafeBufferPointer { q in
                    sa.withUnsafeBufferPointer { s in
                        y.withUnsafeMutableBufferPointer { Q8Product.apply(w, q: q.baseAddress!, scales: s.baseAddress!, rows: rows, into: $0.baseAddress!, path: path) }
                    }
                }
                results[path] = y
            }
            let portable = try #require(results[.portable])
            for (path, y) in results {
                #expect(y.map(\.bitPattern) == portable.map(\.bitPattern), "\(path) differs from the portable path at \(outputs) x \(inputs)")
            }
            let blocks = inputs / 32, u = Double(Float.ulpOfOne) / 2
            for r in 0..<rows {
                for o in 0..<outputs {
                    var exact = Double(bias[o]), magnitude = 0.0
                    for b in 0..<blocks {
                        var s = 0
                        for i in 0..<32 { s += Int(qa[r * inputs + b * 32 + i]) * Int(qw[o * inputs + b * 32 + i]) }
                        let term = Double(sa[r * blocks + b]) * Double(sw[o * blocks + b]) * Double(s)
                        exact += term
                        magnitude += abs(term)
                    }
                    // The bias add is one more rounding of the result.
                    let bound = (Double(blocks + 2) * u * 1.01) * (magnitude + abs(Double(bias[o])))
                    #expect(abs(Double(portable[r * outputs + o]) - exact) <= bound, "row \(r) output \(o)")
                }
            }
        }
    }

    /// A row's result is the same whether it is computed alone or among others.
    @Test func aRowsResultDoesNotDependOnTheOtherRows() throws {
        var rng = SplitMix64(seed: 5)
        let (outputs, inputs, rows) = (48, 96, 41)  // past the first panel of 32 rows
        let (qa, sa) = Q8Product.quantize(Self.random(rows * inputs, &rng), rows: rows, width: inputs)
        let w = try Q8Weights(quantizing: Self.random(outputs * inputs, &rng), outputs: outputs, inputs: inputs)
        var all = [Float](repeating: 0, count: rows * outputs), one = [Float](repeating: 0, count: outputs)
        Q8Product.apply(w, q: qa, scales: sa, rows: rows, into: &all)
        for r in 0..<rows {
            Q8Product.apply(w, q: Array(qa[(r * inputs)..<((r + 1) * inputs)]), scales: Array(sa[(r * 3)..<((r + 1) * 3)]), rows: 1, into: &one)
            #expect(one.map(\.bitPattern) == all[(r * outputs)..<((r + 1) * outputs)].map(\.bitPattern), "row \(r)")
        }
    }

    /// q·d is what the built-in encoder's Q8 rounding of activations gives, bit for bit, so an
    /// int8 product on them multiplies the numbers the float path multiplies.
    @Test func theRoundingIsTheEncodersQ8Rounding() {
        var rng = SplitMix64(seed: 9)
        var x = Self.random(40 * 64, &rng, scale: 4)
        for i in 0..<32 { x[64 + i] = 0 }  // a block of zeros
        x[200] = 1e-30
        let (q, s) = Q8Product.quantize(x, rows: 40, width: 64)
        var rounded = [Float](repeating: 0, count: x.count)
        x.withUnsafeBufferPointer { Kernels.quantizeQ8Rows($0.baseAddress!, rows: 40, width: 64, into: &rounded) }
        for i in x.indices {
            #expect((Float(q[i]) * s[i / 32]).bitPattern == rounded[i].bitPattern, "value \(i)")
            #expect(q[i] != -128)
        }
    }

    /// The rounding of activations gives the same bits on every path, the edge cases included:
    /// ties (halves round to even), a block of zeros, subnormals, infinities and NaN (which
    /// the portable path's fmaxf leaves out of the maximum and clamps to -127).
    @Test func everyRoundingPathGivesTheSameBits() {
        var rng = SplitMix64(seed: 31)
        let rows = 9, width = 96
        var x = Self.random(rows * width, &rng, scale: 5)
        for i in 0..<32 { x[i] = Float(i % 8) - 3.5 }  // halves
        x[31] = 127  // so that the block's step is exactly 1
        for i in 32..<64 { x[i] = 0 }
        x[70] = .leastNonzeroMagnitude
        x[100] = .infinity
        x[140] = -.infinity
        x[180] = .nan
        x[200] = -.nan
        for i in 224..<256 { x[i] = .nan }
        var results: [Q8Product.Path: ([Int8], [UInt32])] = [:]
        for path in Q8Product.Path.allCases where path.rawValue <= Q8Product.best.rawValue {
            var q = [Int8](repeating: 99, count: rows * width), s = [Float](repeating: .nan, count: rows * width / 32)
            x.withUnsafeBufferPointer { x in
                Q8Product.quantize(x.baseAddress!, rows: rows, width: width, into: &q, scales: &s, path: path)
            }
            results[path] = (q, s.map(\.bitPattern))
        }
        // With column multipliers (the smoothing of int8 folder models): one more rounding,
        // the same on every path, and the same as multiplying first.
        let multipliers = (0..<width).map { Float(1 + $0 % 7) * 0.37 }
        let multiplied = x.indices.map { x[$0] * multipliers[$0 % width] }
        var plain = [Int8](repeating: 0, count: rows * width), plainScales = [Float](repeating: 0, count: rows * width / 32)
        multiplied.withUnsafeBufferPointer { Q8Product.quantize($0.baseAddress!, rows: rows, width: width, into: &plain, scales: &plainScales, path: .portable) }
        for path in Q8Product.Path.allCases where path.rawValue <= Q8Product.best.rawValue {
            var q = [Int8](repeating: 99, count: rows * width), s = [Float](repeating: .nan, count: rows * width / 32)
            x.withUnsafeBufferPointer { x in
                multipliers.withUnsafeBufferPointer { m in
                    Q8Product.quantize(x.baseAddress!, rows: rows, width: width, multipliers: m.baseAddress, into: &q, scales: &s, path: path)
                }
            }
            #expect(q == plain && s.map(\.bitPattern) == plainScales.map(\.bitPattern), "\(path) with multipliers")
        }
        let portable = results[.portable]
        #expect(portable?.0[0..<32].map { Int($0) } == [-4, -2, -2, 0, 0, 2, 2, 4, -4, -2, -2, 0, 0, 2, 2, 4,
                                                       -4, -2, -2, 0, 0, 2, 2, 4, -4, -2, -2, 0, 0, 2, 2, 127])
        #expect(portable?.0.contains(-128) == false)
        for (path, result) in results {
            #expect(result.0 == portable?.0 && result.1 == portable?.1, "the \(path) rounding differs from the portable one")
        }
    }

    /// The load-time weight rounding: in every block no more squared error than plain
    /// max-scaled rounding (that rounding is one of its candidates, and the least-squares step
    /// only lowers the error of its integers), and less in all.
    @Test func weightRoundingLeavesNoMoreErrorThanPlainRounding() {
        var rng = SplitMix64(seed: 41)
        var w = Self.random(64 * 96, &rng, scale: 0.05)
        for i in stride(from: 5, to: w.count, by: 97) { w[i] *= 12 }  // outliers
        for i in 0..<32 { w[i] = 0 }
        let (qp, sp) = Q8Product.quantize(w, rows: 64, width: 96)
        let (ql, sl) = Q8Product.quantizeWeights(w, rows: 64, width: 96)
        var plainTotal = 0.0, fittedTotal = 0.0
        for b in 0..<(w.count / 32) {
            var plain = 0.0, fitted = 0.0
            for i in (b * 32)..<(b * 32 + 32) {
                plain += pow(Double(w[i]) - Double(qp[i]) * Double(sp[b]), 2)
                fitted += pow(Double(w[i]) - Double(ql[i]) * Double(sl[b]), 2)
            }
            // The search compares float32 sums: allow their rounding (32 terms, relative 2^-24 each).
            #expect(fitted <= plain * (1 + 64 * Double(Float.ulpOfOne)) + 1e-30, "block \(b): \(fitted) > \(plain)")
            #expect(!ql[(b * 32)..<(b * 32 + 32)].contains(-128))
            plainTotal += plain; fittedTotal += fitted
        }
        #expect(fittedTotal < 0.95 * plainTotal, "least squares \(fittedTotal) vs plain \(plainTotal)")
    }

    /// An outlier column kept in float32: the product is then closer to the exact one than
    /// with every column rounded to int8, by a wide margin; the float column's term is added
    /// the same way whatever rows share the call.
    @Test func anOutlierColumnKeptInFloatHelps() throws {
        var rng = SplitMix64(seed: 43)
        let (rows, outputs, inputs) = (64, 37, 128)
        var x = Self.random(rows * inputs, &rng)
        for r in 0..<rows { x[r * inputs + 37] *= 20 }  // one loud column, as BERT has
        let wf = Self.random(outputs * inputs, &rng, scale: 0.1)
        let bias = Self.random(outputs, &rng)
        let maxima = (0..<inputs).map { j in (0..<rows).map { abs(x[$0 * inputs + j]) }.max() ?? 0 }
        #expect(Q8Weights.outlierColumns(maxima, count: 1) == [37])
        let plain = try Q8Weights(quantizing: wf, outputs: outputs, inputs: inputs, bias: bias)
        let kept = try Q8Weights(keepingInFloat: [37], weights: wf, outputs: outputs, inputs: inputs, bias: bias)
        func product(_ w: Q8Weights, rows: Range<Int>) -> [Float] {
            var q = [Int8](repeating: 0, count: rows.count * inputs), s = [Float](repeating: 0, count: rows.count * inputs / 32)
            var y = [Float](repeating: 0, count: rows.count * outputs)
            let part = Array(x[(rows.lowerBound * inputs)..<(rows.upperBound * inputs)])
            part.withUnsafeBufferPointer { Q8Product.project(w, $0.baseAddress!, rows: rows.count, q: &q, scales: &s, into: &y) }
            return y
        }
        func error(_ y: [Float]) -> Double {
            var e = 0.0
            for r in 0..<rows {
                for o in 0..<outputs {
                    var exact = Double(bias[o])
                    for j in 0..<inputs { exact += Double(x[r * inputs + j]) * Double(wf[o * inputs + j]) }
                    e += pow(Double(y[r * outputs + o]) - exact, 2)
                }
            }
            return e
        }
        let all = product(kept, rows: 0..<rows)
        let plainError = error(product(plain, rows: 0..<rows)), keptError = error(all)
        #expect(keptError < 0.25 * plainError, "float column \(keptError) vs all int8 \(plainError)")
        for r in [0, 17, 63] {
            #expect(product(kept, rows: r..<(r + 1)).map(\.bitPattern) == all[(r * outputs)..<((r + 1) * outputs)].map(\.bitPattern), "row \(r)")
        }
        #expect(throws: Q8Weights.Refused.self) {
            try Q8Weights(keepingInFloat: [128], weights: wf, outputs: outputs, inputs: inputs, bias: nil)
        }
    }

    /// The float columns' terms are what `multiply` promises, bit for bit, on every path: each
    /// output starts from the int8 product (bias included) and takes one fused multiply-add per
    /// float column, in column order. 75 outputs and 5 rows reach every part of the tiled
    /// store (whole groups of 16 outputs in 8 lanes, a partial group of 11 in the scalar loop;
    /// a tile of 5 rows on VNNI, of 4 and then 1 on AVX2), and each row gets the same bits
    /// alone.
    @Test func floatColumnsAddInColumnOrderWhateverTheTiling() throws {
        var rng = SplitMix64(seed: 44)
        let (rows, outputs, inputs) = (5, 75, 96)
        let x = Self.random(rows * inputs, &rng)
        let wf = Self.random(outputs * inputs, &rng, scale: 0.1)
        let bias = Self.random(outputs, &rng)
        let columns = [2, 31, 32, 50, 95]
        let w = try Q8Weights(keepingInFloat: columns, weights: wf, outputs: outputs, inputs: inputs, bias: bias)
        var q = [Int8](repeating: 0, count: rows * inputs), s = [Float](repeating: 0, count: rows * inputs / 32)
        var int8Only = [Float](repeating: 0, count: rows * outputs)
        var y = [Q8Product.Path: [Float]]()
        x.withUnsafeBufferPointer { xp in
            Q8Product.quantize(xp.baseAddress!, rows: rows, for: w, into: &q, scales: &s)
            Q8Product.apply(w, q: q, scales: s, rows: rows, into: &int8Only)
            for path in Q8Product.Path.allCases {
                var out = int8Only.map { _ in Float.nan }
                Q8Product.multiply(w, xp.baseAddress!, rows: rows, q: q, scales: s, into: &out, path: path)
                y[path] = out
            }
        }
        var expected = int8Only
        for r in 0..<rows {
            for o in 0..<outputs {
                for (c, j) in columns.enumerated() {
                    expected[r * outputs + o] = expected[r * outputs + o].addingProduct(x[r * inputs + j], wf[o * inputs + j])
                    #expect(w.floatWeights[c * outputs + o] == wf[o * inputs + j])
                }
            }
        }
        for path in Q8Product.Path.allCases {
            #expect(y[path]?.map(\.bitPattern) == expected.map(\.bitPattern), "\(path) (on this CPU: \(min(path.rawValue, Q8Product.best.rawValue)))")
        }
        for r in 0..<rows {
            var alone = [Float](repeating: 0, count: outputs)
            Array(x[(r * inputs)..<((r + 1) * inputs)]).withUnsafeBufferPointer { xp in
                Array(q[(r * inputs)..<((r + 1) * inputs)]).withUnsafeBufferPointer { qp in
                    Array(s[(r * inputs / 32)..<((r + 1) * inputs / 32)]).withUnsafeBufferPointer { sp in
                        Q8Product.multiply(w, xp.baseAddress!, rows: 1, q: qp.baseAddress!, scales: sp.baseAddress!, into: &alone)
                    }
                }
            }
            #expect(alone.map(\.bitPattern) == expected[(r * outputs)..<((r + 1) * outputs)].map(\.bitPattern), "row \(r)")
        }
    }

    @Test func badWeightsAreRefused() {
        // Float weights that are not finite: no trap on the way, a refusal at packing.
        for bad: Float in [.nan, .infinity, -.infinity] {
            var w = [Float](repeating: 0.5, count: 64)
            w[40] = bad
            let (q, s) = Q8Product.quantizeWeights(w, rows: 1, width: 64)
            #expect(s[1].isNaN && q[32..<64].allSatisfy { $0 == 0 } && s[0].isFinite, "\(bad)")
            #expect(throws: Q8Weights.Refused.self) { try Q8Weights(keepingInFloat: [3], weights: w, outputs: 1, inputs: 64, bias: nil) }
        }
        #expect(Q8Weights.outlierColumns([1, .nan, 3, 2], count: 2) == [1, 2])
        #expect(throws: Q8Weights.Refused.self) { try Q8Weights(weights: [Int8](repeating: 1, count: 40), scales: [1, 1], outputs: 1, inputs: 40) }
        #expect(throws: Q8Weights.Refused.self) { try Q8Weights(weights: [-128] + [Int8](repeating: 0, count: 31), scales: [1], outputs: 1, inputs: 32) }
        #expect(throws: Q8Weights.Refused.self) { try Q8Weights(weights: [Int8](repeating: 0, count: 32), scales: [.nan], outputs: 1, inputs: 32) }
        #expect(throws: Q8Weights.Refused.self) { try Q8Weights(weights: [Int8](repeating: 0, count: 32), scales: [1, 1], outputs: 1, inputs: 32) }
    }
}
