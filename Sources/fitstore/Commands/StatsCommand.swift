import ArgumentParser
import FitStore
import Foundation

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print what the store holds: samples per split and origin, per metric, and text deduplication.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Metrics to list per data set (0 lists all).")
    var metrics: Int = 20

    @Flag(help: "Open for writing, upgrading an older store's schema first.")
    var upgrade = false

    func run() throws {
        let store = try storeOptions.open(upgrade ? .readWrite : .readOnly)
        let stats = try store.read { try StoreStats.load($0) }
        print("store \(store.path): schema v\(stats.schemaVersion), \(stats.datasets) data set(s), \(stats.runs) run(s)")
        print("")
        TableFormatter.printTable(
            columns: ["dataset", "split", "origin", "samples", "scored"],
            rows: stats.splits.map { [$0.dataset, $0.split, $0.origin, "\($0.samples)", "\($0.scored)"] },
            rightAligned: [3, 4])
        print("")
        var byDataset: [String: [StoreStats.MetricCount]] = [:]
        for m in stats.metrics { byDataset[m.dataset, default: []].append(m) }
        for (dataset, list) in byDataset.sorted(by: { $0.key < $1.key }) {
            let shown = metrics == 0 ? list : Array(list.prefix(metrics))
            print("\(dataset): \(list.count) metrics\(shown.count < list.count ? " (top \(shown.count) by train rows; --metrics 0 lists all)" : "")")
            TableFormatter.printTable(
                columns: ["metric", "train", "test", "synthetic", "mean score"],
                rows: shown.map { [$0.metric, "\($0.train)", "\($0.test)", "\($0.synthetic)", $0.meanScore.map { String(format: "%.2f", $0) } ?? "-"] },
                rightAligned: [1, 2, 3, 4])
            print("")
        }
        print("texts: \(stats.textReferences) references to \(stats.distinctTexts) distinct texts in use "
            + "(dedup ratio \(String(format: "%.2f", stats.dedupRatio))x); \(stats.storedTexts) stored")
        print("vectors: \(stats.textVectors) text vectors, \(stats.metricVectors) given metric vectors")
    }
}
