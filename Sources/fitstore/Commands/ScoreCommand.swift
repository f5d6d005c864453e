import ArgumentParser
import FitPipeline
import Foundation

struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a checkpoint's test predictions against held-out labels; store the result with the checkpoint.",
        discussion: """
            LABELS is a CSV with an ID and a score column (the `ID,score` layout of sample_submission.csv and of the shared tasks' test_labels.csv; other columns are ignored). IDs are 1-based record positions of test_data.json. Prints RMSE, MAE and Spearman's rank correlation, the same RMSE for the train rows' per-metric mean and constant mean, RMSE per metric (ordered by each metric's share of the total squared error) and per group of the metadata file (test_meta.csv beside LABELS when there is one: every column but ID and metric_name is a grouping, e.g. language, source).

            The checkpoint's stored predictions are used; a checkpoint without them is run first (and its predictions stored with the score). The score is stored per checkpoint and labels file (`fitstore checkpoints` shows the newest; `SELECT * FROM checkpoint_score`); scoring the same file again replaces it. The labels never enter training. A label whose ID is not a test record, a repeated ID, a missing column, a score that is not a number on the 0-10 scale, or a file that labels under half of the test rows (--partial accepts it) is refused with the file, line and field, and nothing is stored. `--forget ID` removes a stored score.

            Example:
              fitstore score ../shared/tasks/mixed/test_labels.csv
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: ArgumentHelp("The labels CSV (ID and score columns).", valueName: "labels.csv")) var labels: String?
    @Option(help: ArgumentHelp("Metadata CSV with ID and group columns (default: test_meta.csv beside the labels, when there is one; 'none' for no groups).", valueName: "path"))
    var meta: String?
    @Option(help: "Data set (default: the one ingested last).") var dataset: String?
    @Option(help: "Checkpoint id (default: the data set's chosen checkpoint).") var checkpoint: Int64?
    @Option(help: "Metrics to list (0: all).") var metrics: Int = 10
    @Flag(help: "Score a labels file that labels under half of the test rows (refused by default: most likely another data set's file).")
    var partial = false
    @Option(help: ArgumentHelp("Remove stored score ID (its id in `SELECT * FROM checkpoint_score`) instead of scoring.", valueName: "id"))
    var forget: Int64?

    func validate() throws {
        guard (labels == nil) != (forget == nil) else { throw ValidationError("give a labels file to score, or --forget ID to remove a score") }
    }

    func run() throws {
        let store = try storeOptions.openWritableIfPossible()
        if let forget {
            try Score(store: store).forget(score: forget)
            print("removed stored score \(forget)")
            return
        }
        guard let labels else { return }
        let dataset = try DatasetResolver.resolve(store, name: dataset)
        let labelsFile = try LabelsFile(path: labels)
        var metaPath = meta
        if metaPath == nil {
            let beside = URL(fileURLWithPath: labels).deletingLastPathComponent().appendingPathComponent("test_meta.csv").path
            if FileManager.default.fileExists(atPath: beside) { metaPath = beside }
        }
        let groups = try metaPath.flatMap { $0 == "none" ? nil : try LabelGroups(path: $0) }
        let report = try Score(store: store).run(dataset: dataset, checkpoint: checkpoint, labels: labelsFile, groups: groups, partial: partial)
        let r = report.score
        print("checkpoint \(r.checkpoint) on \(r.rows) labelled test rows of \(dataset)"
              + (report.breakdown.unlabelledTestRows > 0 ? " (\(report.breakdown.unlabelledTestRows) test rows have no label)" : "")
              + (report.predicted ? "; predictions computed now" : ""))
        print(String(format: "  RMSE %.4f   MAE %.4f   Spearman %@", r.rmse, r.mae, r.spearman.map { String(format: "%.4f", $0) } ?? "–"))
        print(String(format: "  baselines: per-metric train mean RMSE %.4f, constant train mean RMSE %.4f (%@ the per-metric mean)",
                     r.perMetricMeanRMSE, r.constantMeanRMSE, r.rmse < r.perMetricMeanRMSE ? "beats" : "does NOT beat"))
        let shown = metrics == 0 ? report.breakdown.perMetric : Array(report.breakdown.perMetric.prefix(metrics))
        print("")
        print("per metric (\(shown.count) of \(report.breakdown.perMetric.count), by share of the squared error):")
        TableFormatter.printTable(columns: ["metric", "rows", "RMSE", "per-metric mean"],
                                  rows: shown.map { [$0.metric, "\($0.rows)", String(format: "%.4f", $0.rmse), String(format: "%.4f", $0.perMetricMeanRMSE)] },
                                  rightAligned: [1, 2, 3])
        if !report.breakdown.groups.isEmpty {
            print("")
            print("per group (\(metaPath ?? "")):")
            TableFormatter.printTable(columns: ["column", "value", "rows", "RMSE"],
                                      rows: report.breakdown.groups.map { [$0.column, $0.value, "\($0.rows)", String(format: "%.4f", $0.rmse)] },
                                      rightAligned: [2, 3])
        }
        print("")
        print(report.stored ? "stored with checkpoint \(r.checkpoint) (SELECT * FROM checkpoint_score)" : "(the store cannot be written here: the score is not stored)")
    }
}
