import ArgumentParser
import FitEncoder
import FitPipeline
import FitStore
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a training matrix (X, y, ids, split, origin) as .npy files and one safetensors file.",
        discussion: """
            Rows are [prompt | response | metric] vectors, the same features `fitstore train` reads, for the samples you select; synthetic rows are materialized from their recipes. The output directory gets X.npy (float32), y.npy (float32, NaN for test rows), sample_id.npy and metric_id.npy (int64 store ids), test_id.npy (int64: the submission ID of a real test row, -1 for the others), split.npy and origin.npy (strings), features.safetensors (the same tensors; split and origin as uint8 codes named in its metadata) and manifest.json (feature layout, encoder, selection and a digest of the selected rows).

            Export streams: memory holds one batch of rows, whatever the size of the matrix.

            --format parquet writes features.parquet and manifest.json instead, for Spark, DuckDB, Polars or pandas: columns sample_id, test_id, metric_id, metric (its name), split, origin, y (null for test rows), fold (with --folds), then one column per feature block, x_prompt, x_response, [x_system,] x_metric as fixed_size_list<float32> and each extra as float32, in row groups of --row-group-rows rows (default 8192), with the manifest in the file's metadata (key fitstore_manifest). The values are the .npy export's, bit for bit. It runs pyarrow through Python ($FITSTORE_PYTHON, else the python3 beside fitstore, as in the virtual environment the wheel was installed into, else python3 on PATH).

            Examples:
              fitstore export --out out/                                    real training rows
              fitstore export --out out/ --origin real,negative_noise       real rows and one generator
              fitstore export --out out/ --split all --origin all           everything
              fitstore export --out out/ --as-of-run 12                     the rows that existed after run 12
              fitstore export --out out/ --format parquet --extras --folds 5  one Parquet file for Spark

              python3 -c "import numpy as np; X = np.load('out/X.npy'); print(X.shape)"
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var encoder: EncoderOptions

    @Option(help: ArgumentHelp("Directory to write the files into (created if missing).", valueName: "dir"))
    var out: String

    @Option(help: "Data set (default: the one ingested last).") var dataset: String?
    @Option(help: "train, test or all.") var split: FeatureSelection.Split = .train

    @Option(help: ArgumentHelp("real, synthetic, all, or a comma-separated list of real and generator names (see `fitstore audit`).", valueName: "origins"))
    var origin: String = "real"

    @Option(help: ArgumentHelp("Only the samples that existed after this run (see `SELECT * FROM run`).", valueName: "run"))
    var asOfRun: Int64?

    @Option(help: "Rows per batch (memory holds one batch).") var batchRows: Int = 4096

    @Option(help: "npy (NumPy arrays and safetensors) or parquet (one file; needs Python with pyarrow).")
    var format: Export.Format = .npy

    @Option(help: ArgumentHelp("Rows per Parquet row group.", valueName: "n"))
    var rowGroupRows: Int = Export.defaultRowGroupRows

    @Option(help: ArgumentHelp("Also write fold.npy: the cross-validation fold `fitstore train --cv-folds K` holds each real training row out in (-1 for others).", valueName: "K"))
    var folds: Int = 0

    @Option(help: "Seed of the fold assignment (as `fitstore train --seed`).") var seed: UInt64 = 5401

    @Option(help: ArgumentHelp("How fold.npy groups rows (as `fitstore train --cv-groups`).", valueName: "item|prompt|near|auto"))
    var cvGroups: FoldGroupChoice = .auto

    @Flag(help: "Append the five extra columns the boosted model uses (three cosines, two log lengths).")
    var extras = false

    @Flag(name: .customLong("system-prompt"), help: "Add the system prompt's vectors as a block after the response's (zeros where a sample has none).")
    var systemPrompt = false

    func validate() throws {
        guard batchRows >= 1 else { throw ValidationError("--batch-rows must be >= 1") }
        guard rowGroupRows >= 1 else { throw ValidationError("--row-group-rows must be >= 1") }
    }

    func run() throws {
        let store = try storeOptions.open(.readOnly)
        let dataset = try DatasetResolver.resolve(store, name: dataset)
        let keys = try encoder.encoderKeys(in: store)
        let parts = origin.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var selection = FeatureSelection(dataset: dataset, split: split, encoderKeys: keys,
                                         includeReal: parts.contains("real") || parts.contains("all"), asOfRun: asOfRun, extras: extras)
        selection.system = systemPrompt
        let generators = parts.filter { !["real", "synthetic", "all"].contains($0) }
        if parts.contains("synthetic") || parts.contains("all") {
            selection.generators = .all
        } else if !generators.isEmpty {
            let known = Set(try store.read { try SyntheticSamples.allGenerators($0) })
            if let unknown = generators.first(where: { !known.contains($0) }) {
                throw ValidationError("--origin: the store has no generator '\(unknown)' (it has: \(known.sorted().joined(separator: ", ")))")
            }
            selection.generators = .only(generators)
        }
        let report = try Export(store: store).run(selection, to: URL(fileURLWithPath: out), batchRows: batchRows, cvFolds: folds, cvSeed: seed, cvGroups: cvGroups, format: format, rowGroupRows: rowGroupRows, progress: TerminalProgress())
        let seconds = max(report.seconds, 1e-6)
        print(String(format: "exported %d rows x %d columns to %@ in %.2f s: %.0f rows/s, %.1f MB/s (%.1f MB written)",
                     report.rows, report.columns, report.directory, report.seconds, Double(report.rows) / seconds,
                     Double(report.bytes) / 1e6 / seconds, Double(report.bytes) / 1e6))
        print("selection digest \(report.digest); see \(report.directory)/manifest.json")
    }
}
