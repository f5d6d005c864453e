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

        /// Callers check `problem` first for anything a user typed or a store holds.
        public init(inputs: Int, widths: [Int] = [1024, 512, 256], dropout: Float = 0.2) {
            precondition(Self.problem(inputs: inputs, widths: widths, dropout: dropout) == nil)
            self.inputs = inputs
            self.widths = widths
            self.dropout = dropout
        }

        /// The most parameters a network may have: 2^28 floats (1 GiB), far above the seed's
        /// 1.4 million, far below what would overflow a count or exhaust memory unasked.
        public static let parameterLimit = 1 << 28

        /// Why no network has this shape (nil when one does): inputs and widths must be
        /// positive, at most 16 hidden blocks, dropout in [0, 1), and the parameter count
        /// (computed without overflow) within `parameterLimit`.
        public var problem: String? { Self.problem(inputs: inputs, widths: widths, dropout: dropout) }

        public static func problem(inputs: Int, widths: [Int], dropout: Float) -> String? {
            guard inputs >= 1 && inputs <= 1 << 24 else { return "inputs is \(inputs), outside 1...\(1 << 24)" }
            guard !widths.isEmpty && widths.count <= 16 else { return "it has \(widths.count) hidden blocks (1 to 16)" }
            if let bad = widths.first(where: { $0 < 1 || $0 > 1 << 20 }) { return "a hidden width is \(bad), outside 1...\(1 << 20)" }
            guard dropout.isFinite && dropout >= 0 && dropout < 1 else { return "dropout is \(dropout), outside [0, 1)" }
            // Every product and sum below stays under 2^62 because each factor is at most 2^24.
            var total = 0, previous = inputs
            for width in widths {
                total += previous * width + 4 * width
                previous = width
                if total > parameterLimit { break }
            }
            total += inputs * previous + previous + 2 * previous + previous + 1
            guard total <= parameterLimit else {
                return "it would have more than \(parameterLimit) parameters (inputs \(inputs), widths \(widths.map(String.init).joined(separator: ",")))"
            }
            return nil
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

    // MARK: Activations

    /// Where each activation of one forward pass lives in the flat `acts` buffer, and each
    /// activation gradient of the paired backward in `gradActs`, for a batch of B rows (as
    /// the parameters live in one buffer at `layout` offsets). The buffers grow when a larger
    /// batch comes and are reused otherwise: a training step allocates nothing.
    struct ActivationLayout {
        struct Block { let linear, normed, activated, mask, dropped, bnMean, bnRstd: Int }
        struct BlockGradient { let dAct, dNormed, dLinear, dInput, sum1, sum2: Int }
        let batch: Int
        let input: Int
        let blocks: [Block]
        let residual, hidden, lnOut, lnMean, lnRstd, output: Int
        let acts: ParameterLayout
        let gradients: [BlockGradient]
        let dOutput, dLn, dHidden: Int
        let grads: ParameterLayout

        init(batch B: Int, config: Config) {
            batch = B
            var a = ParameterLayout()
            input = a.add("input", [B, config.inputs])
            blocks = config.widths.enumerated().map { i, w in
                Block(linear: a.add("block\(i).linear", [B, w]), normed: a.add("block\(i).normed", [B, w]),
                      activated: a.add("block\(i).activated", [B, w]), mask: a.add("block\(i).mask", [B, w]),
                      dropped: a.add("block\(i).dropped", [B, w]), bnMean: a.add("block\(i).bn_mean", [w]),
                      bnRstd: a.add("block\(i).bn_rstd", [w]))
            }
            let last = config.widths.last ?? 0
            residual = a.add("residual", [B, last])
            hidden = a.add("hidden", [B, last])
            lnOut = a.add("ln_out", [B, last])
            lnMean = a.add("ln_mean", [B])
            lnRstd = a.add("ln_rstd", [B])
            output = a.add("output", [B])
            acts = a
            var g = ParameterLayout()
            var inputs = config.inputs
            var gradients: [BlockGradient] = []
            for (i, w) in config.widths.enumerated() {
                // Block 0's input is the features: they need no gradient.
                gradients.append(BlockGradient(
                    dAct: g.add("block\(i).d_act", [B, w]), dNormed: g.add("block\(i).d_normed", [B, w]),
                    dLinear: g.add("block\(i).d_linear", [B, w]), dInput: i == 0 ? -1 : g.add("block\(i).d_input", [B, inputs]),
                    sum1: g.add("block\(i).bn_sum1", [w]), sum2: g.add("block\(i).bn_sum2", [w])))
                inputs = w
            }
            self.gradients = gradients
            dOutput = g.add("d_output", [B])
            dLn = g.add("d_ln", [B, last])
            dHidden = g.add("d_hidden", [B, last])
            grads = g
        }
    }

    /// A growable flat float buffer.
    final class FlatBuffer {
        private(set) var base: UnsafeMutablePointer<Float>
        private var capacity = 0
        init() { base = .allocate(capacity: 1) }
        deinit { base.deallocate() }
        func reserve(_ count: Int) {
            guard count > capacity else { return }
            base.deallocate()
            capacity = count
            base = .allocate(capacity: count)
        }
    }

    let acts = FlatBuffer(), gradActs = FlatBuffer()
    var activations: ActivationLayout?
    /// The products' reused buffers.
    var scratch = Linear.Scratch()

    private func layout(batch B: Int) -> ActivationLayout {
        if let activations, activations.batch == B { return activations }
        let l = ActivationLayout(batch: B, config: config)
        acts.reserve(l.acts.total)
        gradActs.reserve(l.grads.total)
        activations = l
        return l
    }

    // MARK: Forward

    /// Scores for `batch` rows of `x` (row-major, batch x inputs). Training mode uses batch
    /// statistics, updates the running ones and draws dropout masks from `rng`. The result
    /// points into the activation buffer: valid until the next forward.
    public func forward(_ x: UnsafePointer<Float>, batch B: Int, training: Bool, rng: inout SplitMix64) -> UnsafeBufferPointer<Float> {
        let l = layout(batch: B)
        let A = acts.base
        (A + l.input).update(from: x, count: B * config.inputs)
        parameters.withUnsafeBufferPointer { p in
            state.withUnsafeMutableBufferPointer { s in
                let P = p.baseAddress!, S = s.baseAddress!
                var inp = UnsafePointer(A + l.input)
                for (b, a) in zip(blocks, l.blocks) {
                    Linear.forward(out: A + a.linear, inp: inp, weight: P + b.weight, bias: P + b.bias,
                                   batch: B, inputs: b.inputs, outputs: b.width, scratch: scratch)
                    BatchNorm.forward(out: A + a.normed, inp: A + a.linear, gamma: P + b.gamma, beta: P + b.beta,
                                      mean: A + a.bnMean, rstd: A + a.bnRstd,
                                      runningMean: S + b.runningMean, runningVar: S + b.runningVar,
                                      batch: B, channels: b.width, training: training)
                    ReLU.forward(out: A + a.activated, inp: A + a.normed, count: B * b.width)
                    Dropout.forward(out: A + a.dropped, mask: A + a.mask, inp: A + a.activated, count: B * b.width,
                                    p: config.dropout, training: training, rng: &rng)
                    inp = UnsafePointer(A + a.dropped)
                }
                let last = config.widths.last!
                Linear.forward(out: A + l.residual, inp: A + l.input, weight: P + residualWeight, bias: P + residualBias,
                               batch: B, inputs: config.inputs, outputs: last, scratch: scratch)
                let dropped = A + l.blocks[blocks.count - 1].dropped
                for i in 0..<(B * last) { A[l.hidden + i] = dropped[i] + A[l.residual + i] }
                LayerNorm.forward(out: A + l.lnOut, mean: A + l.lnMean, rstd: A + l.lnRstd, inp: A + l.hidden,
                                  gamma: P + normGamma, beta: P + normBeta, batch: B, channels: last)
                Linear.forward(out: A + l.output, inp: A + l.lnOut, weight: P + headWeight, bias: P + headBias,
                               batch: B, inputs: last, outputs: 1, scratch: scratch)
            }
        }
        return UnsafeBufferPointer(start: A + l.output, count: B)
    }

    /// `forward` on an array, returning a copy of the scores.
    public func forward(_ x: [Float], batch B: Int, training: Bool, rng: inout SplitMix64) -> [Float] {
        precondition(x.count == B * config.inputs, "ResidualMLP.forward: x holds \(x.count) values, not \(B) x \(config.inputs)")
        return x.withUnsafeBufferPointer { Array(forward($0.baseAddress!, batch: B, training: training, rng: &rng)) }
    }

    // MARK: Backward

    /// Accumulates into `gradients` the gradient of the loss whose derivative with respect to
    /// the last forward's `batch` outputs is `doutput`. Call `zeroGradients()` between steps.
    public func backward(_ doutput: UnsafePointer<Float>) {
        guard let l = activations else { preconditionFailure("ResidualMLP.backward before forward") }
        let B = l.batch, last = config.widths.last!
        let A = acts.base, D = gradActs.base
        parameters.withUnsafeBufferPointer { p in
            gradients.withUnsafeMutableBufferPointer { g in
                let P = p.baseAddress!, G = g.baseAddress!
                (D + l.dOutput).update(from: doutput, count: B)
                Linear.backward(dinp: D + l.dLn, dweight: G + headWeight, dbias: G + headBias, dout: D + l.dOutput,
                                inp: A + l.lnOut, weight: P + headWeight, batch: B, inputs: last, outputs: 1, scratch: scratch)
                LayerNorm.backward(dinp: D + l.dHidden, dgamma: G + normGamma, dbeta: G + normBeta, dout: D + l.dLn,
                                   inp: A + l.hidden, gamma: P + normGamma, mean: A + l.lnMean, rstd: A + l.lnRstd,
                                   batch: B, channels: last)
                // The residual branch: input features need no gradient.
                Linear.backward(dinp: nil, dweight: G + residualWeight, dbias: G + residualBias, dout: D + l.dHidden,
                                inp: A + l.input, weight: P + residualWeight, batch: B, inputs: config.inputs, outputs: last,
                                scratch: scratch)
                var dout = UnsafePointer(D + l.dHidden)
                for i in stride(from: blocks.count - 1, through: 0, by: -1) {
                    let b = blocks[i], a = l.blocks[i], d = l.gradients[i]
                    let n = B * b.width
                    Dropout.backward(dinp: D + d.dAct, dout: dout, mask: A + a.mask, count: n)
                    ReLU.backward(dinp: D + d.dNormed, dout: D + d.dAct, out: A + a.activated, count: n)
                    BatchNorm.backward(dinp: D + d.dLinear, dgamma: G + b.gamma, dbeta: G + b.beta, dout: D + d.dNormed,
                                       inp: A + a.linear, gamma: P + b.gamma, mean: A + a.bnMean, rstd: A + a.bnRstd,
                                       sum1: D + d.sum1, sum2: D + d.sum2, batch: B, channels: b.width)
                    let input = i == 0 ? UnsafePointer(A + l.input) : UnsafePointer(A + l.blocks[i - 1].dropped)
                    Linear.backward(dinp: i == 0 ? nil : D + d.dInput, dweight: G + b.weight, dbias: G + b.bias,
                                    dout: D + d.dLinear, inp: input, weight: P + b.weight,
                                    batch: B, inputs: b.inputs, outputs: b.width, scratch: scratch)
                    if i > 0 { dout = UnsafePointer(D + d.dInput) }
                }
            }
        }
    }

    /// `backward` from an array of the last forward's output gradients.
    public func backward(_ doutput: [Float]) {
        precondition(doutput.count == activations?.batch, "ResidualMLP.backward: one gradient per row of the last forward")
        doutput.withUnsafeBufferPointer { backward($0.baseAddress!) }
    }

    public func zeroGradients() {
        gradients.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}
