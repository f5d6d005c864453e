import ArgumentParser
import FitPipeline
import Foundation

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML report (inline SVG charts, works offline) of what the store holds.",
        discussion: """
            Sections: exploration (missing values, score distribution and skewness, prompt languages by script, prompt and response lengths and their scatter, response length by score, outliers above the 99th percentile, metric frequency, mean score per metric, score box plots of the ten most frequent metrics), metric-embedding integrity and the category cosine heatmap, the score distribution after each augmentation stage, the newest checkpoint's training history and CV results against the baselines, and the test prediction distribution. A section whose data is not in the store yet says which command makes it.

            Example:
              fitstore report --out report.html && xdg-open report.html
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Data set (default: the one ingested last).") var dataset: String?
    @Option(help: "Checkpoint whose training and predictions to show (default: the newest).") var checkpoint: Int64?
    @Option(help: ArgumentHelp("Where to write the HTML file.", valueName: "path")) var out: String = "report.html"
    @Option(help: ArgumentHelp("Whose metric vectors the metric-embedding section shows, when the data set has no given ones (default: the newest checkpoint's encoder).", valueName: "name"))
    var encoder: String?

    func run() throws {
        try storeOptions.checkOutput(out)
        let store = try storeOptions.open(.readOnly)
        let dataset = try DatasetResolver.resolve(store, name: dataset)
        let key = try encoder.map { try EncoderOptions.parse(["--encoder", $0]).encoderKey(in: store) }
        let summary = try HTMLReport(store: store).write(dataset: dataset, checkpoint: checkpoint, encoderKey: key, to: URL(fileURLWithPath: out))
        print(String(format: "wrote %@ (%.0f KB): %d charts", summary.path, Double(summary.bytes) / 1024, summary.charts.count))
        if !summary.emptySections.isEmpty {
            print("not in the store yet: " + Array(Set(summary.emptySections)).sorted().joined(separator: ", "))
        }
    }
}
