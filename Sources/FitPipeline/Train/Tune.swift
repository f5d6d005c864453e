import FitFormats
import FitStore
import FitTrain
import Foundation

/// `fitstore tune`: a search around the chosen checkpoint's boosted settings, each trial
/// judged against the chosen checkpoint on the same folds under `NoiseRule`, within a budget.
///
/// It starts from what `run` (or `promote`) chose: the same rows, encoders, feature blocks,
/// system prompt block, bag of fold models and fold grouping, and the same boosting settings
/// (trial 0 is the chosen checkpoint itself, found again, not trained). Trial i > 0 moves the
/// boosting settings around those (learning rate within a factor of two, rounds so that rate
/// x rounds stays, leaves and fewest rows per leaf halved or doubled, feature and row fractions
/// within 0.15, L2) from a generator seeded with (seed, i), so the trials are the same on
/// every run, and a tune that was stopped resumes at once: a trained trial is found again.
///
/// The budget is a limit: a trial is not started when the trials so far say it would not end
/// in time, and a trial running at the budget stops after its current boosting round, is not
/// stored, and says so. The chosen checkpoint changes only with `promote`, and then only to a
/// trial that beats it by more than its noise.
public struct Tune {
    public struct Trial: Sendable {
        public var index: Int
        public var checkpointID: Int64
        public var boosting: BoostingOptions
        public var cvRMSE: Float?
        public var seconds: Double
        public var reused: Bool
        /// Per fold, and against the chosen checkpoint on the same folds.
        public var foldRMSE: [Double]
        public var verdict: NoiseRule.Verdict
    }

    public struct Report: Sendable {
        public var runID: Int64
        public var chosen: Int64
        public var chosenCV: Float?
        public var trials: [Trial]
        /// The trial that beats the chosen checkpoint by the most, beyond its noise (nil: none does).
        public var best: Trial?
        /// Why it stopped: the budget, the trial count.
        public var stoppedBy: String
        public var seconds: Double
        public var promoted: Bool
    }

    let store: Store
    let progress: any ProgressSink

    public init(store: Store, progress: any ProgressSink = SilentProgress()) {
        self.store = store
        self.progress = progress
    }

    /// The settings of trial `index` around `base` (0: `base` unchanged).
    public static func settings(trial index: Int, seed: UInt64, base: BoostingOptions) -> BoostingOptions {
        guard index > 0 else { return base }
        var g = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
        var o = base
        let factor = exp((g.nextUnit() * 2 - 1) * log(2.0))
        o.learningRate = Float(Double(base.learningRate) * factor)
        o.trees = max(10, Int((Double(base.trees) / factor).rounded()))
        o.leaves = min(255, max(4, [base.leaves / 2, base.leaves, base.leaves * 2][Int(g.next() % 3)]))
        o.minRowsPerLeaf = min(200, max(1, [base.minRowsPerLeaf / 2, base.minRowsPerLeaf, base.minRowsPerLeaf * 2][Int(g.next() % 3)]))
        o.featureFraction = Float(min(1, max(0.05, Double(base.featureFraction) + (g.nextUnit() * 2 - 1) * 0.15)))
        o.rowFraction = Float(min(1, max(0.4, Double(base.rowFraction) + (g.nextUnit() * 2 - 1) * 0.15)))
        o.l2 = [base.l2, 0, 1, 10][Int(g.next() % 4)]
        return o
    }

    /// The training settings of the data set's chosen checkpoint (a blend's: its first boosted
    /// member's), and that checkpoint.
    public static func startingPoint(store: Store, dataset: String) throws -> (options: TrainModel.Options, checkpoint: Checkpoint) {
        try store.read { db in
            var stored = try Predict.checkpoint(db, dataset: dataset)
            var depth = 0
            while stored.model == "blend", depth < 16 {
                let members = try Blend.members(db, blend: stored)
                guard let next = try members.lazy.compactMap({ try Checkpoint.fetch(db, id: $0.checkpoint) })
                    .first(where: { $0.model == "boosted" || $0.model == "blend" }) else { break }
                stored = next
                depth += 1
            }
            guard stored.model == ModelKind.boosted.rawValue else {
                throw PipelineError.badTune(reason: "the chosen checkpoint \(stored.id) is a \(stored.model) model; tune searches the boosted "
                                            + "trees' settings: `fitstore promote N` a boosted checkpoint first")
            }
            // The settings only: the weights are not needed to train around them.
            return (try TrainModel.config(of: stored).options(dataset: dataset, checkpoint: stored.id), stored)
        }
    }

    public func run(dataset: String, budget: TimeInterval, maxTrials: Int, seed: UInt64, promote: Bool,
                    trialDone: (Trial) -> Void = { _ in }) throws -> Report {
        let started = Date()
        let deadline = started.addingTimeInterval(budget)
        let (base, chosen) = try Self.startingPoint(store: store, dataset: dataset)
        guard base.cvFolds >= 2 else { throw PipelineError.badTune(reason: "the chosen checkpoint \(chosen.id) has no CV to compare trials with") }
        let chosenEvaluation = try TrainModel.evaluation(of: chosen)
        let chosenFolds = (chosenEvaluation.crossValidation?.foldRMSE ?? []).map { Double($0) }
        struct Parameters: Encodable { let dataset: String; let budget_seconds: Double; let trials: Int; let seed: UInt64; let from_checkpoint: Int64 }
        let runID = try store.write { db in
            try RunLedger.begin(db, kind: "tune", parameters: Parameters(dataset: dataset, budget_seconds: budget, trials: maxTrials,
                                                                         seed: seed, from_checkpoint: chosen.id))
        }
        return try store.failingRun(runID) {
            var trials: [Trial] = []
            var stoppedBy = "\(maxTrials) trials"
            let trainer = TrainModel(store: store, progress: progress, deadline: deadline)
            for index in 1...max(1, maxTrials) {
                let remaining = deadline.timeIntervalSinceNow
                let fresh = trials.filter { !$0.reused }
                let expected = fresh.isEmpty ? nil : fresh.map(\.seconds).reduce(0, +) / Double(fresh.count)
                if remaining <= 0 || (expected.map { $0 > remaining } ?? false) {
                    stoppedBy = String(format: "the budget (%.0f s of %.0f spent%@)", Date().timeIntervalSince(started), budget,
                                       expected.map { String(format: "; a trial takes about %.0f s, %.0f s were left", $0, max(0, remaining)) } ?? "")
                    break
                }
                var options = base
                options.boosting = Self.settings(trial: index, seed: seed, base: base.boosting)
                let trialStart = Date()
                let r: TrainModel.Report
                do {
                    r = try trainer.run(options)
                } catch PipelineError.budgetReached {
                    stoppedBy = String(format: "the budget (%.0f s): trial %d was stopped at it after its current boosting round and not stored",
                                       budget, index)
                    break
                }
                let folds = (r.evaluation.crossValidation?.foldRMSE ?? []).map { Double($0) }
                let trial = Trial(index: index, checkpointID: r.checkpointID, boosting: options.boosting,
                                  cvRMSE: r.evaluation.outOfFoldRMSE, seconds: Date().timeIntervalSince(trialStart), reused: r.reused,
                                  foldRMSE: folds, verdict: NoiseRule.judge(simple: chosenFolds, complex: folds))
                trials.append(trial)
                trialDone(trial)
            }
            let best = trials.filter(\.verdict.keepComplex).max { ($0.verdict.meanGain, -$0.index) < ($1.verdict.meanGain, -$1.index) }
            let chosenCandidate = Comparison.Candidate(checkpoint: chosen.id, label: "checkpoint \(chosen.id), the chosen one",
                                                       cvRMSE: Double(chosenEvaluation.outOfFoldRMSE ?? .nan), foldRMSE: chosenFolds)
            let recorded = trials.map { t in
                Comparison.New(kind: .tune, rule: NoiseRule.words, kept: t.verdict.keepComplex ? 1 : 0, meanGain: t.verdict.meanGain,
                               standardError: t.verdict.standardError,
                               candidates: [chosenCandidate, Comparison.Candidate(checkpoint: t.checkpointID, label: "tune trial \(t.index)",
                                                                                  cvRMSE: Double(t.cvRMSE ?? .nan), foldRMSE: t.foldRMSE)])
            }
            let promoting = promote ? best : nil
            _ = try Choices.record(store: store, dataset: dataset, comparisons: recorded,
                                   choose: promoting.map { ($0.checkpointID, "promoted by `fitstore tune --promote`: trial \($0.index) beats the chosen checkpoint beyond its noise") })
            struct Counts: Encodable { let trials: Int; let best_checkpoint: Int64?; let best_cv_rmse: Float?; let stopped_by: String; let promoted: Bool }
            try store.write { db in
                try RunLedger.finish(db, run: runID, counts: Counts(trials: trials.count, best_checkpoint: best?.checkpointID,
                                                                     best_cv_rmse: best?.cvRMSE, stopped_by: stoppedBy, promoted: promoting != nil))
            }
            return Report(runID: runID, chosen: chosen.id, chosenCV: chosenEvaluation.outOfFoldRMSE, trials: trials, best: best,
                          stoppedBy: stoppedBy, seconds: Date().timeIntervalSince(started), promoted: promoting != nil)
        }
    }
}
