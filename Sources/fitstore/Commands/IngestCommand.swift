import ArgumentParser
import FitPipeline
import FitStore
import Foundation

struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Read a DA5401-format folder into the store.",
        discussion: """
            The folder holds metric_names.json and, optionally, metric_name_embeddings.npy (float32, one row per metric name), metric_definitions.json (name -> text), train_data.json and test_data.json (records with metric_name, user_prompt, response, system_prompt and, for train, score). Test IDs are 1-based record positions, as in sample_submission.csv.

            Ingest is one transaction: a bad record is reported by file, record index (0-based) and field, and the store is left exactly as it was. Ingesting the same folder again adds nothing; after a file changes, only new or changed records are added and the rows they replace are retired (kept for lineage, hidden from sample_view).

            A re-ingest that would retire more than a tenth of a split's active rows (a short or different file in the folder) is refused unless --replace says it is meant; --dry-run shows what would happen. Records that share their metric, prompt and response with a record of a different score are reported.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: ArgumentHelp("A DA5401-format folder.", valueName: "dir"))
    var folder: String

    @Option(help: "Data set name in the store (default: the folder's name).")
    var dataset: String?

    @Flag(help: "Allow a re-ingest to retire more than a tenth of a split's rows (otherwise refused as probably the wrong file).")
    var replace = false

    @Flag(help: "Read everything and report what an ingest would add, change and retire; write nothing.")
    var dryRun = false

    func run() throws {
        let store = try storeOptions.open(create: true)
        let report = try Ingest(store: store, progress: TerminalProgress()).run(
            folder: URL(fileURLWithPath: folder), options: .init(datasetName: dataset, replace: replace, dryRun: dryRun))
        IngestPrinter.print(report, store: store.path)
    }
}

enum IngestPrinter {
    static func print(_ report: IngestReport, store: String) {
        let c = report.counts
        if report.dryRun {
            Swift.print("\(report.dataset): dry run: this ingest would do the following; nothing was written to \(store)")
        } else if let run = report.runID {
            Swift.print("\(report.dataset): ingested as run \(run) into \(store) in \(String(format: "%.2f", report.seconds)) s")
        } else {
            Swift.print("\(report.dataset): nothing changed since the last ingest; nothing written to \(store)")
            for warning in report.warnings { Swift.print("  warning: \(warning)") }
            return
        }
        Swift.print("  metrics  +\(c.metricsAdded) added, \(c.metricsUpdated) moved, \(c.metricsUnlisted) no longer listed, \(c.definitionsChanged) definitions set, +\(c.metricVectorsAdded) given vectors")
        Swift.print("  train    +\(c.trainAdded) added, \(c.trainChanged) changed, \(c.trainUnchanged) unchanged, \(c.trainRetired) retired")
        Swift.print("  test     +\(c.testAdded) added, \(c.testChanged) changed, \(c.testUnchanged) unchanged, \(c.testRetired) retired")
        Swift.print("  texts    +\(c.textsAdded) distinct texts; \(c.systemPromptsMissing) records without a system prompt")
        for warning in report.warnings { Swift.print("  warning: \(warning)") }
    }
}
