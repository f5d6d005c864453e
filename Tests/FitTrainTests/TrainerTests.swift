@testable import FitTrain
import Foundation
import FitFormats
import Testing

@Suite struct TrainerTests {
    /// y = 5 + 3 tanh(x0) - 2 x1 x2 + small noise, x uniform in [-1, 1]^8.
    static func data(rows n: Int, seed: UInt64) -> ([Float], [Float]) {
        var rng = SplitMix64(seed: seed)
        var x: [Float] = [], y: [Float] = []
        for _ in 0..<n {
            let row = (0..<8).map { _ in Float(rng.nextUnit() * 2 - 1) }
            x += row
            y.append(5 + 3 * tanh(row[0]) - 2 * row[1] * row[2] + Float(rng.nextGaussian()) * 0.05)
        }
        return (x, y)
    }

    static func options() -> TrainingOptions {
        var o = TrainingOptions()
        o.maxEpochs = 30
        o.batchSize = 64
        o.learningRate = 3e-3
        return o
    }

    /// The trained bytes do not depend on the thread count, and a row's score does not
    /// depend on which rows are scored with it or in what order.
    @Test func sameBytesWhateverTheThreadsAndTheBatch() {
        let (x, y) = Self.data(rows: 600, seed: 4)
        var options = Self.options()
        options.maxEpochs = 4
        let trainer = Trainer(options: options)
        let (train, validation) = trainer.split(rows: 600)
        func fit(threads: Int) -> ResidualMLP {
            let model = ResidualMLP(config: .init(inputs: 8, widths: [64, 32, 16], dropout: 0.1), seed: 3)
            model.scratch = Linear.Scratch(threads: threads)
            _ = trainer.fit(model, x: x, y: y, train: train, validation: validation)
            return model
        }
        let one = fit(threads: 1), three = fit(threads: 3)
        #expect(one.parameters.map(\.bitPattern) == three.parameters.map(\.bitPattern))
        #expect(one.state.map(\.bitPattern) == three.state.map(\.bitPattern))

        let all = Array(0..<600)
        let scores = Trainer.predict(one, x: x, rows: all).map(\.bitPattern)
        var rng = SplitMix64(seed: 9)
        for _ in 0..<5 {
            let subset = all.filter { _ in rng.next() % 3 == 0 }.shuffled(using: &rng)
            let got = Trainer.predict(three, x: x, rows: subset).map(\.bitPattern)
            #expect(got == subset.map { scores[$0] })
        }
        #expect(Trainer.predict(one, x: x, rows: [17]).map(\.bitPattern) == [scores[17]])
    }

    @Test func learnsAndIsDeterministic() {
        let (x, y) = Self.data(rows: 1200, seed: 1)
        let trainer = Trainer(options: Self.options())
        let (train, validation) = trainer.split(rows: 1200)
        #expect(validation.count == 240 && Set(train).isDisjoint(with: validation))
        func run() -> (ResidualMLP, Trainer.Result) {
            let model = ResidualMLP(config: .init(inputs: 8, widths: [64, 32, 16], dropout: 0.1), seed: 3)
            return (model, trainer.fit(model, x: x, y: y, train: train, validation: validation))
        }
        let (a, resultA) = run()
        let (b, _) = run()
        #expect(a.parameters == b.parameters, "same seed, same bytes")
        let mean = validation.map { y[$0] }.reduce(0, +) / Float(validation.count)
        let baseline = (validation.map { (y[$0] - mean) * (y[$0] - mean) }.reduce(0, +) / Float(validation.count)).squareRoot()
        #expect(resultA.bestValidationRMSE < baseline * 0.5, "RMSE \(resultA.bestValidationRMSE) vs predicting the mean \(baseline)")
        // Early stopping restored the best epoch's weights.
        #expect(abs(trainer.evaluateRMSE(a, x: x, y: y, rows: validation) - resultA.bestValidationRMSE) < 1e-5)
        #expect(resultA.history.count >= resultA.bestEpoch + 1)
    }

    @Test func predictionsAreClamped() {
        let model = ResidualMLP(config: .init(inputs: 2, widths: [4], dropout: 0), seed: 1)
        let last = model.layout.entry("head.linear.bias")!
        model.parameters[last.offset] = 50
        #expect(Trainer.predict(model, x: [0, 0, 1, 1], rows: [0, 1]).allSatisfy { $0 == 10 })
        model.parameters[last.offset] = -50
        #expect(Trainer.predict(model, x: [0, 0, 1, 1], rows: [0, 1]).allSatisfy { $0 == 0 })
    }

    @Test func adamWFirstStepMatchesHandComputation() {
        var p: [Float] = [1, -2]
        var opt = AdamW(count: 2, learningRate: 0.1, weightDecay: 0.01)
        opt.update(&p, [0.5, -4])
        // Step 1: m̂ = g, v̂ = g², so the step is lr * g / (|g| + eps) = ±0.1, after decay (1 - 0.001).
        #expect(abs(p[0] - (1 * 0.999 - 0.1)) < 1e-6)
        #expect(abs(p[1] - (-2 * 0.999 + 0.1)) < 1e-6)
    }

    @Test func plateauAndEarlyStopping() {
        var plateau = ReduceLROnPlateau(factor: 0.5, patience: 2)
        var lr: Float = 1
        for v: Float in [5, 4, 4, 4] { lr = plateau.step(v, learningRate: lr) }
        #expect(lr == 1)
        lr = plateau.step(4, learningRate: lr)
        #expect(lr == 0.5, "halved after more than `patience` epochs without improvement")
        var stopping = EarlyStopping(patience: 2)
        let first = stopping.observe(3, epoch: 0)
        let second = stopping.observe(3.5, epoch: 1)
        #expect(first && !second && !stopping.shouldStop)
        let third = stopping.observe(3.1, epoch: 2)
        #expect(!third && stopping.shouldStop && stopping.bestEpoch == 0)
    }
}

@Suite struct DropoutTests {
    /// The mask keeps 1 - p of the values, scaled by 1 / (1 - p), and depends only on the seed.
    @Test func keepsTheRightShareWithTheInvertedScale() {
        let n = 100_003, p: Float = 0.2
        let input = [Float](repeating: 2, count: n)
        func draw(seed: UInt64) -> (out: [Float], mask: [Float]) {
            var out = [Float](repeating: 0, count: n), mask = [Float](repeating: 0, count: n)
            var rng = SplitMix64(seed: seed)
            input.withUnsafeBufferPointer { i in
                out.withUnsafeMutableBufferPointer { o in
                    mask.withUnsafeMutableBufferPointer { m in
                        Dropout.forward(out: o.baseAddress!, mask: m.baseAddress!, inp: i.baseAddress!, count: n, p: p, training: true, rng: &rng)
                    }
                }
            }
            return (out, mask)
        }
        let a = draw(seed: 1)
        let kept = a.mask.filter { $0 != 0 }.count
        #expect(abs(Double(kept) / Double(n) - 0.8) < 0.005, "kept \(kept) of \(n)")
        #expect(a.mask.allSatisfy { $0 == 0 || $0 == 1.25 } && zip(a.out, a.mask).allSatisfy { $0 == 2 * $1 })
        #expect(draw(seed: 1).mask == a.mask && draw(seed: 2).mask != a.mask)
    }
}
