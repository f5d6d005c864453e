import ArgumentParser
import FitPipeline
import FitStore
import Foundation

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit synthetic data: counts and score histograms per generator, metric coverage, provenance integrity.",
        discussion: """
            Integrity checks (any failure makes the exit status 1): synthetic rows without parents, active rows whose parent was retired, missing generator/version/parameters, provenance cycles, duplicated active keys. Warnings (printed, not failures): synthetic labels that contradict a real label by more than 1 point for the same (metric, prompt, response), and train rows whose (metric, texts) repeat (noise negatives, copies of their parent whose vectors get noise, are left out of both).
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Data set (default: the one ingested last).") var dataset: String?
    @Option(help: "Metrics to list in the coverage table, most augmented first (0 lists all).") var metrics: Int = 15

    func run() throws {
        let store = try storeOptions.open(.readOnly)
        let name = try DatasetResolver.resolve(store, name: dataset)
        let r = try Audit(store: store).run(dataset: name)
        print("\(name): rows per generator")
        TableFormatter.printTable(columns: ["generator", "rows"], rows: r.rowsPerGenerator.map { [$0.generator, "\($0.rows)"] }, rightAligned: [1])
        print("\ntrain score histogram (integer bins)")
        TableFormatter.printTable(columns: ["generator"] + (0...10).map(String.init),
                                  rows: r.histograms.sorted { $0.key < $1.key }.map { [$0.key] + $0.value.map(String.init) },
                                  rightAligned: Set(1...11))
        print("\ntrain rows per metric before and after augmentation (most augmented first)")
        let shown = metrics == 0 ? r.perMetric : Array(r.perMetric.prefix(metrics))
        TableFormatter.printTable(columns: ["metric", "real", "with synthetic"],
                                  rows: shown.map { [$0.metric, "\($0.real)", "\($0.withSynthetic)"] }, rightAligned: [1, 2], maxWidth: 60)
        print("\nmetric coverage: \(r.metricsWithRealRows) of \(r.metricsListed) metrics have real train rows; \(r.metricsWithAnyTrainRows) with synthetic rows included")
        print("warnings: \(r.contradictionCount) synthetic label(s) contradict a real one; \(r.duplicateContent) repeated (metric, texts) train row(s)")
        for c in r.contradictions.prefix(5) {
            print(String(format: "  sample %lld (%@): synthetic %.1f vs real %.1f", c.sample, c.metric, c.synthetic, c.real))
        }
        let failures = r.integrityFailures
        if failures.isEmpty {
            print("integrity: OK (parents, provenance fields, no cycles, unique keys)")
        } else {
            for f in failures { print("integrity FAILED: \(f)") }
            throw ExitCode(1)
        }
    }
}
