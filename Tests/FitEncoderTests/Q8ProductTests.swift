@testable import FitEncoder
import FitFormats
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
            let rows = 23
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
        let (outputs, inputs, rows) = (48, 96, 9)
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

    @Test func badWeightsAreRefused() {
        #expect(throws: Q8Weights.Refused.self) { try Q8Weights(weights: [Int8](repeating: 1, count: 40), scales: [1, 1], outputs: 1, inputs: 40) }
        #expect(throws: Q8Weights.Refused.self) { try Q8Weights(weights: [-128] + [Int8](repeating: 0, count: 31), scales: [1], outputs: 1, inputs: 32) }
        #expect(throws: Q8Weights.Refused.self) { try Q8Weights(weights: [Int8](repeating: 0, count: 32), scales: [.nan], outputs: 1, inputs: 32) }
        #expect(throws: Q8Weights.Refused.self) { try Q8Weights(weights: [Int8](repeating: 0, count: 32), scales: [1, 1], outputs: 1, inputs: 32) }
    }
}
