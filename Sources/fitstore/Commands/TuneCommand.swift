import ArgumentParser
import FitPipeline
import Foundation

/// A time with its unit: 90s, 10m, 1h (a bare number is refused: seconds or minutes?).
struct TimeBudget: ExpressibleByArgument {
    var seconds: Double
    var text: String

    init?(argument: String) {
        let text = argument.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = text.last, let value = Double(text.dropLast()), value > 0, value.isFinite else { return nil }
        switch unit {
        case "s": seconds = value
        case "m": seconds = value * 60
        case "h": seconds = value * 3600
        default: return nil
        }
        self.text = text
    }

    var defaultValueDescription: String { text }
}

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Search around the chosen checkpoint's boosted settings by cross-validation, within a time budget.",
        discussion: """
            The search starts from the data set's chosen checkpoint (what `run` chose, or `promote` named): the same rows, encoders, feature blocks, system prompt block, bag of fold models and CV folds. Each trial moves its boosting settings around the chosen ones (learning rate within a factor of two with rounds so that rate x rounds stays, leaves and fewest rows per leaf halved or doubled, feature and row fractions within 0.15, L2), drawn from a generator seeded with --search-seed and the trial number, and is compared with the chosen checkpoint on the same folds: it beats it only when its mean per-fold gain exceeds the standard error of that gain (docs/trainer.md).

            The budget is a limit: a trial is not started when the trials so far say it would not end in time, and a trial still running at the budget stops after its current boosting round and is not stored. Every trial is an ordinary checkpoint, found again when tune runs again (a stopped tune resumes at once). The chosen checkpoint changes only with --promote, and then only to the trial that beats it by the most; without one, tune ends by naming the chosen checkpoint.

            Example:
              fitstore tune --budget 10m
              fitstore tune --budget 1h --promote
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Data set (default: the one ingested last).") var dataset: String?

    @Option(help: ArgumentHelp("Time to spend, with its unit: 90s, 10m, 1h.", valueName: "time"))
    var budget: TimeBudget

    @Option(help: "At most this many trials.")
    var trials: Int = 50

    @Option(name: .customLong("search-seed"), help: "Seed of the settings drawn.")
    var searchSeed: UInt64 = 1

    @Flag(help: "Make the trial that beats the chosen checkpoint by the most (beyond its noise) the chosen one.")
    var promote = false

    func validate() throws {
        guard trials >= 1 else { throw ValidationError("--trials must be at least 1") }
    }

    func run() throws {
        let store = try storeOptions.open()
        let dataset = try DatasetResolver.resolve(store, name: dataset)
        print("tune \(dataset): up to \(trials) trials within \(budget.text), search seed \(searchSeed)")
        let report = try Tune(store: store, progress: TerminalProgress()).run(dataset: dataset, budget: budget.seconds, maxTrials: trials,
                                                                            seed: searchSeed, promote: promote) { t in
            let b = t.boosting
            print(String(format: "  trial %2d: checkpoint %lld  CV RMSE %@  %@ (lr %.4f x %d rounds, %d leaves, min %d rows, features %.2f, rows %.2f, l2 %g)%@",
                         t.index, t.checkpointID, t.cvRMSE.map { String(format: "%.4f", $0) } ?? "–", t.verdict.summary, b.learningRate, b.trees,
                         b.leaves, b.minRowsPerLeaf, b.featureFraction, b.rowFraction, b.l2,
                         t.reused ? "  (trained before: reused)" : String(format: "  %.0f s", t.seconds)))
        }
        print(String(format: "started from the chosen checkpoint %lld (CV RMSE %@); stopped by %@ after %.2f s; run %lld", report.chosen,
                     report.chosenCV.map { String(format: "%.4f", $0) } ?? "–", report.stoppedBy, report.seconds, report.runID))
        if let best = report.best {
            print(String(format: "best: trial %d, checkpoint %lld, CV RMSE %@: beats the chosen checkpoint beyond its noise (%@)", best.index,
                         best.checkpointID, best.cvRMSE.map { String(format: "%.4f", $0) } ?? "–", best.verdict.summary))
            print(report.promoted ? "promoted: checkpoint \(best.checkpointID) is now the chosen one"
                                  : "the chosen checkpoint stays \(report.chosen); `fitstore promote \(best.checkpointID)` chooses the trial")
        } else {
            print("no trial beats the chosen checkpoint beyond its noise: it stays \(report.chosen)")
        }
    }
}
