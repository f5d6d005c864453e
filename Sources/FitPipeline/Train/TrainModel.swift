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
        /// Variants that CV compared with this checkpoint and left out (their checkpoints
        /// were not kept), so that the same comparison is not trained again.
        public var leftOut: [LeftOut]?
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

        /// The RMSE of the stored out-of-fold predictions: the nested bags' when they are
        /// what `cv_prediction` holds, else the CV's.
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
    }

    /// A variant a choice by CV left out: what it was, the digest of its settings and rows, its CV RMSE.
    public struct LeftOut: Codable, Sendable {
        public var variant: String
        public var key: String
        public var cvRMSE: Float
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
    }

    let store: Store
    let progress: any ProgressSink

    public init(store: Store, progress: any ProgressSink = SilentProgress()) {
        self.store = store
        self.progress = progress
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
            return report(plan, run: reused.run, checkpoint: reused.id, evaluation: try JSONDecoder().decode(
                Evaluation.self, from: Data(reused.evaluation.utf8)), started: started, reused: true)
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

    /// Trains `options`; with `byCV`, trains it without and with the system prompt block and
    /// returns the one with the lower CV RMSE. A variant that lost and was trained just now is
    /// not kept (the newest checkpoint is what predict takes by default); the winner records
    /// it, so a rerun with nothing new does not train it again.
    public static func trainChoosingSystemPrompt(store: Store, options: Options, byCV: Bool, progress: any ProgressSink,
                                                 said: (String) -> Void) throws -> Report {
        let trainer = TrainModel(store: store, progress: progress)
        guard byCV, options.cvFolds >= 2 else { return try trainer.run(options) }
        var without = options, with = options
        without.system = false
        with.system = true
        // Compared before: the recorded CV decides, and the loser is not trained again.
        let (planA, planB) = (try trainer.plan(without), try trainer.plan(with))
        let key = { (plan: Plan) in SHA256.digest(plan.configText + "\n" + plan.trainingDigest).hexString }
        let (keyA, keyB) = (key(planA), key(planB))
        func recorded(_ plan: Plan, beats other: String) throws -> Float? {
            guard let same = try trainer.reusable(plan),
                  let evaluation = try? JSONDecoder().decode(Evaluation.self, from: Data(same.evaluation.utf8)) else { return nil }
            return evaluation.leftOut?.first(where: { $0.key == other })?.cvRMSE
        }
        if let lost = try recorded(planA, beats: keyB) {
            let a = try trainer.run(planA)
            said(String(format: "system prompt block: CV RMSE %.4f without, %.4f with: left out (compared before)",
                        a.evaluation.crossValidation?.rmse ?? .nan, lost))
            return a
        }
        if let lost = try recorded(planB, beats: keyA) {
            let b = try trainer.run(planB)
            said(String(format: "system prompt block: CV RMSE %.4f without, %.4f with: kept (compared before)",
                        lost, b.evaluation.crossValidation?.rmse ?? .nan))
            return b
        }
        // A variant's CV does not depend on the bag of fold models (it is the fold models' either
        // way), so with `--bag-folds cv` the two variants are compared without the nested bag and
        // only the winner is trained with it: 2 x 6 + 31 fits instead of 2 x 31.
        let bagAfter = options.model == .boosted && options.bagging == .cv
        var (compareWithout, compareWith) = (without, with)
        if bagAfter { compareWithout.bagging = .off; compareWith.bagging = .off }
        let a = try trainer.run(bagAfter ? try trainer.plan(compareWithout, sameRows: planA) : planA)
        let b = try trainer.run(bagAfter ? try trainer.plan(compareWith, sameRows: planB) : planB)
        let (ra, rb) = (a.evaluation.crossValidation?.rmse ?? .infinity, b.evaluation.crossValidation?.rmse ?? .infinity)
        let keep = rb < ra
        said(String(format: "system prompt block: CV RMSE %.4f without, %.4f with: %@", ra, rb, keep ? "kept" : "left out"))
        var winner = keep ? b : a
        let loser = keep ? a : b
        // Checkpoints trained here only to compare, which are not kept (the newest checkpoint is
        // what predict takes by default).
        var comparisonOnly: [Report] = []
        if bagAfter {
            let bagged = try trainer.run(keep ? planB : planA)
            comparisonOnly = [a, b].filter { !$0.reused && $0.checkpointID != bagged.checkpointID }
            winner = bagged
        } else if !loser.reused, loser.checkpointID > winner.checkpointID {
            comparisonOnly = [loser]
        }
        // The winner records the comparison, so that a rerun trains neither variant again
        // (without the bag: only when the loser was trained now, as before).
        let loserKey = keep ? keyA : keyB
        let recorded = winner.evaluation.leftOut?.contains(where: { $0.key == loserKey }) == true
        if comparisonOnly.isEmpty && (recorded || !bagAfter) { return winner }
        var evaluation = winner.evaluation
        evaluation.leftOut = (evaluation.leftOut ?? []).filter { $0.key != loserKey }
            + [LeftOut(variant: keep ? "without the system prompt block" : "system prompt block", key: loserKey, cvRMSE: keep ? ra : rb)]
        let text = try JSONText.encode(evaluation)
        try store.write { db in
            for c in comparisonOnly { try Checkpoint.delete(db, id: c.checkpointID) }
            try Checkpoint.updateEvaluation(db, id: winner.checkpointID, text)
        }
        winner.evaluation = evaluation
        return winner
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
                            cv_groups: grouping)
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
    /// that it can be blended.
    func reusable(_ plan: Plan) throws -> Checkpoint? {
        try store.read { db in
            guard let same = try Checkpoint.identical(db, dataset: plan.datasetID, trainingDigest: plan.trainingDigest, config: plan.configText)
            else { return nil }
            let kept = try OutOfFoldPredictions.exist(db, checkpoint: same.id)
            return plan.options.cvFolds > 0 && !kept ? nil : same
        }
    }

    /// Training's work in rounds (boosting) or epochs (the seed MLP): one fit per CV fold and
    /// the final fit, each at most `perFit` steps. The bar's total is exact for boosting and
    /// an upper bound for the MLP (early stopping may end a fit sooner: the bar then jumps).
    final class Meter: @unchecked Sendable {
        let progress: any ProgressSink
        let phase: String
        let perFit: Int
        let unit: String
        private(set) var fitsDone = 0
        private let total: Int

        init(progress: any ProgressSink, folds: Int, perFit: Int, unit: String, nestedFits: Int = 0) {
            self.progress = progress
            self.perFit = perFit
            self.unit = unit
            total = (folds + 1 + nestedFits) * perFit
            phase = folds > 0 ? "train (\(folds) CV folds\(nestedFits > 0 ? " with \(nestedFits) nested fits" : "") + final fit)" : "train"
        }

        func step(_ done: Int) { progress.advance(phase: phase, done: fitsDone * perFit + done, total: total, unit: unit) }
        func fitFinished() { fitsDone += 1; step(0) }
        func finish() { progress.finish(phase: phase) }
    }

    /// Cross-validation on real rows, then the model on every row (or, with `bagging` on or
    /// chosen by the nested comparison, the mean of the fold models). With early stopping, every boosted fit holds out a tenth of
    /// its own rows' items to stop on (grouped like the folds, so the held-out fold is never
    /// seen), and the final fit runs the mean of the rounds the folds kept.
    func fit(_ plan: Plan) throws -> Fitted {
        let options = plan.options, features = plan.features, y = plan.y
        let nested = options.model == .boosted && options.bagging == .cv && options.cvFolds >= 2
        let meter = switch options.model {
        case .boosted: Meter(progress: progress, folds: options.cvFolds, perFit: options.boosting.trees, unit: "rounds",
                             nestedFits: nested ? options.cvFolds * options.cvFolds : 0)
        case .seed: Meter(progress: progress, folds: options.cvFolds, perFit: options.training.maxEpochs, unit: "epochs")
        case .knn: Meter(progress: progress, folds: options.cvFolds, perFit: options.neighbours.innerFolds + 1, unit: "searches")
        }
        defer { meter.finish() }
        // CV groups, not identical text alone: every fold below, nested or inner, groups by them.
        let items = plan.groups, ancestors = plan.lineage.ancestors(features)
        let earlyStopping = options.model == .boosted && options.boosting.earlyStoppingRounds != nil
        func stoppingSplit(_ rows: [Int], salt: UInt64) -> (train: [Int], held: [Int])? {
            guard earlyStopping else { return nil }
            return CrossValidation(folds: 10, seed: options.training.seed &+ salt).subFolds(rows: rows, items: items, ancestors: ancestors)?.first
        }
        var foldHistory: [EpochRecord]?
        var foldModels: [BoostedTrees] = []
        var foldK: [Int] = []
        var nestedBags: [Int: BoostedTrees] = [:]
        let cv = CrossValidation(folds: options.cvFolds, seed: options.training.seed).run(
            y: y, metrics: features.metricIDs, metricNames: plan.metricNames, items: items, ancestors: ancestors,
            grouping: plan.grouping.map { "\($0.kind.rawValue) (\($0.chosenBy == "auto" ? "chosen by the check" : "--cv-groups"))" } ?? "item (prompt and response)",
            fit: { fold, rows in
                let (model, history) = fit(options, features: features, y: y, rows: rows, validation: fold == 0 ? nil : [],
                                           stopping: stoppingSplit(rows, salt: UInt64(fold) + 1), quiet: true, meter: meter,
                                           lineage: (items, ancestors, UInt64(fold) + 1))
                meter.fitFinished()
                if fold == 0 { foldHistory = history }
                if case .boosted(let trees) = model { foldModels.append(trees) }
                if case .knn(let knn) = model { foldK.append(knn.k) }
                if nested, let parts = CrossValidation(folds: options.cvFolds, seed: options.training.seed &+ 1000 &+ UInt64(fold))
                    .subFolds(rows: rows, items: items, ancestors: ancestors) {
                    var members: [BoostedTrees] = []
                    for (part, split) in parts.enumerated() {
                        let (m, _) = fit(options, features: features, y: y, rows: split.train, validation: [],
                                         stopping: stoppingSplit(split.train, salt: 100 &* UInt64(fold + 1) &+ UInt64(part)),
                                         quiet: true, meter: meter, lineage: (items, ancestors, 0))
                        meter.fitFinished()
                        if case .boosted(let trees) = m { members.append(trees) }
                    }
                    nestedBags[fold] = BoostedTrees.bagged(members)
                }
                return { model.predict(x: features.values, rows: $0) }
            },
            foldDone: { fold, rmse in progress.note(String(format: "CV fold %d of %d: RMSE %.4f", fold + 1, options.cvFolds, rmse)) })
        let all = Array(0..<features.rows)
        var evaluation = Evaluation(crossValidation: cv)
        switch options.model {
        case .knn:
            let (model, choice) = fitNeighbours(options, features: features, y: y, rows: all, items: items, ancestors: ancestors,
                                                salt: 0, meter: meter)
            progress.note("nearest neighbours: k " + zip(options.neighbours.candidates, choice.rmse).map { k, r in
                r.map { String(format: "%d: inner CV RMSE %.4f", k, $0) } ?? "\(k): -" }.joined(separator: ", ") + "; kept k \(model.k)")
            evaluation.neighbours = NeighbourChoice(candidates: options.neighbours.candidates, foldK: foldK, k: model.k, innerRMSE: choice.rmse)
            return Fitted(model: .knn(model), history: [], evaluation: evaluation)
        case .seed:
            let fitted = fitSeed(options, features: features, y: y, rows: all, quiet: false, meter: meter)
            let baselines = Self.baselines(y: y, metrics: features.metricIDs, train: fitted.train, validation: fitted.validation)
            evaluation.validationRows = fitted.validation.count
            evaluation.validationRMSE = fitted.result.bestValidationRMSE
            evaluation.constantMeanRMSE = baselines.constant
            evaluation.perMetricMeanRMSE = baselines.perMetric
            evaluation.bestEpoch = fitted.result.bestEpoch
            return Fitted(model: .seed(fitted.model), history: fitted.result.history, evaluation: evaluation)
        case .boosted:
            if earlyStopping, !foldModels.isEmpty { evaluation.foldRounds = foldModels.map(\.trees.count) }
            var keepBag = options.bagging == .on
            if nested, let cv, nestedBags.count == cv.folds {
                // Each fold's held-out rows as its nested bag predicts them.
                var bagPredicted = [Float](repeating: 0, count: y.count)
                for (fold, bag) in nestedBags {
                    let held = cv.heldOut.filter { $0.fold == fold }.map(\.row)
                    for (r, p) in zip(held, bag.predict(x: features.values, rows: held)) { bagPredicted[r] = p }
                }
                let bagRMSE = CrossValidation.rmse(cv.heldOut.map(\.row), bagPredicted, y)
                keepBag = bagRMSE < cv.rmse
                evaluation.nestedBagging = NestedBagging(bagRMSE: bagRMSE, singleRMSE: cv.rmse, kept: keepBag)
                if keepBag {
                    // The stored model will be a bag: its out-of-fold predictions (what a blend
                    // fits its weights on) are the nested bags', which predict like a bag does.
                    // The fold models' would make a blend lean on its other members as if the
                    // model were as noisy as one fit (measured: weights fitted that way made the
                    // test worse on basse_gpt4o, mixed and lowres_qe).
                    evaluation.crossValidation?.heldOut = cv.heldOut.map { ($0.row, $0.fold, bagPredicted[$0.row]) }
                    evaluation.outOfFold = Evaluation.nestedBag
                }
                progress.note(String(format: "bag of fold models: nested CV RMSE %.4f against %.4f for one model on every row: %@",
                                     bagRMSE, cv.rmse, keepBag ? "kept" : "left out"))
            }
            if keepBag, cv != nil, let bag = BoostedTrees.bagged(foldModels) {
                meter.fitFinished()  // the final fit's share of the bar: not needed
                evaluation.rounds = bag.trees.count
                evaluation.bagged = true
                return Fitted(model: .boosted(bag), history: foldHistory ?? [], evaluation: evaluation)
            }
            var final = options
            var stopping: (train: [Int], held: [Int])?
            if let rounds = evaluation.foldRounds {
                // The folds chose the rounds; the final fit runs their mean on every row.
                final.boosting.trees = max(1, Int((Float(rounds.reduce(0, +)) / Float(rounds.count)).rounded()))
                final.boosting.earlyStoppingRounds = nil
            } else {
                stopping = stoppingSplit(all, salt: 0)
            }
            let (fitted, finalHistory) = fit(final, features: features, y: y, rows: all, validation: [], stopping: stopping,
                                             quiet: false, meter: meter, lineage: (items, ancestors, 0))
            if earlyStopping, case .boosted(let trees) = fitted { evaluation.rounds = trees.trees.count }
            // The stored history is CV fold 1's: its rounds carry a held-out RMSE.
            return Fitted(model: fitted, history: foldHistory ?? finalHistory, evaluation: evaluation)
        }
    }

    /// Stores the checkpoint and finishes its run, in one transaction.
    func save(_ plan: Plan, _ fitted: Fitted, run runID: Int64) throws -> Int64 {
        try store.write { db in
            let encoders = try plan.options.encoderKeys.compactMap { try Encoder.keyed(db, $0)?.id }
            let id = try Checkpoint.insert(db, run: runID, dataset: plan.datasetID, model: plan.options.model.rawValue,
                                           config: plan.configText, encoders: encoders, trainingDigest: plan.trainingDigest,
                                           history: try JSONText.encode(fitted.history), evaluation: try JSONText.encode(fitted.evaluation),
                                           weights: fitted.model.flat)
            if let cv = fitted.evaluation.crossValidation {
                try OutOfFoldPredictions.insert(db, checkpoint: id, cv.heldOut.map {
                    .init(sample: plan.features.sampleIDs[$0.row], fold: $0.fold, score: Double($0.score))
                })
            }
            struct Counts: Encodable { let train_rows: Int; let synthetic_rows: Int; let epochs: Int; let checkpoint: Int64; let cv_rmse: Float? }
            try RunLedger.finish(db, run: runID, counts: Counts(train_rows: plan.features.rows, synthetic_rows: plan.syntheticRows,
                                                                 epochs: fitted.history.count, checkpoint: id,
                                                                 cv_rmse: fitted.evaluation.crossValidation?.rmse))
            return id
        }
    }

    private func report(_ plan: Plan, run: Int64, checkpoint: Int64, evaluation: Evaluation, started: Date, reused: Bool) -> Report {
        Report(runID: run, checkpointID: checkpoint, model: plan.options.model, profile: plan.options.profile,
               trainRows: plan.features.rows, syntheticRows: plan.syntheticRows, evaluation: evaluation,
               seconds: Date().timeIntervalSince(started), reused: reused, encoders: plan.encoderNames,
               featureColumns: plan.features.width, grouping: plan.grouping)
    }

    /// Fits the chosen model on `rows`. `validation` nil: the seed model takes its own random
    /// split of `rows` for early stopping; boosted trees hold out every tenth row for the
    /// history's validation curve. `stopping`: boosted trees train on its `train` rows and
    /// stop early on its `held` ones. `lineage`: the rows' items and ancestors, for the inner
    /// grouped CV that chooses the nearest neighbours' k (seeded by `salt`).
    private func fit(_ options: Options, features: FeatureMatrix, y: [Float], rows: [Int], validation: [Int]?,
                     stopping: (train: [Int], held: [Int])? = nil, quiet: Bool, meter: Meter,
                     lineage: (items: [String?], ancestors: [[Int]], salt: UInt64)) -> (TrainedModel, [EpochRecord]) {
        switch options.model {
        case .knn:
            let (model, _) = fitNeighbours(options, features: features, y: y, rows: rows, items: lineage.items,
                                           ancestors: lineage.ancestors, salt: lineage.salt, meter: meter)
            return (.knn(model), [])
        case .seed:
            let fitted = fitSeed(options, features: features, y: y, rows: rows, quiet: quiet, meter: meter)
            return (.seed(fitted.model), fitted.result.history)
        case .boosted:
            // Fold 1 of CV keeps a held-out tenth for the history chart's validation curve.
            var train = rows, held: [Int] = []
            if let stopping {
                (train, held) = stopping
            } else if validation == nil {
                held = stride(from: 0, to: rows.count, by: 10).map { rows[$0] }
                let heldSet = Set(held)
                train = rows.filter { !heldSet.contains($0) }
            }
            let (trees, history) = BoostedTreesTrainer(options: options.boosting).fit(
                x: features.values, width: features.width, y: y, train: train, validation: held) { record in
                meter.step(record.epoch + 1)
                if !quiet, (record.epoch + 1) % 100 == 0 {
                    progress.note(String(format: "round %4d  train MSE %.4f", record.epoch + 1, record.trainLoss))
                }
            }
            return (.boosted(trees), history)
        }
    }

    /// The nearest-neighbours model of `rows`, with k chosen by an inner grouped CV of those
    /// rows alone (the folds of their items, seeded by `salt`; synthetic descendants of an
    /// inner held-out row kept out of that part's training).
    func fitNeighbours(_ options: Options, features: FeatureMatrix, y: [Float], rows: [Int], items: [String?], ancestors: [[Int]],
                       salt: UInt64, meter: Meter) -> (NearestNeighbours, (k: Int, rmse: [Float?])) {
        let columns = Self.neighbourColumns(features.layout)
        let splits = CrossValidation(folds: options.neighbours.innerFolds, seed: options.training.seed &+ 2000 &+ salt)
            .subFolds(rows: rows, items: items, ancestors: ancestors)
        let choice = NearestNeighbours.chooseK(x: features.values, width: features.width, y: y, columns: columns, splits: splits ?? [],
                                               candidates: options.neighbours.candidates, threads: options.neighbours.threads,
                                               splitDone: { meter.step($0 + 1) })
        meter.step(options.neighbours.innerFolds + 1)
        return (NearestNeighbours.fit(x: features.values, width: features.width, y: y, rows: rows, columns: columns, k: choice.k), choice)
    }

    /// The columns a nearest-neighbours model reads: the prompt and response vector blocks
    /// make the point, the metric block the group.
    static func neighbourColumns(_ layout: FeatureMatrix.Layout) -> NearestNeighbours.Columns {
        let blocks = layout.blocks
        return .init(blocks: blocks.filter { ["prompt", "response"].contains($0.name) && $0.end > $0.start }.map { $0.start..<$0.end },
                     group: blocks.first { $0.name == "metric" && $0.end > $0.start }.map { $0.start..<$0.end })
    }

    /// The seed's MLP on `rows`, with the seed's own random validation split of them for
    /// early stopping; per-epoch progress unless `quiet`.
    private func fitSeed(_ options: Options, features: FeatureMatrix, y: [Float], rows: [Int], quiet: Bool, meter: Meter? = nil)
        -> (model: ResidualMLP, result: Trainer.Result, train: [Int], validation: [Int]) {
        let trainer = Trainer(options: options.training)
        let (t, v) = trainer.split(rows: rows.count)
        let (train, validation) = (t.map { rows[$0] }, v.map { rows[$0] })
        let mlp = ResidualMLP(config: .init(inputs: features.width, widths: options.network, dropout: options.dropout),
                              seed: options.training.seed)
        let result = trainer.fit(mlp, x: features.values, y: y, train: train, validation: validation) { record in
            meter?.step(record.epoch + 1)
            if !quiet {
                progress.note(String(format: "epoch %3d  train MSE %.4f  validation RMSE %.4f  lr %.2e",
                                     record.epoch + 1, record.trainLoss, record.validationRMSE, record.learningRate))
            }
        }
        return (mlp, result, train, validation)
    }

    static func baselines(y: [Float], metrics: [Int64], train: [Int], validation: [Int]) -> (constant: Float, perMetric: Float) {
        let b = MeanBaselines(y: y, metrics: metrics, rows: train)
        func rmse(_ predict: (Int) -> Float) -> Float {
            (validation.map { let e = predict($0) - y[$0]; return e * e }.reduce(0, +) / Float(max(1, validation.count))).squareRoot()
        }
        return (rmse { _ in b.mean }, rmse { b.perMetric(metrics[$0]) })
    }

    /// Rebuilds the model of a stored checkpoint; one whose settings or weights cannot make
    /// its model is "damaged", named.
    static func loadModel(_ db: Database, checkpoint stored: Checkpoint) throws -> (TrainedModel, Config) {
        let id = stored.id
        let config: Config
        do {
            config = try JSONDecoder().decode(Config.self, from: Data(stored.config.utf8))
        } catch {
            throw PipelineError.checkpointDamaged(id: id, reason: "its config cannot be read: \(DecodingWords.sentence(error))")
        }
        if let problem = config.features.problem {
            throw PipelineError.checkpointDamaged(id: id, reason: "its feature layout cannot be: \(problem)")
        }
        let weights: [Float]
        do {
            weights = try stored.weights(db)
        } catch let error as StoreError {
            throw PipelineError.checkpointDamaged(id: id, reason: "\(error)")
        }
        let inputs = config.features.width
        switch ModelKind(rawValue: config.model) {
        case .boosted:
            do {
                return (.boosted(try BoostedTrees(flat: weights, inputs: inputs)), config)
            } catch {
                throw PipelineError.checkpointDamaged(id: id, reason: "\(error)")
            }
        case .seed:
            guard let network = config.network, let parameters = config.parameter_count, let state = config.state_count,
                  network.inputs == inputs else {
                throw PipelineError.checkpointDamaged(id: id, reason: "its network configuration is missing or does not fit its features")
            }
            if let problem = network.problem {
                throw PipelineError.checkpointDamaged(id: id, reason: "its network cannot be: \(problem)")
            }
            // Checked before the network is built: a damaged count must not allocate first.
            guard weights.count == parameters &+ state, parameters >= 0, state >= 0 else {
                throw PipelineError.checkpointDamaged(id: id, reason: "it holds \(weights.count) values; its configuration says \(parameters) + \(state)")
            }
            let model = ResidualMLP(config: network, seed: 0)
            guard weights.count == parameters + state, parameters == model.parameters.count, state == model.state.count else {
                throw PipelineError.checkpointDamaged(
                    id: id, reason: "it holds \(weights.count) values; its configuration needs \(model.parameters.count + model.state.count)")
            }
            model.parameters = Array(weights[0..<parameters])
            model.state = Array(weights[parameters...])
            return (.seed(model), config)
        case .knn:
            do {
                return (.knn(try NearestNeighbours(flat: weights, inputs: inputs)), config)
            } catch {
                throw PipelineError.checkpointDamaged(id: id, reason: "\(error)")
            }
        case nil:
            throw PipelineError.checkpointDamaged(id: id, reason: "it is of an unknown model '\(config.model)'")
        }
    }
}

/// Which item each training row belongs to, and which real rows each synthetic row descends
/// from: what grouped cross-validation needs.
struct Lineage {
    var itemOfSample: [Int64: String] = [:]
    var parents: [Int64: [Int64]] = [:]

    /// The items of the selection's real train rows, and the parent links of its synthetic
    /// rows (and of their synthetic ancestors), read for these rows only.
    static func load(_ db: Database, dataset: Int64, sampleIDs: [Int64]) throws -> Lineage {
        var l = Lineage()
        l.itemOfSample = try RealSamples.trainItems(db, ids: sampleIDs)
        var frontier = sampleIDs.filter { l.itemOfSample[$0] == nil }
        var seen = Set(frontier)
        for _ in 0..<16 where !frontier.isEmpty {
            let links = try SyntheticSamples.parentLinks(db, children: frontier)
            l.parents.merge(links) { $1 }
            frontier = links.values.flatMap { $0 }.filter { seen.insert($0).inserted }
            // Real parents end the walk; only synthetic ones have parents of their own.
            frontier = frontier.filter { l.itemOfSample[$0] == nil }
        }
        return l
    }

    func items(_ f: FeatureMatrix) -> [String?] { f.sampleIDs.map { itemOfSample[$0] } }

    /// Row indices of the real ancestors of each synthetic row (following synthetic parents).
    func ancestors(_ f: FeatureMatrix) -> [[Int]] {
        let rowOf = Dictionary(uniqueKeysWithValues: f.sampleIDs.enumerated().map { ($1, $0) })
        func roots(_ id: Int64, depth: Int) -> [Int64] {
            if itemOfSample[id] != nil || depth > 16 { return [id] }
            return (parents[id] ?? []).flatMap { roots($0, depth: depth + 1) }
        }
        return f.sampleIDs.map { id in
            itemOfSample[id] != nil ? [] : (parents[id] ?? []).flatMap { roots($0, depth: 0) }.compactMap { rowOf[$0] }
        }
    }
}
