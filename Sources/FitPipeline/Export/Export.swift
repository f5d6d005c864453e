import FitFormats
import FitStore
import Foundation
import GRDB

/// `fitstore export`: writes a selection's training matrix to NumPy `.npy` files and one
/// safetensors file, with a manifest, streaming: memory holds one batch of X, never the
/// whole matrix (the per-row columns y, ids, split and origin are kept: a few bytes a row).
///
/// Files: `X.npy` (rows x columns float32), `y.npy` (float32, NaN for test rows),
/// `sample_id.npy` and `metric_id.npy` (int64, the store's ids), `test_id.npy` (int64, the
/// submission's ID of a real test row, -1 for every other row), `split.npy` and `origin.npy`
/// (strings), `features.safetensors` (the same six tensors; split and origin as uint8 codes
/// whose names are in its metadata) and `manifest.json`.
public struct Export {
    public struct Report: Sendable {
        public var rows: Int
        public var columns: Int
        public var bytes: Int
        public var seconds: Double
        public var digest: String
        public var directory: String
        public var files: [String]
    }

    /// What `manifest.json` says.
    struct Manifest: Encodable {
        struct Block: Encodable { let name: String; let start: Int; let end: Int; let source: String }
        let format = "fitstore-export-1"
        let fitstore_version = FitstoreVersion.string
        let dataset: String
        let selection: Selection
        let rows: Int
        let columns: Int
        let features: [Block]
        /// The first encoder's key, and every encoder's (several: their vectors concatenated in
        /// each block, in this order).
        let encoder: String
        let encoders: [String]
        let metric_source: String
        let digest: String
        let digest_rule = "sha256 of one line per row in sample id order: \"<sample_id> <origin>\\n\" (the same rule as checkpoint.training_digest)"
        let legend: Legend
        let files: [String: String]
        /// How the rows of fold.npy were grouped (with --folds).
        var cv_groups: FoldGrouping? = nil
        /// With --format parquet: the file, its row group size and its columns in order.
        var parquet: Parquet? = nil
        struct Parquet: Encodable { let file: String; let row_group_rows: Int; let columns: [String] }
        struct Selection: Encodable { let split: String; let real: Bool; let generators: String; let as_of_run: Int64? }
        struct Legend: Encodable { let split: [String]; let origin: [String] }
    }

    static let splitNames = ["train", "test"]

    /// What the folder holds: NumPy arrays and safetensors, or one Parquet file.
    public enum Format: String, CaseIterable, Sendable {
        case npy, parquet
    }
    /// Rows per Parquet row group, unless the caller says otherwise: about 75 MB of three
    /// 768-wide float32 blocks, a size Spark and pyarrow read a group of at a time.
    public static let defaultRowGroupRows = 8192

    let store: Store

    public init(store: Store) { self.store = store }

    /// `cvFolds` > 0 adds `fold.npy`: the fold `fitstore train` (same --seed) holds each real
    /// row out in, -1 for synthetic and test rows, so other tools can repeat its CV exactly.
    public func run(_ selection: FeatureSelection, to directory: URL, batchRows: Int = 4096, cvFolds: Int = 0, cvSeed: UInt64 = 5401,
                    cvGroups: FoldGroupChoice = .auto, format: Format = .npy, rowGroupRows: Int = Export.defaultRowGroupRows,
                    progress: any ProgressSink = SilentProgress()) throws -> Report {
        let started = Date()
        let arrays = ["X.npy", "y.npy", "sample_id.npy", "metric_id.npy", "test_id.npy", "split.npy", "origin.npy", "features.safetensors"]
            + (cvFolds > 0 ? ["fold.npy"] : [])
        let names = format == .npy ? arrays + ["manifest.json"] : ["features.parquet", "manifest.json"]
        // Found before any work: a missing interpreter is said at once.
        let python = format == .parquet ? try EmbeddedPython() : nil
        // The folder appears whole or not at all (`OutputFolder`): a killed export never
        // leaves files of two exports side by side, nor a manifest naming a missing file.
        let folder = try OutputFolder(directory, names: Set(Self.allNames), store: store.path)
        let url = folder.file
        // The folds `fitstore train` holds each real row out in: the same CV groups (made from
        // the real train rows' vectors and the test rows, as training makes them).
        var groupOfSample: [Int64: String] = [:]
        var grouping: FoldGrouping?
        if cvFolds > 0 {
            var options = TrainModel.Options(dataset: selection.dataset, encoderKeys: selection.encoderKeys)
            options.cvFolds = cvFolds
            options.training.seed = cvSeed
            options.cvGroups = cvGroups
            let (train, lineage) = try store.read { db in
                let f = try FeatureMatrix.load(db, dataset: selection.dataset, selection: .train, encoderKeys: selection.encoderKeys,
                                               extras: false, system: false, interactions: false)
                return (f, try Lineage.load(db, dataset: try DatasetResolver.require(db, selection.dataset).id, sampleIDs: f.sampleIDs))
            }
            if cvFolds >= 2 {
                let made = try FoldGrouping.forTraining(store: store, options: options, features: train, lineage: lineage,
                                                        threads: ProcessInfo.processInfo.activeProcessorCount)
                for (id, key) in zip(train.sampleIDs, made.keys) { if let key { groupOfSample[id] = key } }
                grouping = made.grouping
            }
        }
        return try store.read { db in
            let reader = try FeatureReader(db, selection: selection)
            // Origins present, for the legend: real first, then generators by name.
            let generators = try selection.samples.generatorNames(db, dataset: reader.datasetID)
            let origins = ["real"] + generators
            let originCode = Dictionary(uniqueKeysWithValues: origins.enumerated().map { ($1, UInt8($0)) })
            let n = reader.rows, w = reader.width
            let x = try NpyStreamWriter(url: url("X.npy"), type: .float32, columns: w)
            let tensors = try SafetensorsWriter(url: url("features.safetensors"), tensors: [
                .init(name: "X", dtype: .f32, shape: [n, w]), .init(name: "y", dtype: .f32, shape: [n]),
                .init(name: "sample_id", dtype: .i64, shape: [n]), .init(name: "metric_id", dtype: .i64, shape: [n]),
                .init(name: "split", dtype: .u8, shape: [n]), .init(name: "origin", dtype: .u8, shape: [n]),
            ], metadata: [
                "format": "fitstore-export-1", "dataset": selection.dataset, "encoder": selection.encoderKeys.joined(separator: " + "),
                "split_legend": Self.splitNames.joined(separator: ","), "origin_legend": origins.joined(separator: ","),
                "layout": reader.layout.blocks.map { "\($0.name)[\($0.start),\($0.end))" }.joined(separator: " "),
            ])
            var y: [Float] = [], ids: [Int64] = [], metrics: [Int64] = [], testIDs: [Int64] = [], splits: [String] = [], origin: [String] = []
            y.reserveCapacity(n); ids.reserveCapacity(n); metrics.reserveCapacity(n)
            var hasher = SHA256()
            // Reading and decoding here, writing the matrix's two copies on another thread:
            // the writes (copies into the kernel) were half the time. At most two batches
            // wait, so memory stays at a few batches.
            let writer = BackgroundWriter(pending: 2)
            defer { writer.finish() }
            try reader.forEachBatch(db, batchRows: batchRows) { batch in
                let values = batch.values
                try writer.submit {
                    try x.append(float32: values)
                    try tensors.write(values)
                }
                y += batch.targets.map { $0 ?? .nan }
                ids += batch.sampleIDs
                metrics += batch.metricIDs
                // The submission's ID of a real test row: its 1-based record position.
                for i in batch.splits.indices {
                    var id: Int64 = -1
                    if batch.splits[i] == "test", batch.generators[i] == "real", let position = batch.positions[i] { id = Int64(position) + 1 }
                    testIDs.append(id)
                }
                splits += batch.splits
                origin += batch.generators
                FeatureMatrix.digest(&hasher, ids: batch.sampleIDs, origins: batch.generators)
                progress.advance(phase: "export", done: ids.count, total: n, unit: "rows")
            }
            try writer.drain()
            try x.close()
            try tensors.write(y)
            try tensors.write(ids)
            try tensors.write(metrics)
            try tensors.write(try splits.map { split in
                guard let code = Self.splitNames.firstIndex(of: split) else {
                    throw StoreError.damaged(table: "sample", row: "split '\(split)'", reason: "not a split")
                }
                return UInt8(code)
            })
            try tensors.write(origin.map { originCode[$0] ?? 0 })
            try tensors.close()
            let yWriter = try NpyStreamWriter(url: url("y.npy"), type: .float32, columns: nil)
            try yWriter.append(float32: y)
            try yWriter.close()
            for (name, values) in [("sample_id.npy", ids), ("metric_id.npy", metrics), ("test_id.npy", testIDs)] {
                let writer = try NpyStreamWriter(url: url(name), type: .int64, columns: nil)
                try writer.append(int64: values)
                try writer.close()
            }
            if cvFolds > 0 {
                // Groups as training makes them: real train rows only.
                let items = zip(ids, splits).map { id, split in split == "train" ? groupOfSample[id] : nil }
                let folds = CrossValidation(folds: cvFolds, seed: cvSeed).assign(items: items)?.foldOfRow ?? items.map { _ in -1 }
                let writer = try NpyStreamWriter(url: url("fold.npy"), type: .int64, columns: nil)
                try writer.append(int64: folds.map(Int64.init))
                try writer.close()
            }
            try NpyStringArray.write(splits, to: url("split.npy"))
            try NpyStringArray.write(origin, to: url("origin.npy"))
            let digest = hasher.finalize().hexString
            let l = reader.layout
            let generatorText: String = switch selection.generators {
            case .none: "none"
            case .all: "all"
            case .only(let g): g.sorted().joined(separator: ",")
            }
            let manifest = Manifest(
                dataset: selection.dataset,
                selection: .init(split: selection.split.rawValue, real: selection.includeReal, generators: generatorText, as_of_run: selection.asOfRun),
                rows: n, columns: w,
                features: l.blocks.map { .init(name: $0.name, start: $0.start, end: $0.end, source: $0.source) },
                encoder: selection.encoderKey, encoders: selection.encoderKeys, metric_source: l.metricSource, digest: digest,
                legend: .init(split: Self.splitNames, origin: origins),
                files: format == .npy
                    ? ["X": "X.npy", "y": "y.npy", "sample_id": "sample_id.npy", "metric_id": "metric_id.npy",
                       "test_id": "test_id.npy", "split": "split.npy", "origin": "origin.npy", "safetensors": "features.safetensors"]
                        .merging(cvFolds > 0 ? ["fold": "fold.npy"] : [:]) { a, _ in a }
                    : ["parquet": "features.parquet"],
                cv_groups: grouping,
                parquet: format == .parquet ? .init(file: "features.parquet", row_group_rows: rowGroupRows,
                                                    columns: ["sample_id", "test_id", "metric_id", "metric", "split", "origin", "y"]
                                                        + (cvFolds > 0 ? ["fold"] : []) + l.blocks.map { "x_" + $0.name }) : nil)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(manifest).write(to: url("manifest.json"))
            if let python {
                // The arrays above become one Parquet file; they are its only input, so its
                // values are the .npy export's, bit for bit. Then only it and the manifest stay.
                var metricNames: [String: String] = [:]
                for metric in try Metric.all(db, dataset: reader.datasetID) { metricNames[String(metric.id)] = metric.name }
                try JSONEncoder().encode(metricNames).write(to: url("metric_names.json"))
                progress.advance(phase: "parquet", done: 0, total: n, unit: "rows")
                try python.run("parquet_writer", arguments: [folder.staging.path, String(rowGroupRows)],
                               purpose: "export --format parquet", modules: "numpy and pyarrow")
                for name in arrays + ["metric_names.json"] { try? FileManager.default.removeItem(at: url(name)) }
            }
            let bytes = names.compactMap { try? FileManager.default.attributesOfItem(atPath: url($0).path)[.size] as? Int }.reduce(0, +)
            try folder.commit()
            return Report(rows: n, columns: w, bytes: bytes, seconds: Date().timeIntervalSince(started), digest: digest,
                          directory: directory.path, files: names)
        }
    }

    /// Every file an export may write (the folder it replaces may hold any of them).
    static let allNames = ["X.npy", "y.npy", "sample_id.npy", "metric_id.npy", "test_id.npy", "split.npy", "origin.npy",
                           "features.safetensors", "manifest.json", "fold.npy", "features.parquet", "metric_names.json"]
}
