import FitFormats
import FitStore
import Foundation

/// `run`'s last choice by CV: the nearest-neighbours learner (`--model knn`) trained on the
/// same rows and folds as the trained model, the two blended by non-negative weights fitted on
/// their out-of-fold predictions (`fitstore blend`), and the blend kept only when it beats
/// the model under `NoiseRule` (its per-fold CV, each fold's rows predicted with weights fitted
/// on the other folds, against the model's on the same folds), and when the kNN's weight is at
/// least `Blend.weightFloor` (a blend that gives its second member less is that first member).
/// The kNN and blend checkpoints stay in the store whatever the decision (a rerun finds them
/// again and trains nothing); the comparison records the decision.
public enum NeighbourBlend {
    public enum Choice: String, Sendable, CaseIterable {
        /// Keep the blend when it beats its noise.
        case cv
        /// Keep the blend whatever CV says.
        case on
        /// Do not train the kNN.
        case off
    }

    public struct Outcome: Sendable {
        /// The checkpoint to predict with: the blend when kept, else the model's.
        public var checkpointID: Int64
        public var kept: Bool
        public var modelCV: Float
        public var blendCV: Float
        public var knnCV: Float?
        public var k: Int?
        public var weights: [Double]
        public var comparison: Comparison.New
        public var verdict: NoiseRule.Verdict
        /// Why the blend was not kept although CV favoured it (the weight floor), if so.
        public var floorReason: String?
    }

    /// nil when there is nothing to compare (no CV, or a model that is not the boosted trees).
    public static func choose(store: Store, model: TrainModel.Report, options: TrainModel.Options, choice: Choice,
                              progress: any ProgressSink) throws -> Outcome? {
        guard choice != .off, options.model == .boosted, options.cvFolds >= 2, let modelCV = model.evaluation.outOfFoldRMSE else {
            return nil
        }
        var knnOptions = options
        knnOptions.model = .knn
        knnOptions.extras = false
        knnOptions.system = false
        knnOptions.interactions = false
        knnOptions.bagging = .off
        let knn = try TrainModel(store: store, progress: progress).run(knnOptions)
        let blend = try Blend(store: store).run(dataset: options.dataset, members: [model.checkpointID, knn.checkpointID], weighting: .fit)
        let knnWeight = blend.members.last?.weight ?? 0
        let floorReason = knnWeight < Blend.weightFloor
            ? String(format: "the kNN's weight %.3f is below the floor %.2f, so the blend is the model", knnWeight, Blend.weightFloor) : nil
        let simple = TrainingChoices.candidate(model, label: "the model")
        let complex = Comparison.Candidate(checkpoint: blend.checkpointID, label: String(format: "blend with nearest neighbours (k %d, weights %@)",
                                                                                        knn.evaluation.neighbours?.k ?? 0,
                                                                                        blend.members.map { String(format: "%.2f", $0.weight) }.joined(separator: ", ")),
                                           cvRMSE: Double(blend.evaluation.rmse), foldRMSE: blend.evaluation.foldRMSE.map(Double.init))
        var (comparison, verdict) = Comparison.New.judged(kind: .knnBlend, simple: simple, complex: complex, forceSimple: floorReason)
        if choice == .on {
            comparison.kept = 1
            comparison.rule = "kept by --knn-blend on"
        }
        let keep = comparison.kept == 1
        return Outcome(checkpointID: keep ? blend.checkpointID : model.checkpointID, kept: keep, modelCV: modelCV,
                       blendCV: blend.evaluation.rmse, knnCV: knn.evaluation.crossValidation?.rmse, k: knn.evaluation.neighbours?.k,
                       weights: blend.members.map(\.weight), comparison: comparison, verdict: verdict, floorReason: floorReason)
    }
}
