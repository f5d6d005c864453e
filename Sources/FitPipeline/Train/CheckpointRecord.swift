import FitAugment
import FitFormats
import FitStore
import FitTrain
import Foundation
import GRDB

/// What a checkpoint's JSON columns hold, typed: its settings (`Config`, column `config`) and
/// its evaluation (`Evaluation`, column `evaluation`). `StoredModel` decodes both, in one place.
extension TrainModel {
    /// What the checkpoint's evaluation column holds.
    public struct Evaluation: Codable, Sendable {
        /// The seed's random validation split (seed model only; it mixes synthetic rows).
        public var validationRows: Int?
        public var validationRMSE: Float?
        public var constantMeanRMSE: Float?
        public var perMetricMeanRMSE: Float?
        public var bestEpoch: Int?
        /// K-fold CV on real rows: the honest number.
        public var crossValidation: CrossValidation.Result?
        /// Boosted trees with early stopping: the rounds each CV fold's model kept, and the
        /// rounds of the model stored (a bag: the sum of its members').
        public var foldRounds: [Int]?
        public var rounds: Int?
        /// `--bag-folds cv`: what the nested comparison found.
        public var nestedBagging: NestedBagging?
        /// True when the stored model is the bag of the CV fold models.
        public var bagged: Bool?
        /// Nearest neighbours: the k each CV fold's model chose, and the stored model's.
        public var neighbours: NeighbourChoice?
        /// What the checkpoint's `cv_prediction` rows hold when they are not the CV fold
        /// models' predictions: "nested bag" (each fold's rows predicted by the bag of that
        /// fold's sub-fold models, `nestedBagging.bagRMSE`), when the stored model is a bag.
        public var outOfFold: String?

        /// The checkpoint's CV RMSE, the one number printed wherever it appears: the RMSE of
        /// its stored out-of-fold predictions (for a kept bag, the nested bags': its
        /// `crossValidation` then holds those; checkpoints stored before kept the fold models'
        /// there and the nested RMSE in `nestedBagging`).
        public var outOfFoldRMSE: Float? {
            outOfFold == Self.nestedBag ? nestedBagging?.bagRMSE ?? crossValidation?.rmse : crossValidation?.rmse
        }

        /// The `outOfFold` value of a bag's nested out-of-fold predictions (and the config
        /// marker of the settings that store them).
        static let nestedBag = "nested bag"
    }

    /// The k of a nearest-neighbours checkpoint: per CV fold, and of the model on every row,
    /// with the inner CV RMSE of each candidate for the latter.
    public struct NeighbourChoice: Codable, Sendable {
        public var candidates: [Int]
        public var foldK: [Int]
        public var k: Int
        public var innerRMSE: [Float?]
    }

    /// Whether a boosted checkpoint keeps the bag of its CV fold models.
    public enum Bagging: String, Codable, Sendable, CaseIterable {
        case off, on, cv
    }

    /// The nested comparison of `Bagging.cv`: out-of-fold RMSE of a bag of each fold's
    /// sub-fold models and of the fold's single model (the CV RMSE), and which was kept.
    public struct NestedBagging: Codable, Sendable {
        public var bagRMSE: Float
        public var singleRMSE: Float
        public var kept: Bool
        /// Per fold, on the checkpoint's folds (absent in checkpoints stored before choices
        /// had to beat their noise).
        public var bagFoldRMSE: [Float]?
        public var singleFoldRMSE: [Float]?
        /// `NoiseRule`'s verdict on them.
        public var meanGain: Double?
        public var standardError: Double?
    }


    struct Config: Codable {
        let model: String
        let profile: String?
        let features: FeatureMatrix.Layout
        let origins: [String]
        let cv_folds: Int?
        // seed model
        let network: ResidualMLP.Config?
        let training: TrainingOptions?
        let parameter_count: Int?
        let state_count: Int?
        let parameter_layout: ParameterLayout?
        let state_layout: ParameterLayout?
        // boosted trees
        let boosting: BoostingOptions?
        /// on or cv (absent: off): whether the stored model may be the bag of the CV fold
        /// models; the evaluation says whether it is.
        let bag_folds: String?
        // nearest neighbours (absent for other models, so their settings encode as before)
        var neighbours: NeighbourOptions? = nil
        /// "nested bag" with `bag_folds` cv: a kept bag's out-of-fold predictions are its
        /// nested bags' (checkpoints stored before this kept the fold models': the marker makes
        /// an identical train compute them again instead of reusing those).
        var out_of_fold: String? = nil
        /// How the CV folds group real rows, and how much they look like the test (absent for
        /// checkpoints trained before folds were grouped by more than identical text).
        var cv_groups: FoldGrouping? = nil
        /// "refit" with early stopping: each model is fitted again on all its rows with the
        /// rounds stopping chose (absent before: the stopped model itself was kept).
        var early_stopping: String? = nil
    }
}

extension TrainModel.Config {
    /// The training settings that made this checkpoint, as `train` takes them (what `tune`
    /// starts from). The CV folds' seed is the boosting seed (`train --seed` sets both).
    func options(dataset: String, checkpoint: Int64) throws -> TrainModel.Options {
        guard let kind = ModelKind(rawValue: model) else {
            throw PipelineError.checkpointDamaged(id: checkpoint, reason: "it is of an unknown model '\(model)'")
        }
        var o = TrainModel.Options(dataset: dataset, encoderKeys: features.encoderKeys)
        o.model = kind
        o.cvFolds = cv_folds ?? 0
        o.profile = profile ?? "custom"
        o.syntheticGenerators = Set(origins.filter { $0 != "real" })
        o.extras = !(features.extras ?? []).isEmpty
        o.system = (features.systemDims ?? 0) > 0
        o.interactions = !(features.interactions ?? []).isEmpty
        o.omitted = features.omitted
        if let boosting { o.boosting = boosting }
        if let training { o.training = training }
        o.training.seed = boosting?.seed ?? training?.seed ?? o.training.seed
        o.bagging = bag_folds.flatMap(TrainModel.Bagging.init(rawValue:)) ?? .off
        if let neighbours { o.neighbours = neighbours }
        if let network { o.network = network.widths; o.dropout = network.dropout }
        if let groups = cv_groups {
            o.cvGroups = groups.chosenBy == "auto" ? .auto : FoldGroupChoice(rawValue: groups.kind.rawValue) ?? .auto
        }
        return o
    }
}
