/// Halves (by `factor`) the learning rate when the monitored value has not improved by more
/// than a relative `threshold` for `patience` epochs: PyTorch's ReduceLROnPlateau in 'min'
/// mode with its default relative threshold.
public struct ReduceLROnPlateau: Sendable, Codable {
    public var factor: Float = 0.5
    public var patience: Int = 4
    public var threshold: Float = 1e-4
    public var minimumRate: Float = 0
    public private(set) var best: Float = .infinity
    public private(set) var badEpochs = 0

    public init(factor: Float = 0.5, patience: Int = 4) {
        self.factor = factor
        self.patience = patience
    }

    /// Returns the learning rate to use from now on.
    public mutating func step(_ value: Float, learningRate: Float) -> Float {
        if value < best * (1 - threshold) {
            best = value
            badEpochs = 0
            return learningRate
        }
        badEpochs += 1
        if badEpochs > patience {
            badEpochs = 0
            return max(minimumRate, learningRate * factor)
        }
        return learningRate
    }
}

/// Stops when the monitored value has not improved for `patience` epochs, remembering the
/// epoch (and, through the caller, the weights) of the best value.
public struct EarlyStopping: Sendable, Codable {
    public var patience: Int
    public private(set) var best: Float = .infinity
    public private(set) var bestEpoch = -1
    public private(set) var waited = 0

    public init(patience: Int = 12) { self.patience = patience }

    /// True when `value` is a new best.
    public mutating func observe(_ value: Float, epoch: Int) -> Bool {
        if value < best {
            best = value
            bestEpoch = epoch
            waited = 0
            return true
        }
        waited += 1
        return false
    }

    public var shouldStop: Bool { waited >= patience }
}
