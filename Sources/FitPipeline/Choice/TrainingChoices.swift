import FitStore
import FitTrain
import Foundation

/// The choices made while training, by CV on the same folds under `NoiseRule`:
/// - the system prompt block (when asked by CV): trained without and with, both without the
///   nested bag (a variant's CV does not depend on it), the block kept only when it beats its
///   noise; both checkpoints stay in the store, the comparison says which won;
/// - the extra columns in every tree (`run --learner cv`, boosted trees sampling features):
///   the default (every tree may split on the extras, the feature fraction samples the
///   vector dimensions) against sampling every column alike, both without the nested bag;
///   sampling alike is kept only when it beats the default beyond its noise;
/// - the bag of fold models (`--bag-folds cv`): the winner trained again with the nested
///   comparison, which decides inside one training (`TrainModel.NestedBagging`);
/// - the learner's settings (`run --learner cv`, boosted trees): the default settings against
///   the leaf-wise wide ones (`BoostingOptions.leafWiseWide`), each as it would be kept (bag or
///   not, by its own nested comparison), on the same folds and sub-folds.
public enum TrainingChoices {
    /// Which boosted settings `run` trains: the default, the leaf-wise wide ones, or the one
    /// nested CV prefers (beyond its noise).
    public enum Learner: String, Sendable, CaseIterable {
        case `default`, wide, cv
    }

    public struct Outcome: Sendable {
        /// The checkpoint these choices lead to.
        public var report: TrainModel.Report
        /// The comparisons made (system prompt block, bag), for `Choices.record`.
        public var comparisons: [Comparison.New]
        /// One line per choice, for the user.
        public var lines: [String]
    }

    static func candidate(_ report: TrainModel.Report, label: String) -> Comparison.Candidate {
        let cv = report.evaluation.crossValidation
        return Comparison.Candidate(checkpoint: report.checkpointID, label: label, cvRMSE: Double(cv?.rmse ?? .nan),
                                    foldRMSE: (cv?.foldRMSE ?? []).map(Double.init))
    }

    /// The CV of a checkpoint as it is kept: its bag's nested CV when the bag was kept, else
    /// its fold models' (the single model's nested numbers, on the same sub-folds, when the
    /// nested comparison ran).
    /// nil when the nested comparison ran but its per-fold numbers were not kept (a checkpoint
    /// trained before they were): its fold models' CV would then be compared with the other
    /// candidate's bag, which is not a comparison on the same footing.
    static func asKept(_ report: TrainModel.Report, label: String) -> Comparison.Candidate? {
        guard let nested = report.evaluation.nestedBagging else { return candidate(report, label: label) }
        guard var kept = nestedCandidate(report, bag: nested.kept) else { return nil }
        kept.label = label + (nested.kept ? ", bag of fold models (nested CV)" : ", one model (nested CV)")
        return kept
    }

    /// One side of a training's nested comparison (`--bag-folds cv`) on its per-fold numbers:
    /// the bag of the fold models or the one model, the checkpoint only on the side it kept;
    /// nil without that comparison or its per-fold numbers.
    static func nestedCandidate(_ report: TrainModel.Report, bag: Bool) -> Comparison.Candidate? {
        guard let nested = report.evaluation.nestedBagging, let folds = bag ? nested.bagFoldRMSE : nested.singleFoldRMSE else { return nil }
        return Comparison.Candidate(checkpoint: nested.kept == bag ? report.checkpointID : nil,
                                    label: bag ? "bag of the CV fold models (nested CV)" : "one model on every row (the CV fold models)",
                                    cvRMSE: Double(bag ? nested.bagRMSE : nested.singleRMSE), foldRMSE: folds.map(Double.init))
    }

    /// Trains `options`, choosing the system prompt block by CV when `byCV`, and the boosted
    /// trees' settings as `learner` says.
    public static func train(store: Store, options: TrainModel.Options, byCV: Bool, learner: Learner = .default,
                             progress: any ProgressSink) throws -> Outcome {
        var options = options
        if learner == .wide && options.model == .boosted { options.boosting = options.boosting.leafWiseWide }
        let trainer = TrainModel(store: store, progress: progress)
        var comparisons: [Comparison.New] = []
        var lines: [String] = []
        var chosen = options
        var unbagged: TrainModel.Report?  // the chosen variant without the nested bag, when trained
        if byCV && options.cvFolds >= 2 {
            var without = options, with = options
            without.system = false
            with.system = true
            let (a, b, comparison, verdict) = try weighUnbagged(
                trainer, kind: .systemPrompt, simple: (without, "without the system prompt block"),
                complex: (with, "with the system prompt block"), between: "choice.first-variant")
            comparisons.append(comparison)
            lines.append(String(format: "system prompt block: CV RMSE %.4f without, %.4f with (%@): %@",
                                a.evaluation.crossValidation?.rmse ?? .nan, b.evaluation.crossValidation?.rmse ?? .nan,
                                verdict.summary, verdict.keepComplex ? "kept" : "left out"))
            chosen.system = verdict.keepComplex
            unbagged = verdict.keepComplex ? b : a
            if options.bagging != .cv && learner != .cv { return Outcome(report: verdict.keepComplex ? b : a, comparisons: comparisons, lines: lines) }
        }
        if learner == .cv, chosen.model == .boosted, chosen.cvFolds >= 2, chosen.usesExtras,
           chosen.boosting.fixedColumnsInEveryTree == true, chosen.boosting.featureFraction < 1 {
            KillPoint.reach("choice.extras")
            var alike = chosen
            alike.boosting.fixedColumnsInEveryTree = false
            let (a, b, comparison, verdict) = try weighUnbagged(
                trainer, kind: .extrasInEveryTree, simple: (chosen, "the extra columns in every tree"),
                complex: (alike, "every column sampled alike"), simpleTrained: unbagged)
            comparisons.append(comparison)
            lines.append(String(format: "extra columns: CV RMSE %.4f in every tree, %.4f sampled like the vectors (%@): %@",
                                a.evaluation.crossValidation?.rmse ?? .nan, b.evaluation.crossValidation?.rmse ?? .nan,
                                verdict.summary, verdict.keepComplex ? "sampled alike" : "in every tree"))
            chosen.boosting.fixedColumnsInEveryTree = !verdict.keepComplex
        }
        let report = try trainer.run(chosen)
        comparisons += bagComparison(report)
        guard learner == .cv, chosen.model == .boosted, chosen.cvFolds >= 2 else {
            return Outcome(report: report, comparisons: comparisons, lines: lines)
        }
        // The learner: the wide settings on the same rows, blocks, folds and bag rule, each
        // candidate as it would be kept.
        KillPoint.reach("choice.learner")
        var wide = chosen
        wide.boosting = chosen.boosting.leafWiseWide
        let other = try trainer.run(wide)
        comparisons += bagComparison(other)
        guard let simple = asKept(report, label: "default settings (" + describe(chosen.boosting) + ")"),
              let complex = asKept(other, label: "leaf-wise wide settings (" + describe(wide.boosting) + ")") else {
            lines.append("learner: not compared: a candidate has no per-fold nested numbers; the default kept (fix it with --learner)")
            return Outcome(report: report, comparisons: comparisons, lines: lines)
        }
        let (comparison, verdict) = Comparison.New.judged(kind: .learner, simple: simple, complex: complex)
        comparisons.append(comparison)
        lines.append(String(format: "learner: CV RMSE %.4f default settings, %.4f leaf-wise wide (%@): %@",
                            comparison.candidates[0].cvRMSE, comparison.candidates[1].cvRMSE, verdict.summary,
                            verdict.keepComplex ? "the wide settings kept" : "the default kept"))
        return Outcome(report: verdict.keepComplex ? other : report, comparisons: comparisons, lines: lines)
    }

    /// Two variants trained and judged on their fold models' CV, both without the nested bag (a
    /// variant's CV is the fold models' either way; only the winner is then trained with it):
    /// `simpleTrained` is the simple variant's training when it was already made, `between`
    /// a kill point reached between the two trainings.
    static func weighUnbagged(_ trainer: TrainModel, kind: Comparison.Kind, simple: (options: TrainModel.Options, label: String),
                              complex: (options: TrainModel.Options, label: String), simpleTrained: TrainModel.Report? = nil,
                              between: String? = nil) throws
        -> (simple: TrainModel.Report, complex: TrainModel.Report, comparison: Comparison.New, verdict: NoiseRule.Verdict) {
        func unbagged(_ o: TrainModel.Options) -> TrainModel.Options {
            var o = o
            if o.bagging == .cv { o.bagging = .off }
            return o
        }
        let a = try simpleTrained ?? trainer.run(unbagged(simple.options))
        if let between { KillPoint.reach(between) }
        let b = try trainer.run(unbagged(complex.options))
        let (comparison, verdict) = Comparison.New.judged(kind: kind, simple: candidate(a, label: simple.label),
                                                          complex: candidate(b, label: complex.label))
        return (a, b, comparison, verdict)
    }

    /// Boosting settings in words, for a comparison's labels.
    static func describe(_ b: BoostingOptions) -> String {
        let extras = b.fixedColumnsInEveryTree == true && b.featureFraction < 1 ? " (the extras in every tree)" : ""
        return String(format: "learning rate %g, %d leaves, %.0f%% features%@, %.0f%% rows, %d rounds",
                      b.learningRate, b.leaves, b.featureFraction * 100, extras, b.rowFraction * 100, b.trees)
    }

    /// The nested comparison a training with `--bag-folds cv` made, as a recorded comparison.
    static func bagComparison(_ report: TrainModel.Report) -> [Comparison.New] {
        guard let single = nestedCandidate(report, bag: false), let bag = nestedCandidate(report, bag: true) else { return [] }
        // The training applied the rule itself (its verdict is in the evaluation, printed with it).
        return [Comparison.New.judged(kind: .bag, simple: single, complex: bag).0]
    }
}
