@testable import FitTrain
import FitFormats
import Testing

/// Central finite differences against the hand-written backward passes, per layer and for
/// the whole network (BatchNorm in training mode, dropout with a fixed mask).
@Suite struct GradientCheckTests {
    static func randoms(_ n: Int, _ rng: inout SplitMix64, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) * scale }
    }

    /// |numeric - analytic| <= 2e-3 + 2e-2 |analytic| for every checked component.
    static func agree(_ numeric: Float, _ analytic: Float) -> Bool {
        abs(numeric - analytic) <= 2e-3 + 2e-2 * abs(analytic)
    }

    /// L = Σ w ⊙ f(p): numeric gradient of L with respect to p[i].
    static func numeric(_ p: inout [Float], _ i: Int, eps: Float = 1e-2, _ loss: ([Float]) -> Double) -> Float {
        let saved = p[i]
        p[i] = saved + eps; let plus = loss(p)
        p[i] = saved - eps; let minus = loss(p)
        p[i] = saved
        return Float((plus - minus) / Double(2 * eps))
    }

    static func weighted(_ out: [Float], _ w: [Float]) -> Double {
        zip(out, w).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    @Test func linear() {
        var rng = SplitMix64(seed: 1)
        let (B, I, O) = (5, 7, 4)
        var x = Self.randoms(B * I, &rng), w = Self.randoms(O * I, &rng), b = Self.randoms(O, &rng)
        let up = Self.randoms(B * O, &rng)
        let scratch = Linear.Scratch()
        func run(_ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: B * O)
            Linear.forward(out: &out, inp: x, weight: w, bias: b, batch: B, inputs: I, outputs: O, scratch: scratch)
            return out
        }
        var dx = [Float](repeating: 0, count: B * I), dw = [Float](repeating: 0, count: O * I), db = [Float](repeating: 0, count: O)
        Linear.backward(dinp: &dx, dweight: &dw, dbias: &db, dout: up, inp: x, weight: w, batch: B, inputs: I, outputs: O, scratch: scratch)
        for i in 0..<x.count { #expect(Self.agree(Self.numeric(&x, i) { Self.weighted(run($0, w, b), up) }, dx[i])) }
        for i in 0..<w.count { #expect(Self.agree(Self.numeric(&w, i) { Self.weighted(run(x, $0, b), up) }, dw[i])) }
        for i in 0..<b.count { #expect(Self.agree(Self.numeric(&b, i) { Self.weighted(run(x, w, $0), up) }, db[i])) }
    }

    @Test func batchNormTraining() {
        var rng = SplitMix64(seed: 2)
        let (B, C) = (6, 5)
        var x = Self.randoms(B * C, &rng, scale: 2), g = Self.randoms(C, &rng), be = Self.randoms(C, &rng)
        let up = Self.randoms(B * C, &rng)
        func run(_ x: [Float], _ g: [Float], _ be: [Float]) -> [Float] {
            var out = [Float](repeating: 0, count: B * C), m = [Float](repeating: 0, count: C), r = m
            var rm = m, rv = [Float](repeating: 1, count: C)
            BatchNorm.forward(out: &out, inp: x, gamma: g, beta: be, mean: &m, rstd: &r, runningMean: &rm, runningVar: &rv,
                              batch: B, channels: C, training: true)
            return out
        }
        var m = [Float](repeating: 0, count: C), r = m, rm = m, rv = [Float](repeating: 1, count: C)
        var out = [Float](repeating: 0, count: B * C)
        BatchNorm.forward(out: &out, inp: x, gamma: g, beta: be, mean: &m, rstd: &r, runningMean: &rm, runningVar: &rv,
                          batch: B, channels: C, training: true)
        var dx = [Float](repeating: 0, count: B * C), dg = [Float](repeating: 0, count: C), db = dg
        var s1 = [Float](repeating: .nan, count: C), s2 = s1  // scratch: backward must not read it
        BatchNorm.backward(dinp: &dx, dgamma: &dg, dbeta: &db, dout: up, inp: x, gamma: g, mean: m, rstd: r,
                           sum1: &s1, sum2: &s2, batch: B, channels: C)
        for i in 0..<x.count { #expect(Self.agree(Self.numeric(&x, i, eps: 1e-3) { Self.weighted(run($0, g, be), up) }, dx[i])) }
        for i in 0..<C { #expect(Self.agree(Self.numeric(&g, i) { Self.weighted(run(x, $0, be), up) }, dg[i])) }
        for i in 0..<C { #expect(Self.agree(Self.numeric(&be, i) { Self.weighted(run(x, g, $0), up) }, db[i])) }
        // Running statistics move 10% toward the batch's (unbiased variance).
        let mean0 = (0..<B).map { x[$0 * C] }.reduce(0, +) / Float(B)
        let var0 = (0..<B).map { (x[$0 * C] - mean0) * (x[$0 * C] - mean0) }.reduce(0, +) / Float(B - 1)
        #expect(abs(rm[0] - 0.1 * mean0) < 1e-5 && abs(rv[0] - (0.9 + 0.1 * var0)) < 1e-5)
    }

    @Test func layerNorm() {
        var rng = SplitMix64(seed: 3)
        let (B, C) = (4, 6)
        var x = Self.randoms(B * C, &rng, scale: 2), g = Self.randoms(C, &rng), be = Self.randoms(C, &rng)
        let up = Self.randoms(B * C, &rng)
        func run(_ x: [Float], _ g: [Float], _ be: [Float]) -> ([Float], [Float], [Float]) {
            var out = [Float](repeating: 0, count: B * C), m = [Float](repeating: 0, count: B), r = m
            LayerNorm.forward(out: &out, mean: &m, rstd: &r, inp: x, gamma: g, beta: be, batch: B, channels: C)
            return (out, m, r)
        }
        let (_, m, r) = run(x, g, be)
        var dx = [Float](repeating: 0, count: B * C), dg = [Float](repeating: 0, count: C), db = dg
        LayerNorm.backward(dinp: &dx, dgamma: &dg, dbeta: &db, dout: up, inp: x, gamma: g, mean: m, rstd: r, batch: B, channels: C)
        for i in 0..<x.count { #expect(Self.agree(Self.numeric(&x, i, eps: 1e-3) { Self.weighted(run($0, g, be).0, up) }, dx[i])) }
        for i in 0..<C { #expect(Self.agree(Self.numeric(&g, i) { Self.weighted(run(x, $0, be).0, up) }, dg[i])) }
        for i in 0..<C { #expect(Self.agree(Self.numeric(&be, i) { Self.weighted(run(x, g, $0).0, up) }, db[i])) }
    }

    @Test func reluAndDropout() {
        var rng = SplitMix64(seed: 4)
        let n = 40
        let x = Self.randoms(n, &rng)
        var out = [Float](repeating: 0, count: n), mask = out, d = out
        var r2 = SplitMix64(seed: 9)
        Dropout.forward(out: &out, mask: &mask, inp: x, count: n, p: 0.5, training: true, rng: &r2)
        #expect(mask.allSatisfy { $0 == 0 || $0 == 2 } && mask.contains(0) && mask.contains(2))
        Dropout.backward(dinp: &d, dout: [Float](repeating: 1, count: n), mask: mask, count: n)
        #expect(d == mask)
        ReLU.forward(out: &out, inp: x, count: n)
        ReLU.backward(dinp: &d, dout: [Float](repeating: 3, count: n), out: out, count: n)
        for i in 0..<n { #expect(d[i] == (x[i] > 0 ? 3 : 0)) }
    }

    @Test func wholeNetwork() {
        let model = ResidualMLP(config: .init(inputs: 6, widths: [8, 5, 4], dropout: 0.3), seed: 11)
        var rng = SplitMix64(seed: 12)
        let B = 7
        let x = Self.randoms(B * 6, &rng, scale: 2)
        let y = Self.randoms(B, &rng, scale: 5).map { $0 + 5 }
        func loss(_ p: [Float]) -> Double {
            let saved = model.parameters, savedState = model.state
            model.parameters = p
            var r = SplitMix64(seed: 77)  // same dropout masks every time
            let out = model.forward(x, batch: B, training: true, rng: &r)
            model.parameters = saved
            model.state = savedState
            return Double(MSELoss.forward(out, y))
        }
        var r = SplitMix64(seed: 77)
        let savedState = model.state
        let out = model.forward(x, batch: B, training: true, rng: &r)
        model.state = savedState
        model.zeroGradients()
        model.backward(MSELoss.backward(out, y))
        let analytic = model.gradients
        var p = model.parameters
        var checked = 0, failures: [String] = []
        for entry in model.layout.entries {
            // Every bias, norm and head value; a sample of each weight matrix.
            let step = entry.count > 40 ? entry.count / 40 : 1
            for i in stride(from: entry.offset, to: entry.offset + entry.count, by: step) {
                let n = Self.numeric(&p, i, eps: 1e-3, loss)
                checked += 1
                if !Self.agree(n, analytic[i]) { failures.append("\(entry.name)[\(i - entry.offset)]: numeric \(n), analytic \(analytic[i])") }
            }
        }
        #expect(checked > 150)
        // A ReLU kink crossed by the finite difference can spoil a component or two.
        #expect(failures.count <= 2, "\(failures)")
    }
}
