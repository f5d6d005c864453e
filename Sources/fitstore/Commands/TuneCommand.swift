import ArgumentParser
import FitPipeline
import Foundation

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Search the boosted model's settings by cross-validation, within a time budget.",
        discussion: """
            Trial 0 trains the settings given (the defaults unless you change them with the train options below); each further trial draws learning rate (0.01-0.12, log scale, with rounds so that rate x rounds stays about 12), leaves (7-63), fewest rows per leaf, feature and row fractions and an L2 penalty from a generator seeded with --seed and the trial number. Every trial is an ordinary `train`: a run, a checkpoint and its CV on real rows. A new trial starts only while the budget allows one more of the average trial time so far.

            The trials are the same on every run with the same --seed, and a trial already trained is reused at once: a tune that was stopped (even by kill -9) continues where it was when run again. The best trial by CV RMSE is printed; `fitstore predict --checkpoint N` predicts with it. The best of many CV scores is an optimistic estimate of that setting's error: `fitstore score` on held-out labels, when you have them, says by how much.

            Example:
              fitstore tune --budget 10m
              fitstore checkpoints
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var encoder: EncoderOptions
    @OptionGroup var training: TrainingArguments

    @Option(help: ArgumentHelp("Time to spend: 90s, 10m, 1h (a trial in progress is finished).", valueName: "time"))
    var budget: String = "10m"

    @Option(help: "At most this many trials (trial 0 included).")
    var trials: Int = 50

    @Option(name: .customLong("search-seed"), help: "Seed of the settings drawn.")
    var searchSeed: UInt64 = 1

    var budgetSeconds: Double? {
        let text = budget.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = text.last, let value = Double(text.dropLast()), value > 0 else { return Double(text).flatMap { $0 > 0 ? $0 : nil } }
        switch unit {
        case "s": return value
        case "m": return value * 60
        case "h": return value * 3600
        default: return nil
        }
    }

    func validate() throws {
        guard budgetSeconds != nil else { throw ValidationError("--budget takes a time such as 90s, 10m or 1h, not '\(budget)'") }
        guard trials >= 1 else { throw ValidationError("--trials must be at least 1") }
    }

    func run() throws {
        let store = try storeOptions.open()
        let dataset = try DatasetResolver.resolve(store, name: training.dataset)
        var options = training.options(dataset: dataset, encoderKeys: try encoder.encoderKeys(in: store))
        if options.syntheticGenerators == ["all"] {
            options.syntheticGenerators = try store.read { try AugmentationProfile.generators($0, dataset: dataset) }
        }
        print("tune \(dataset): up to \(trials) trials within \(budget), search seed \(searchSeed)")
        let report = try Tune(store: store).run(options, budget: budgetSeconds ?? 600, maxTrials: trials, seed: searchSeed) { t in
            let b = t.boosting
            print(String(format: "  trial %2d: checkpoint %lld  CV RMSE %@  (lr %.4f x %d rounds, %d leaves, min %d rows, features %.2f, rows %.2f, l2 %g)%@",
                         t.index, t.checkpointID, t.cvRMSE.map { String(format: "%.4f", $0) } ?? "–", b.learningRate, b.trees, b.leaves,
                         b.minRowsPerLeaf, b.featureFraction, b.rowFraction, b.l2, t.reused ? "  (trained before: reused)" : String(format: "  %.0f s", t.seconds)))
        }
        print("stopped by \(report.stoppedBy); run \(report.runID)")
        if let best = report.best, let first = report.trials.first {
            print(String(format: "best: trial %d, checkpoint %lld, CV RMSE %.4f (trial 0, the settings given: %.4f)", best.index, best.checkpointID,
                         best.cvRMSE ?? .nan, first.cvRMSE ?? .nan))
            print("predict with it: fitstore predict --checkpoint \(best.checkpointID)")
        }
    }
}
