import FitAugment
import FitFormats
import FitStore
import FitTrain
import Foundation
import GRDB

/// Fitting: the cross-validated fit of a plan, each model family's fit on a set of rows, and
/// saving the checkpoint.
extension TrainModel {
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
        let cv = try CrossValidation(folds: options.cvFolds, seed: options.training.seed).run(
            y: y, metrics: features.metricIDs, metricNames: plan.metricNames, items: items, ancestors: ancestors,
            grouping: plan.grouping.map { "\($0.kind.rawValue) (\($0.chosenBy == "auto" ? "chosen by the check" : "--cv-groups"))" } ?? "item (prompt and response)",
            fit: { fold, rows in
                try checkDeadline()
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
                try checkDeadline()
                return { model.predict(x: features.values, rows: $0) }
            },
            foldDone: { fold, rmse in progress.note(String(format: "CV fold %d of %d: RMSE %.4f", fold + 1, options.cvFolds, rmse)) })
        try checkDeadline()
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
                let bagged = cv.rescored(predicted: bagPredicted, y: y, metrics: features.metricIDs, metricNames: plan.metricNames)
                // The bag is the more complex variant: kept only when it beats its noise (`NoiseRule`).
                let verdict = NoiseRule.judge(simple: cv.foldRMSE, complex: bagged.foldRMSE)
                keepBag = verdict.keepComplex
                evaluation.nestedBagging = NestedBagging(bagRMSE: bagged.rmse, singleRMSE: cv.rmse, kept: keepBag,
                                                         bagFoldRMSE: bagged.foldRMSE, singleFoldRMSE: cv.foldRMSE,
                                                         meanGain: verdict.meanGain, standardError: verdict.standardError)
                if keepBag {
                    // The stored model will be a bag: its out-of-fold predictions (what a blend
                    // fits its weights on, and its one CV number) are the nested bags', which
                    // predict like a bag does. The fold models' would make a blend lean on its
                    // other members as if the model were as noisy as one fit (measured: weights
                    // fitted that way made the test worse on basse_gpt4o, mixed and lowres_qe).
                    evaluation.crossValidation = bagged
                    evaluation.outOfFold = Evaluation.nestedBag
                }
                progress.note(String(format: "bag of fold models: nested CV RMSE %.4f against %.4f for one model on every row (%@): %@",
                                     bagged.rmse, cv.rmse, verdict.summary, keepBag ? "kept" : "left out"))
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
            try checkDeadline()
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
            // A data set's first checkpoint is its chosen one until a choice names another.
            if try ChosenCheckpoint.current(db, dataset: plan.datasetID) == nil {
                try ChosenCheckpoint.choose(db, dataset: plan.datasetID, checkpoint: id, run: runID, comparison: nil,
                                            reason: "the data set's first checkpoint")
            }
            struct Counts: Encodable { let train_rows: Int; let synthetic_rows: Int; let epochs: Int; let checkpoint: Int64; let cv_rmse: Float? }
            try RunLedger.finish(db, run: runID, counts: Counts(train_rows: plan.features.rows, synthetic_rows: plan.syntheticRows,
                                                                 epochs: fitted.history.count, checkpoint: id,
                                                                 cv_rmse: fitted.evaluation.crossValidation?.rmse))
            return id
        }
    }

    func report(_ plan: Plan, run: Int64, checkpoint: Int64, evaluation: Evaluation, started: Date, reused: Bool) -> Report {
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
    func fit(_ options: Options, features: FeatureMatrix, y: [Float], rows: [Int], validation: [Int]?,
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
            let deadline = self.deadline
            let shouldStop = { deadline.map { Date() >= $0 } ?? false }
            // The metric's vector block keys the metric's mean column (when the options ask for it).
            let metric = features.layout.blocks.first { $0.name == "metric" && $0.end > $0.start }.map { $0.start..<$0.end }
            // The extra columns (contiguous, after the vector blocks) are the ones every tree may offer.
            let extras = features.layout.blocks.filter { $0.source == "extra" }
            let fixed = extras.first.map { first in first.start..<(extras.last?.end ?? first.end) }
            let (trees, history) = BoostedTreesTrainer(options: options.boosting).fit(
                x: features.values, width: features.width, y: y, train: train, validation: held, groupColumns: metric,
                fixedColumns: fixed,
                shouldStop: shouldStop) { record in
                meter.step(record.epoch + 1)
                if !quiet, (record.epoch + 1) % 100 == 0 {
                    progress.note(String(format: "round %4d  train MSE %.4f", record.epoch + 1, record.trainLoss))
                }
            }
            guard stopping != nil else { return (.boosted(trees), history) }
            // Early stopping chose the rounds on a held-out tenth; the model is then fitted
            // again on every row with that many rounds, so no tenth of the data is lost to it.
            var refit = options.boosting
            refit.trees = max(1, trees.trees.count)
            refit.earlyStoppingRounds = nil
            let (all, _) = BoostedTreesTrainer(options: refit).fit(x: features.values, width: features.width, y: y, train: rows,
                                                                   groupColumns: metric, fixedColumns: fixed, shouldStop: shouldStop)
            return (.boosted(all), history)
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
    func fitSeed(_ options: Options, features: FeatureMatrix, y: [Float], rows: [Int], quiet: Bool, meter: Meter? = nil)
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
}
