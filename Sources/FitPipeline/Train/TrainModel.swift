import FitAugment
import FitFormats
import FitStore
import FitTrain
import Foundation
import GRDB

/// `fitstore train`: fits a model on a data set's training rows, evaluates it by K-fold
/// cross-validation on the real rows (grouped by item, synthetic descendants of held-out rows
/// kept out), and stores the checkpoint (weights, configuration, encoder, training-set digest,
/// history, evaluation against baselines), linked to its run.
public struct TrainModel {
    public struct Options: Sendable {
        public var dataset: String
        /// The encoders whose vectors make the features, concatenated in this order.
        public var encoderKeys: [String]
        public var model: ModelKind = .boosted
        public var network: [Int] = [1024, 512, 256]
        public var dropout: Float = 0.2
        public var training = TrainingOptions()
        public var boosting = BoostingOptions()
        public var neighbours = NeighbourOptions()
        /// Synthetic generators whose rows join the real ones in training (none: real only).
        public var syntheticGenerators: Set<String> = []
        /// The extra features (cosines, lengths); nil: on for boosted trees, off for the seed's
        /// model (whose input is the three vectors).
        public var extras: Bool?
        /// The system prompt's vector block (and its cosine with the response).
        public var system = false
        /// The interaction blocks (response x metric, |prompt - response|).
        public var interactions = false
        /// Vector blocks left out, for ablations.
        public var omitted: Set<FeatureSelection.VectorBlock> = []
        /// Folds of the cross-validation on real rows (0: none).
        public var cvFolds = 5
        /// How the folds group real rows (`FoldGrouping`): auto picks the grouping whose
        /// held-out rows look most like the test rows.
        public var cvGroups: FoldGroupChoice = .auto
        /// The augmentation profile in force, recorded with the checkpoint (see `run`).
        public var profile = "custom"
        /// Train on a seeded random subset of this many rows (nil: all).
        public var sampleRows: Int?
        /// Boosted trees: whether the model kept is the mean of the CV fold models (a bag)
        /// instead of a final fit on every row. CV alone cannot tell them apart (it is the
        /// fold models' either way), so `cv` measures it nested: inside each fold, a bag of
        /// that fold's own sub-folds against the fold's single model, on the held-out rows.
        public var bagging: Bagging = .off

        public init(dataset: String, encoderKey: String) {
            self.init(dataset: dataset, encoderKeys: [encoderKey])
        }

        public init(dataset: String, encoderKeys: [String]) {
            self.dataset = dataset
            self.encoderKeys = encoderKeys
        }

        var usesExtras: Bool { extras ?? (model == .boosted) }
    }

    public struct Report: Sendable {
        public var runID: Int64
        public var checkpointID: Int64
        public var model: ModelKind
        public var profile: String
        public var trainRows: Int
        public var syntheticRows: Int
        public var evaluation: Evaluation
        public var seconds: Double
        /// True when an identical checkpoint (same rows, same settings) was found and reused.
        public var reused = false
        /// The encoders whose vectors made the features (names where they have one), and the
        /// feature columns.
        public var encoders: [String] = []
        public var featureColumns = 0
        /// How the CV folds grouped real rows (nil without CV).
        public var grouping: FoldGrouping?
    }

    let store: Store
    let progress: any ProgressSink
    /// When set, a fit running at this time stops after its current boosting round and the
    /// training throws `PipelineError.budgetReached` without storing anything (`tune`'s budget).
    let deadline: Date?

    public init(store: Store, progress: any ProgressSink = SilentProgress(), deadline: Date? = nil) {
        self.store = store
        self.progress = progress
        self.deadline = deadline
    }

    /// Throws `budgetReached` once the deadline has passed.
    func checkDeadline() throws {
        if let deadline, Date() >= deadline { throw PipelineError.budgetReached }
    }

    /// What one training needs, read from the store before anything is fitted.
    struct Plan {
        let options: Options
        let datasetID: Int64
        let features: FeatureMatrix
        let y: [Float]
        let lineage: Lineage
        /// Per row, the CV group of a real row (nil for synthetic rows), and how it was made.
        let groups: [String?]
        let grouping: FoldGrouping?
        let metricNames: [Int64: String]
        let encoderNames: [String]
        let trainingDigest: String
        let config: Config
        let configText: String
        var syntheticRows: Int { features.generators.filter { $0 != "real" }.count }
    }

    /// The model fitted on every row, with its cross-validation.
    struct Fitted {
        let model: TrainedModel
        let history: [EpochRecord]
        let evaluation: Evaluation
    }

    /// plan → reuse an identical checkpoint, or fit → save.
    public func run(_ options: Options) throws -> Report {
        let started = Date()
        return try run(try plan(options), started: started)
    }

    /// `run` of a plan already made (its rows read once, by whoever compared it first).
    func run(_ plan: Plan, started: Date = Date()) throws -> Report {
        let options = plan.options
        if let reused = try reusable(plan) {
            return report(plan, run: reused.run, checkpoint: reused.id, evaluation: try Self.evaluation(of: reused), started: started, reused: true)
        }
        let runID = try store.write { db in
            try RunLedger.begin(db, kind: "train", parameters: ["dataset": options.dataset, "encoder": options.encoderKeys.joined(separator: " + "),
                                                                 "model": options.model.rawValue, "profile": options.profile,
                                                                 "synthetic": options.syntheticGenerators.sorted().joined(separator: ",")])
        }
        let (checkpointID, evaluation) = try store.failingRun(runID) {
            let fitted = try fit(plan)
            return (try save(plan, fitted, run: runID), fitted.evaluation)
        }
        return report(plan, run: runID, checkpoint: checkpointID, evaluation: evaluation, started: started, reused: false)
    }

    /// Reads the training rows and fixes the settings and their digest.
    /// `sameRows`: a plan of options that differ from these in the model's settings only (not in
    /// the data set, rows or features), whose rows are taken instead of read again.
    func plan(_ options: Options, sameRows: Plan? = nil) throws -> Plan {
        let (datasetID, features, lineage, metricNames, encoderNames) = try sameRows.map {
            ($0.datasetID, $0.features, $0.lineage, $0.metricNames, $0.encoderNames)
        } ?? store.read { db in
            let datasetID = try DatasetResolver.require(db, options.dataset).id
            let f = try FeatureMatrix.load(db, dataset: options.dataset, selection: .train, encoderKeys: options.encoderKeys,
                                           syntheticGenerators: options.syntheticGenerators, extras: options.usesExtras,
                                           system: options.system, interactions: options.interactions, omitted: options.omitted,
                                           subset: options.sampleRows.map { .init(rows: $0, seed: options.training.seed) })
            return (datasetID, f, try Lineage.load(db, dataset: datasetID, sampleIDs: f.sampleIDs),
                    Dictionary(uniqueKeysWithValues: try Metric.all(db, dataset: datasetID).map { ($0.id, $0.name) }),
                    try options.encoderKeys.map { try Encoder.keyed(db, $0)?.displayName ?? $0 })
        }
        guard features.rows >= 10 else {
            throw PipelineError.tooFewTrainingRows(dataset: options.dataset, rows: features.rows, needed: 10)
        }
        let (groups, grouping): ([String?], FoldGrouping?)
        if let sameRows, sameRows.options.cvGroups == options.cvGroups, sameRows.options.cvFolds == options.cvFolds,
           sameRows.options.training.seed == options.training.seed {
            (groups, grouping) = (sameRows.groups, sameRows.grouping)
        } else if options.cvFolds >= 2 {
            let made = try FoldGrouping.forTraining(store: store, options: options, features: features, lineage: lineage,
                                                   threads: options.boosting.threads)
            (groups, grouping) = (made.keys, made.grouping)
        } else {
            (groups, grouping) = (lineage.items(features), nil)
        }
        var hasher = SHA256()
        FeatureMatrix.digest(&hasher, ids: features.sampleIDs, origins: features.generators)
        if options.model == .seed, let problem = ResidualMLP.Config.problem(inputs: features.width, widths: options.network, dropout: options.dropout) {
            throw PipelineError.badModel(model: "seed", reason: problem)
        }
        let mlpConfig = ResidualMLP.Config(inputs: features.width, widths: options.network, dropout: options.dropout)
        let layouts = options.model == .seed ? ResidualMLP(config: mlpConfig, seed: 0) : nil
        let config = Config(model: options.model.rawValue, profile: options.profile, features: features.layout,
                            origins: ["real"] + options.syntheticGenerators.sorted(), cv_folds: options.cvFolds,
                            network: layouts.map { _ in mlpConfig }, training: layouts.map { _ in options.training },
                            parameter_count: layouts?.parameters.count, state_count: layouts?.state.count,
                            parameter_layout: layouts?.layout, state_layout: layouts?.stateLayout,
                            boosting: options.model == .boosted ? options.boosting : nil,
                            bag_folds: options.model == .boosted && options.bagging != .off && options.cvFolds >= 2
                                ? options.bagging.rawValue : nil,
                            neighbours: options.model == .knn ? options.neighbours : nil,
                            out_of_fold: options.model == .boosted && options.bagging == .cv && options.cvFolds >= 2 ? Evaluation.nestedBag : nil,
                            cv_groups: grouping,
                            early_stopping: options.model == .boosted && options.boosting.earlyStoppingRounds != nil ? "refit" : nil)
        if options.model == .knn, Self.neighbourColumns(features.layout).blocks.isEmpty {
            throw PipelineError.badModel(model: "knn", reason: "it finds neighbours by the prompt and response vectors, and --omit left both out")
        }
        return Plan(options: options, datasetID: datasetID, features: features, y: features.targets.map { $0 ?? 0 },
                    lineage: lineage, groups: groups, grouping: grouping, metricNames: metricNames, encoderNames: encoderNames, trainingDigest: hasher.finalize().hexString,
                    config: config, configText: try JSONText.encode(config))
    }

    /// Training is deterministic: the same rows and settings give the same checkpoint, so an
    /// identical one already in the store is reused instead of recomputed.
    /// One trained before checkpoints kept their out-of-fold predictions is trained again, so
    /// that it can be blended; so is a nested bag comparison trained before it kept its
    /// per-fold numbers, so that a choice that weighs bags fold by fold (the learner's) can
    /// weigh it. Either way the old checkpoint stays, and the new one is the newest identical
    /// one, which the next run reuses.
    func reusable(_ plan: Plan) throws -> Checkpoint? {
        try store.read { db in
            guard let same = try Checkpoint.identical(db, dataset: plan.datasetID, trainingDigest: plan.trainingDigest, config: plan.configText)
            else { return nil }
            let kept = try OutOfFoldPredictions.exist(db, checkpoint: same.id)
            if plan.options.cvFolds > 0 && !kept { return nil }
            if plan.options.model == .boosted, plan.options.bagging == .cv, plan.options.cvFolds >= 2,
               let nested = try Self.evaluation(of: same).nestedBagging, nested.bagFoldRMSE == nil || nested.singleFoldRMSE == nil {
                return nil
            }
            return same
        }
    }
}
