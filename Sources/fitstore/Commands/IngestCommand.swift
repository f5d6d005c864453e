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

            Ingest is one transaction: a bad record is reported by file, record index and field, and the store is left exactly as it was. Ingesting the same folder again adds nothing; after a file changes, only new or changed records are added and the rows they replace are retired (kept for lineage, hidden from sample_view).
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: ArgumentHelp("A DA5401-format folder.", valueName: "dir"))
    var folder: String

    @Option(help: "Data set name in the store (default: the folder's name).")
    var dataset: String?

    func run() throws {
        let store = try storeOptions.open()
        let report = try Ingest(store: store, progress: TerminalProgress()).run(
            folder: URL(fileURLWithPath: folder), options: .init(datasetName: dataset))
        IngestPrinter.print(report, store: store.path)
    }
}

enum IngestPrinter {
    static func print(_ report: IngestReport, store: String) {
        guard let run = report.runID else {
            Swift.print("\(report.dataset): nothing changed since the last ingest; nothing written to \(store)")
            return
        }
        let c = report.counts
        Swift.print("\(report.dataset): ingested as run \(run) into \(store) in \(String(format: "%.2f", report.seconds)) s")
        Swift.print("  metrics  +\(c.metricsAdded) added, \(c.metricsUpdated) moved, \(c.metricsUnlisted) no longer listed, \(c.definitionsChanged) definitions set, +\(c.metricVectorsAdded) given vectors")
        Swift.print("  train    +\(c.trainAdded) added, \(c.trainChanged) changed, \(c.trainUnchanged) unchanged, \(c.trainRetired) retired")
        Swift.print("  test     +\(c.testAdded) added, \(c.testChanged) changed, \(c.testUnchanged) unchanged, \(c.testRetired) retired")
        Swift.print("  texts    +\(c.textsAdded) distinct texts; \(c.systemPromptsMissing) records without a system prompt")
        for warning in report.warnings { Swift.print("  warning: \(warning)") }
    }
}
