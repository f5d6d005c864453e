/// The seed's training settings (section 5 of the report), each overridable.
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var maxEpochs = 100
    public var batchSize = 256
    public var learningRate: Float = 1e-3
    public var weightDecay: Float = 1e-5
    public var plateauFactor: Float = 0.5
    public var plateauPatience = 4
    public var earlyStoppingPatience = 12
    /// Standard deviation of the Gaussian noise added to each training label, per batch.
    public var labelNoise: Float = 0.05
    /// Validation rows: min(this, validationFraction x rows).
    public var validationRows = 3000
    public var validationFraction: Float = 0.2
    public var seed: UInt64 = 5401

    public init() {}
}

/// One epoch of the history stored with a checkpoint.
public struct EpochRecord: Codable, Sendable, Equatable {
    public let epoch: Int
    public let trainLoss: Float
    public let validationRMSE: Float
    public let learningRate: Float
}
