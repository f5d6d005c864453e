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
/// For boosted trees an "epoch" is one boosting round. A NaN validation RMSE (no validation
/// rows) is stored as null.
public struct EpochRecord: Codable, Sendable, Equatable {
    public let epoch: Int
    public let trainLoss: Float
    public let validationRMSE: Float
    public let learningRate: Float

    public init(epoch: Int, trainLoss: Float, validationRMSE: Float, learningRate: Float) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.validationRMSE = validationRMSE
        self.learningRate = learningRate
    }

    enum CodingKeys: String, CodingKey { case epoch, trainLoss, validationRMSE, learningRate }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epoch = try c.decode(Int.self, forKey: .epoch)
        trainLoss = try c.decode(Float.self, forKey: .trainLoss)
        validationRMSE = try c.decodeIfPresent(Float.self, forKey: .validationRMSE) ?? .nan
        learningRate = try c.decode(Float.self, forKey: .learningRate)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(trainLoss, forKey: .trainLoss)
        if validationRMSE.isNaN { try c.encodeNil(forKey: .validationRMSE) } else { try c.encode(validationRMSE, forKey: .validationRMSE) }
        try c.encode(learningRate, forKey: .learningRate)
    }
}
