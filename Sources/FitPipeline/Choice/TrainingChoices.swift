import FitStore
import Foundation

/// The choices made while training, by CV on the same folds under `NoiseRule`:
/// - the system prompt block (when asked by CV): trained without and with, both without the
///   nested bag (a variant's CV does not depend on it), the block kept only when it beats its
///   noise; both checkpoints stay in the store, the comparison says which won;
/// - the bag of fold models (`--bag-folds cv`): the winner trained again with the nested
///   comparison, which decides inside one training (`TrainModel.NestedBagging`).
public enum TrainingChoices {
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

    /// Trains `options`, choosing the system prompt block by CV when `byCV`.
    public static func train(store: Store, options: TrainModel.Options, byCV: Bool, progress: any ProgressSink) throws -> Outcome {
        let trainer = TrainModel(store: store, progress: progress)
        var comparisons: [Comparison.New] = []
        var lines: [String] = []
        var chosen = options
        if byCV && options.cvFolds >= 2 {
            var without = options, with = options
            without.system = false
            with.system = true
            // Compared without the nested bag: a variant's CV is the fold models' either way.
            if options.bagging == .cv { without.bagging = .off; with.bagging = .off }
            let a = try trainer.run(without)
            KillPoint.reach("choice.first-variant")
            let b = try trainer.run(with)
            let (comparison, verdict) = Comparison.New.judged(
                kind: .systemPrompt, simple: candidate(a, label: "without the system prompt block"),
                complex: candidate(b, label: "with the system prompt block"))
            comparisons.append(comparison)
            lines.append(String(format: "system prompt block: CV RMSE %.4f without, %.4f with (%@): %@",
                                a.evaluation.crossValidation?.rmse ?? .nan, b.evaluation.crossValidation?.rmse ?? .nan,
                                verdict.summary, verdict.keepComplex ? "kept" : "left out"))
            chosen.system = verdict.keepComplex
            if options.bagging != .cv { return Outcome(report: verdict.keepComplex ? b : a, comparisons: comparisons, lines: lines) }
        }
        let report = try trainer.run(chosen)
        if let nested = report.evaluation.nestedBagging, let bagFolds = nested.bagFoldRMSE, let singleFolds = nested.singleFoldRMSE {
            let single = Comparison.Candidate(checkpoint: nested.kept ? nil : report.checkpointID, label: "one model on every row (the CV fold models)",
                                              cvRMSE: Double(nested.singleRMSE), foldRMSE: singleFolds.map(Double.init))
            let bag = Comparison.Candidate(checkpoint: nested.kept ? report.checkpointID : nil, label: "bag of the CV fold models (nested CV)",
                                           cvRMSE: Double(nested.bagRMSE), foldRMSE: bagFolds.map(Double.init))
            // The training applied the rule itself (its verdict is in the evaluation, printed with it).
            comparisons.append(Comparison.New.judged(kind: .bag, simple: single, complex: bag).0)
        }
        return Outcome(report: report, comparisons: comparisons, lines: lines)
    }
}
