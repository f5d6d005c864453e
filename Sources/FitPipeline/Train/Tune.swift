import FitFormats
import FitStore
import FitTrain
import Foundation

/// `fitstore tune`: a random search over the boosted model's settings, judged by CV on real
/// rows, within a time budget. Trial 0 is the settings given (the default unless changed);
/// trial i > 0 draws its settings from a generator seeded with (seed, i), so the trials are
/// the same on every run. Each trial is an ordinary `train` (a run and a checkpoint), and an
/// identical checkpoint is reused, so a tune that was killed resumes where it stopped: the
/// trials it finished are found again in an instant.
public struct Tune {
    public struct Trial: Sendable {
        public var index: Int
        public var checkpointID: Int64
        public var boosting: BoostingOptions
        public var cvRMSE: Float?
        public var seconds: Double
        public var reused: Bool
    }

    public struct Report: Sendable {
        public var runID: Int64
        public var trials: [Trial]
        public var best: Trial?
        /// Why it stopped: the budget, the trial count.
        public var stoppedBy: String
    }

    let store: Store
    let progress: any ProgressSink

    public init(store: Store, progress: any ProgressSink = SilentProgress()) {
        self.store = store
        self.progress = progress
    }

    /// The settings of trial `index` (0: `base` unchanged).
    public static func settings(trial index: Int, seed: UInt64, base: BoostingOptions) -> BoostingOptions {
        guard index > 0 else { return base }
        var g = SplitMix64(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
        var o = base
        // Log-uniform learning rate; rounds so that rate x rounds stays near what the default
        // spends (0.03 x 400 = 12), within [150, 1500].
        o.learningRate = Float(exp(log(0.01) + g.nextUnit() * (log(0.12) - log(0.01))))
        o.trees = min(1500, max(150, Int((12 / Double(o.learningRate)).rounded())))
        o.leaves = [7, 15, 31, 63][Int(g.next() % 4)]
        o.minRowsPerLeaf = [5, 10, 20, 40][Int(g.next() % 4)]
        o.featureFraction = Float(0.1 + 0.6 * g.nextUnit())
        o.rowFraction = Float(0.6 + 0.4 * g.nextUnit())
        o.l2 = [0, 1, 10][Int(g.next() % 3)]
        return o
    }

    /// Runs trials until `budget` seconds would be exceeded (judged by the mean trial time so
    /// far) or `maxTrials` are done.
    public func run(_ base: TrainModel.Options, budget: TimeInterval, maxTrials: Int, seed: UInt64,
                    trialDone: (Trial) -> Void = { _ in }) throws -> Report {
        guard base.model == .boosted else { throw PipelineError.badTune(reason: "tune searches the boosted model's settings; drop --model \(base.model.rawValue)") }
        guard base.cvFolds >= 2 else { throw PipelineError.badTune(reason: "tune judges by cross-validation: --cv-folds must be at least 2") }
        let started = Date()
        struct Parameters: Encodable { let dataset: String; let budget_seconds: Double; let trials: Int; let seed: UInt64 }
        let runID = try store.write { db in
            try RunLedger.begin(db, kind: "tune", parameters: Parameters(dataset: base.dataset, budget_seconds: budget, trials: maxTrials, seed: seed))
        }
        return try store.failingRun(runID) {
            var trials: [Trial] = []
            var stoppedBy = "\(maxTrials) trials"
            var spent = 0.0
            for index in 0..<maxTrials {
                let elapsed = Date().timeIntervalSince(started)
                let fresh = trials.filter { !$0.reused }
                let expected = fresh.isEmpty ? 0 : fresh.map(\.seconds).reduce(0, +) / Double(fresh.count)
                if index > 0, elapsed + expected > budget {
                    stoppedBy = String(format: "the budget (%.0f s spent of %.0f; a trial takes about %.0f s)", elapsed, budget, expected)
                    break
                }
                var options = base
                options.boosting = Self.settings(trial: index, seed: seed, base: base.boosting)
                let trialStart = Date()
                let r = try TrainModel(store: store, progress: progress).run(options)
                let trial = Trial(index: index, checkpointID: r.checkpointID, boosting: options.boosting,
                                  cvRMSE: r.evaluation.crossValidation?.rmse, seconds: Date().timeIntervalSince(trialStart), reused: r.reused)
                spent += trial.seconds
                trials.append(trial)
                trialDone(trial)
            }
            let best = trials.filter { $0.cvRMSE != nil }.min { ($0.cvRMSE ?? .infinity, $0.index) < ($1.cvRMSE ?? .infinity, $1.index) }
            struct Counts: Encodable { let trials: Int; let best_checkpoint: Int64?; let best_cv_rmse: Float?; let stopped_by: String }
            try store.write { db in
                try RunLedger.finish(db, run: runID, counts: Counts(trials: trials.count, best_checkpoint: best?.checkpointID,
                                                                     best_cv_rmse: best?.cvRMSE, stopped_by: stoppedBy))
            }
            return Report(runID: runID, trials: trials, best: best, stoppedBy: stoppedBy)
        }
    }
}
