import FitFormats

/// Mini-batch training of a ResidualMLP on a dense feature matrix: seeded shuffles, label
/// noise, AdamW, ReduceLROnPlateau on validation RMSE, early stopping that restores the best
/// weights. Arrays in, arrays out.
public struct Trainer {
    public struct Result: Sendable {
        public var history: [EpochRecord]
        public var bestEpoch: Int
        public var bestValidationRMSE: Float
    }

    public let options: TrainingOptions

    public init(options: TrainingOptions) { self.options = options }

    /// Splits 0..<n into (train, validation) with the seed's rule: min(validationRows,
    /// fraction x n) random rows for validation.
    public func split(rows n: Int) -> (train: [Int], validation: [Int]) {
        var rng = SplitMix64(seed: options.seed &+ 1)
        var order = Array(0..<n)
        order.shuffle(using: &rng)
        let v = min(options.validationRows, Int(Float(n) * options.validationFraction))
        return (Array(order[v...]), Array(order[..<v]))
    }

    /// Trains `model` on rows `train` of x (n x model.config.inputs) and y, validating on
    /// `validation`. `epochDone` is told each epoch's record.
    public func fit(_ model: ResidualMLP, x: [Float], y: [Float], train: [Int], validation: [Int],
                    epochDone: (EpochRecord) -> Void = { _ in }) -> Result {
        let d = model.config.inputs
        precondition(x.count == y.count * d)
        var rng = SplitMix64(seed: options.seed)
        var optimizer = AdamW(count: model.parameters.count, learningRate: options.learningRate, weightDecay: options.weightDecay)
        var plateau = ReduceLROnPlateau(factor: options.plateauFactor, patience: options.plateauPatience)
        var stopping = EarlyStopping(patience: options.earlyStoppingPatience)
        var best = (parameters: model.parameters, state: model.state)
        var history: [EpochRecord] = []
        var order = train
        // One batch's inputs, targets and output gradients, reused by every step.
        let capacity = max(1, options.batchSize)
        var bx = [Float](repeating: 0, count: capacity * d), targets = [Float](repeating: 0, count: capacity)
        var dpredictions = [Float](repeating: 0, count: capacity)
        for epoch in 0..<options.maxEpochs {
            order.shuffle(using: &rng)
            var lossSum: Double = 0, seen = 0
            var start = 0
            while start < order.count {
                let rows = order[start..<min(order.count, start + options.batchSize)]
                start += options.batchSize
                if rows.count < 2 { continue }  // BatchNorm needs two rows of statistics
                let B = rows.count
                x.withUnsafeBufferPointer { x in
                    bx.withUnsafeMutableBufferPointer { b in
                        for (i, r) in rows.enumerated() { (b.baseAddress! + i * d).update(from: x.baseAddress! + r * d, count: d) }
                    }
                }
                for (i, r) in rows.enumerated() {
                    targets[i] = options.labelNoise > 0 ? y[r] + Float(rng.nextGaussian()) * options.labelNoise : y[r]
                }
                let loss = bx.withUnsafeBufferPointer { bx in
                    let predictions = model.forward(bx.baseAddress!, batch: B, training: true, rng: &rng)
                    return MSELoss.forwardBackward(predictions, targets, into: &dpredictions)
                }
                model.zeroGradients()
                dpredictions.withUnsafeBufferPointer { model.backward($0.baseAddress!) }
                optimizer.update(&model.parameters, model.gradients)
                lossSum += Double(loss) * Double(B)
                seen += B
            }
            let rmse = validation.isEmpty ? Float(lossSum / Double(max(seen, 1))).squareRoot() : evaluateRMSE(model, x: x, y: y, rows: validation)
            let record = EpochRecord(epoch: epoch, trainLoss: Float(lossSum / Double(max(seen, 1))), validationRMSE: rmse,
                                     learningRate: optimizer.learningRate)
            history.append(record)
            epochDone(record)
            if stopping.observe(rmse, epoch: epoch) { best = (model.parameters, model.state) }
            optimizer.learningRate = plateau.step(rmse, learningRate: optimizer.learningRate)
            if stopping.shouldStop { break }
        }
        model.parameters = best.parameters
        model.state = best.state
        return Result(history: history, bestEpoch: stopping.bestEpoch, bestValidationRMSE: stopping.best)
    }

    public func evaluateRMSE(_ model: ResidualMLP, x: [Float], y: [Float], rows: [Int]) -> Float {
        let predictions = Self.predict(model, x: x, rows: rows)
        var sum: Double = 0
        for (p, r) in zip(predictions, rows) { let e = Double(p - y[r]); sum += e * e }
        return Float((sum / Double(rows.count)).squareRoot())
    }

    /// Evaluation-mode scores of `rows`, clamped to [0, 10], in batches of 1024 (a row's
    /// score does not depend on its batch).
    public static func predict(_ model: ResidualMLP, x: [Float], rows: [Int]) -> [Float] {
        let d = model.config.inputs
        var rng = SplitMix64(seed: 0)
        var out: [Float] = []
        out.reserveCapacity(rows.count)
        var bx = [Float](repeating: 0, count: min(1024, max(1, rows.count)) * d)
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + 1024)]
            start += 1024
            x.withUnsafeBufferPointer { x in
                bx.withUnsafeMutableBufferPointer { b in
                    for (i, r) in chunk.enumerated() { (b.baseAddress! + i * d).update(from: x.baseAddress! + r * d, count: d) }
                }
            }
            bx.withUnsafeBufferPointer { bx in
                out += model.forward(bx.baseAddress!, batch: chunk.count, training: false, rng: &rng).map { min(10, max(0, $0)) }
            }
        }
        return out
    }
}
