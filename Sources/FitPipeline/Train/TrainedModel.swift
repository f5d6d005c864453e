import FitTrain

/// The model families `fitstore train` fits.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
    /// Gradient-boosted trees on the vectors plus the extra features: the default, because it
    /// beats the per-metric mean in CV on real rows where the seed's MLP does not (docs/results.md).
    case boosted
    /// The seed's residual MLP, exactly as the write-up describes it.
    case seed
    /// k nearest neighbours by cosine on the prompt and response vectors, within the metric
    /// (k chosen by an inner grouped CV): a second learner to blend with the trees.
    case knn
}

/// A fitted model of either family, as predict needs it.
public enum TrainedModel {
    case seed(ResidualMLP)
    case boosted(BoostedTrees)
    case knn(NearestNeighbours)

    public var inputs: Int {
        switch self {
        case .seed(let m): m.config.inputs
        case .boosted(let m): m.inputs
        case .knn(let m): m.inputs
        }
    }

    /// Predictions clamped to [0, 10] for the given rows of x.
    public func predict(x: [Float], rows: [Int]) -> [Float] {
        switch self {
        case .seed(let m): Trainer.predict(m, x: x, rows: rows)
        case .boosted(let m): m.predict(x: x, rows: rows)
        case .knn(let m): m.predict(x: x, rows: rows)
        }
    }

    /// The one flat buffer the checkpoint keeps.
    var flat: [Float] {
        switch self {
        case .seed(let m): m.parameters + m.state
        case .boosted(let m): m.flat
        case .knn(let m): m.flat
        }
    }
}
