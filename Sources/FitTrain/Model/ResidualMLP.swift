import FitFormats
import Foundation

/// The seed's regressor: hidden blocks [Linear → BatchNorm → ReLU → Dropout] with widths
/// 1024-512-256, a residual projection from the input added to the last block, then
/// LayerNorm and a linear head to one score.
///
///     h = MLP(x) + W_res x + b_res;   ŷ = w_head · LayerNorm(h) + b_head
///
/// Parameters live in one flat buffer (`parameters`, with `gradients` beside it); the
/// BatchNorm running statistics in another (`state`). `forward` fills an explicit cache that
/// the paired `backward` reads, as in llm.c.
public final class ResidualMLP {
    public struct Config: Codable, Sendable, Equatable {
        public var inputs: Int
        public var widths: [Int]
        public var dropout: Float

        public init(inputs: Int, widths: [Int] = [1024, 512, 256], dropout: Float = 0.2) {
            precondition(inputs > 0 && !widths.isEmpty && widths.allSatisfy { $0 > 0 })
            self.inputs = inputs
            self.widths = widths
            self.dropout = dropout
        }
    }

    struct Block { let weight: Int, bias: Int, gamma: Int, beta: Int, runningMean: Int, runningVar: Int, inputs: Int, width: Int }

    public let config: Config
    public let layout: ParameterLayout
    public let stateLayout: ParameterLayout
    public var parameters: [Float]
    public var gradients: [Float]
    public var state: [Float]
    let blocks: [Block]
    let residualWeight: Int, residualBias: Int, normGamma: Int, normBeta: Int, headWeight: Int, headBias: Int

    public init(config: Config, seed: UInt64) {
        self.config = config
        var layout = ParameterLayout(), stateLayout = ParameterLayout()
        var blocks: [Block] = []
        var inputs = config.inputs
        for (i, width) in config.widths.enumerated() {
            blocks.append(Block(
                weight: layout.add("block\(i).linear.weight", [width, inputs]), bias: layout.add("block\(i).linear.bias", [width]),
                gamma: layout.add("block\(i).norm.weight", [width]), beta: layout.add("block\(i).norm.bias", [width]),
                runningMean: stateLayout.add("block\(i).norm.running_mean", [width]),
                runningVar: stateLayout.add("block\(i).norm.running_var", [width]),
                inputs: inputs, width: width))
            inputs = width
        }
        let last = config.widths.last!
        residualWeight = layout.add("residual.weight", [last, config.inputs])
        residualBias = layout.add("residual.bias", [last])
        normGamma = layout.add("head.norm.weight", [last])
        normBeta = layout.add("head.norm.bias", [last])
        headWeight = layout.add("head.linear.weight", [1, last])
        headBias = layout.add("head.linear.bias", [1])
        self.blocks = blocks
        self.layout = layout
        self.stateLayout = stateLayout
        parameters = [Float](repeating: 0, count: layout.total)
        gradients = [Float](repeating: 0, count: layout.total)
        state = [Float](repeating: 0, count: stateLayout.total)
        initialize(seed: seed)
    }

    /// PyTorch's defaults: Linear weights and biases uniform in ±1/√fan_in; norms γ = 1,
    /// β = 0; running mean 0, variance 1.
    public func initialize(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        func uniform(_ offset: Int, _ count: Int, bound: Float) {
            for i in 0..<count { parameters[offset + i] = Float(rng.nextUnit() * 2 - 1) * bound }
        }
        for b in blocks {
            let bound = 1 / Float(b.inputs).squareRoot()
            uniform(b.weight, b.width * b.inputs, bound: bound)
            uniform(b.bias, b.width, bound: bound)
            for c in 0..<b.width { parameters[b.gamma + c] = 1; parameters[b.beta + c] = 0 }
            for c in 0..<b.width { state[b.runningMean + c] = 0; state[b.runningVar + c] = 1 }
        }
        let last = config.widths.last!
        let rb = 1 / Float(config.inputs).squareRoot()
        uniform(residualWeight, last * config.inputs, bound: rb)
        uniform(residualBias, last, bound: rb)
        for c in 0..<last { parameters[normGamma + c] = 1; parameters[normBeta + c] = 0 }
        let hb = 1 / Float(last).squareRoot()
        uniform(headWeight, last, bound: hb)
        uniform(headBias, 1, bound: hb)
    }

    // MARK: Cache

    /// Activations of one forward pass, kept for backward.
    final class Cache {
        let batch: Int
        var input: [Float] = []
        var linear: [[Float]], normed: [[Float]], activated: [[Float]], mask: [[Float]], dropped: [[Float]]
        var bnMean: [[Float]], bnRstd: [[Float]]
        var residual: [Float], hidden: [Float], lnOut: [Float], lnMean: [Float], lnRstd: [Float], output: [Float]

        init(batch B: Int, config: Config) {
            batch = B
            linear = config.widths.map { [Float](repeating: 0, count: B * $0) }
            normed = linear; activated = linear; mask = linear; dropped = linear
            bnMean = config.widths.map { [Float](repeating: 0, count: $0) }
            bnRstd = bnMean
            let last = config.widths.last!
            residual = [Float](repeating: 0, count: B * last)
            hidden = residual; lnOut = residual
            lnMean = [Float](repeating: 0, count: B); lnRstd = lnMean; output = lnMean
        }
    }

    var cache: Cache?
    /// The products' reused buffers.
    var scratch = Linear.Scratch()

    // MARK: Forward

    /// Scores for `batch` rows of `x` (row-major, batch x inputs). Training mode uses batch
    /// statistics, updates the running ones and draws dropout masks from `rng`.
    public func forward(_ x: [Float], batch B: Int, training: Bool, rng: inout SplitMix64) -> [Float] {
        precondition(x.count == B * config.inputs)
        let cache = self.cache?.batch == B ? self.cache! : Cache(batch: B, config: config)
        self.cache = cache
        cache.input = x
        parameters.withUnsafeBufferPointer { p in
            state.withUnsafeMutableBufferPointer { s in
                let P = p.baseAddress!, S = s.baseAddress!
                var inp: [Float] = x
                for (i, b) in blocks.enumerated() {
                    inp.withUnsafeBufferPointer { inp in
                        cache.linear[i].withUnsafeMutableBufferPointer { z in
                            Linear.forward(out: z.baseAddress!, inp: inp.baseAddress!, weight: P + b.weight, bias: P + b.bias,
                                           batch: B, inputs: b.inputs, outputs: b.width, scratch: scratch)
                        }
                    }
                    cache.linear[i].withUnsafeBufferPointer { z in
                        cache.normed[i].withUnsafeMutableBufferPointer { y in
                            cache.bnMean[i].withUnsafeMutableBufferPointer { m in
                                cache.bnRstd[i].withUnsafeMutableBufferPointer { r in
                                    BatchNorm.forward(out: y.baseAddress!, inp: z.baseAddress!, gamma: P + b.gamma, beta: P + b.beta,
                                                      mean: m.baseAddress!, rstd: r.baseAddress!,
                                                      runningMean: S + b.runningMean, runningVar: S + b.runningVar,
                                                      batch: B, channels: b.width, training: training)
                                }
                            }
                        }
                    }
                    cache.normed[i].withUnsafeBufferPointer { y in
                        cache.activated[i].withUnsafeMutableBufferPointer { a in
                            ReLU.forward(out: a.baseAddress!, inp: y.baseAddress!, count: B * b.width)
                        }
                    }
                    cache.activated[i].withUnsafeBufferPointer { a in
                        cache.dropped[i].withUnsafeMutableBufferPointer { d in
                            cache.mask[i].withUnsafeMutableBufferPointer { m in
                                Dropout.forward(out: d.baseAddress!, mask: m.baseAddress!, inp: a.baseAddress!, count: B * b.width,
                                                p: config.dropout, training: training, rng: &rng)
                            }
                        }
                    }
                    inp = cache.dropped[i]
                }
                let last = config.widths.last!
                x.withUnsafeBufferPointer { x in
                    cache.residual.withUnsafeMutableBufferPointer { r in
                        Linear.forward(out: r.baseAddress!, inp: x.baseAddress!, weight: P + residualWeight, bias: P + residualBias,
                                       batch: B, inputs: config.inputs, outputs: last, scratch: scratch)
                    }
                }
                for i in 0..<(B * last) { cache.hidden[i] = cache.dropped[blocks.count - 1][i] + cache.residual[i] }
                cache.hidden.withUnsafeBufferPointer { h in
                    cache.lnOut.withUnsafeMutableBufferPointer { o in
                        cache.lnMean.withUnsafeMutableBufferPointer { m in
                            cache.lnRstd.withUnsafeMutableBufferPointer { r in
                                LayerNorm.forward(out: o.baseAddress!, mean: m.baseAddress!, rstd: r.baseAddress!, inp: h.baseAddress!,
                                                  gamma: P + normGamma, beta: P + normBeta, batch: B, channels: last)
                            }
                        }
                    }
                }
                cache.lnOut.withUnsafeBufferPointer { o in
                    cache.output.withUnsafeMutableBufferPointer { y in
                        Linear.forward(out: y.baseAddress!, inp: o.baseAddress!, weight: P + headWeight, bias: P + headBias,
                                       batch: B, inputs: last, outputs: 1, scratch: scratch)
                    }
                }
            }
        }
        return cache.output
    }

    // MARK: Backward

    /// Accumulates into `gradients` the gradient of the loss whose derivative with respect to
    /// the last forward's outputs is `doutput`. Call `zeroGradients()` between steps.
    public func backward(_ doutput: [Float]) {
        guard let cache else { preconditionFailure("backward before forward") }
        let B = cache.batch, last = config.widths.last!
        precondition(doutput.count == B)
        parameters.withUnsafeBufferPointer { p in
            gradients.withUnsafeMutableBufferPointer { g in
                let P = p.baseAddress!, G = g.baseAddress!
                var dLn = [Float](repeating: 0, count: B * last)
                doutput.withUnsafeBufferPointer { dy in
                    cache.lnOut.withUnsafeBufferPointer { o in
                        dLn.withUnsafeMutableBufferPointer { d in
                            Linear.backward(dinp: d.baseAddress!, dweight: G + headWeight, dbias: G + headBias, dout: dy.baseAddress!,
                                            inp: o.baseAddress!, weight: P + headWeight, batch: B, inputs: last, outputs: 1, scratch: scratch)
                        }
                    }
                }
                var dHidden = [Float](repeating: 0, count: B * last)
                dLn.withUnsafeBufferPointer { d in
                    cache.hidden.withUnsafeBufferPointer { h in
                        cache.lnMean.withUnsafeBufferPointer { m in
                            cache.lnRstd.withUnsafeBufferPointer { r in
                                dHidden.withUnsafeMutableBufferPointer { dh in
                                    LayerNorm.backward(dinp: dh.baseAddress!, dgamma: G + normGamma, dbeta: G + normBeta, dout: d.baseAddress!,
                                                       inp: h.baseAddress!, gamma: P + normGamma, mean: m.baseAddress!, rstd: r.baseAddress!,
                                                       batch: B, channels: last)
                                }
                            }
                        }
                    }
                }
                // The residual branch: input features need no gradient.
                dHidden.withUnsafeBufferPointer { dh in
                    cache.input.withUnsafeBufferPointer { x in
                        Linear.backward(dinp: nil, dweight: G + residualWeight, dbias: G + residualBias, dout: dh.baseAddress!,
                                        inp: x.baseAddress!, weight: P + residualWeight, batch: B, inputs: config.inputs, outputs: last, scratch: scratch)
                    }
                }
                var dout = dHidden
                for i in stride(from: blocks.count - 1, through: 0, by: -1) {
                    let b = blocks[i]
                    let n = B * b.width
                    var dAct = [Float](repeating: 0, count: n)
                    var dNormed = [Float](repeating: 0, count: n)
                    var dLinear = [Float](repeating: 0, count: n)
                    dout.withUnsafeBufferPointer { d in
                        cache.mask[i].withUnsafeBufferPointer { m in
                            dAct.withUnsafeMutableBufferPointer { Dropout.backward(dinp: $0.baseAddress!, dout: d.baseAddress!, mask: m.baseAddress!, count: n) }
                        }
                    }
                    dAct.withUnsafeBufferPointer { d in
                        cache.activated[i].withUnsafeBufferPointer { a in
                            dNormed.withUnsafeMutableBufferPointer { ReLU.backward(dinp: $0.baseAddress!, dout: d.baseAddress!, out: a.baseAddress!, count: n) }
                        }
                    }
                    dNormed.withUnsafeBufferPointer { d in
                        cache.linear[i].withUnsafeBufferPointer { z in
                            cache.bnMean[i].withUnsafeBufferPointer { m in
                                cache.bnRstd[i].withUnsafeBufferPointer { r in
                                    dLinear.withUnsafeMutableBufferPointer { dz in
                                        BatchNorm.backward(dinp: dz.baseAddress!, dgamma: G + b.gamma, dbeta: G + b.beta, dout: d.baseAddress!,
                                                           inp: z.baseAddress!, gamma: P + b.gamma, mean: m.baseAddress!, rstd: r.baseAddress!,
                                                           batch: B, channels: b.width)
                                    }
                                }
                            }
                        }
                    }
                    let input = i == 0 ? cache.input : cache.dropped[i - 1]
                    var dInput = i == 0 ? [] : [Float](repeating: 0, count: B * b.inputs)
                    dLinear.withUnsafeBufferPointer { dz in
                        input.withUnsafeBufferPointer { x in
                            dInput.withUnsafeMutableBufferPointer { di in
                                Linear.backward(dinp: i == 0 ? nil : di.baseAddress!, dweight: G + b.weight, dbias: G + b.bias,
                                                dout: dz.baseAddress!, inp: x.baseAddress!, weight: P + b.weight,
                                                batch: B, inputs: b.inputs, outputs: b.width, scratch: scratch)
                            }
                        }
                    }
                    dout = dInput
                }
            }
        }
    }

    public func zeroGradients() {
        gradients.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}
