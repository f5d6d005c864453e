import FitStore
import Foundation
import GRDB

/// `fitstore score`: a checkpoint's test predictions against held-out labels: RMSE, MAE,
/// Spearman's rank correlation, RMSE per metric and per group (from a metadata file), and
/// the two baselines (the train rows' per-metric mean and constant mean), stored with the
/// checkpoint. The labels never reach training: they are read from the file each time.
public struct Score {
    public struct Breakdown: Codable, Sendable {
        public struct Metric: Codable, Sendable {
            public var metric: String
            public var rows: Int
            public var rmse: Double
            public var perMetricMeanRMSE: Double
        }
        public struct Group: Codable, Sendable {
            public var column: String
            public var value: String
            public var rows: Int
            public var rmse: Double
        }
        public var perMetric: [Metric]
        public var groups: [Group]
        /// Test rows of the data set without a label in the file.
        public var unlabelledTestRows: Int
    }

    public struct Report: Sendable {
        /// The numbers, as `checkpoint_score` keeps them.
        public var score: CheckpointScore.New
        public var breakdown: Breakdown
        /// Whether the predictions had to be computed (the checkpoint had none stored).
        public var predicted: Bool
        /// False when the store was opened read-only: the score is printed, not stored.
        public var stored: Bool
    }

    let store: Store

    public init(store: Store) { self.store = store }

    /// `partial`: accept a labels file that labels under half of the test rows (by default
    /// such a file is refused: it is most likely another data set's).
    public func run(dataset: String, checkpoint: Int64?, labels: LabelsFile, groups: LabelGroups?, partial: Bool = false) throws -> Report {
        let (stored, testRows, train) = try store.read { db in
            let datasetID = try DatasetResolver.require(db, dataset).id
            let chosen = try Predict.checkpoint(db, dataset: dataset, id: checkpoint)
            return (chosen, try RealSamples.testRows(db, dataset: datasetID), try RealSamples.trainScores(db, dataset: datasetID))
        }
        guard !testRows.isEmpty else { throw PipelineError.nothingToScore(dataset: dataset, reason: "it has no test rows: ingest a test_data.json") }
        // Every label must name a test record of the data set.
        let byID = Dictionary(uniqueKeysWithValues: testRows.map { ($0.position + 1, $0) })
        if let (id, label) = labels.scores.filter({ byID[$0.key] == nil }).min(by: { $0.value.line < $1.value.line }) {
            throw PipelineError.badLabels(path: labels.path, line: label.line,
                                          reason: "ID \(id) is not a test record of data set '\(dataset)' (its test IDs are 1...\(testRows.count))")
        }
        // A file that labels under half of the test rows is most likely another data set's.
        let labelled = testRows.filter { labels.scores[$0.position + 1] != nil }.count
        if !partial && labelled * 2 < testRows.count {
            throw PipelineError.badLabels(path: labels.path, line: nil, reason: "it labels \(labelled) of the \(testRows.count) test rows of data set '\(dataset)' "
                                          + "(under half: is it another data set's file?); nothing was stored. `fitstore score --partial` scores those rows anyway")
        }
        // The checkpoint's predictions: stored ones when they cover every test row, else computed.
        var predictions = try store.read { try Predictions.scores($0, checkpoint: stored.id) }
        var computed: Predict.Scores?
        if testRows.contains(where: { predictions[$0.sample] == nil }) {
            let fresh = try Predict(store: store).scores(dataset: dataset, checkpoint: stored.id)
            for (sample, score) in zip(fresh.sampleIDs, fresh.scores) { predictions[sample] = Double(score) }
            computed = fresh
        }
        // Baselines from the train rows.
        let baselines = MeanBaselines(y: train.map(\.score), metrics: train.map(\.metric), rows: Array(train.indices))
        let globalMean = baselines.mean

        var truth: [Double] = [], predicted: [Double] = [], perMetricBaseline: [Double] = []
        var ids: [Int] = [], metrics: [String] = []
        for id in labels.scores.keys.sorted() {
            guard let row = byID[id], let p = predictions[row.sample], let label = labels.scores[id] else { continue }
            truth.append(label.score)
            predicted.append(p)
            perMetricBaseline.append(baselines.perMetric(row.metric))
            ids.append(id)
            metrics.append(row.metric)
        }
        let all = Array(truth.indices)
        var perMetric: [Breakdown.Metric] = []
        for (metric, rows) in Dictionary(grouping: all, by: { metrics[$0] }) {
            perMetric.append(.init(metric: metric, rows: rows.count, rmse: Self.rmse(truth, predicted, rows),
                                   perMetricMeanRMSE: Self.rmse(truth, perMetricBaseline, rows)))
        }
        // Ordered by each metric's share of the total squared error: where the model loses most.
        perMetric.sort { (Double($0.rows) * $0.rmse * $0.rmse, $1.metric) > (Double($1.rows) * $1.rmse * $1.rmse, $0.metric) }
        var groupRows: [Breakdown.Group] = []
        for column in groups?.columns ?? [] {
            let byValue = Dictionary(grouping: all, by: { column.values[ids[$0]] ?? "(not in the metadata file)" })
            for (value, rows) in byValue.sorted(by: { $0.key < $1.key }) {
                groupRows.append(.init(column: column.name, value: value, rows: rows.count, rmse: Self.rmse(truth, predicted, rows)))
            }
        }
        let breakdown = Breakdown(perMetric: perMetric, groups: groupRows, unlabelledTestRows: testRows.count - truth.count)
        let score = CheckpointScore.New(
            checkpoint: stored.id, labelsPath: labels.path, labelsSHA256: labels.sha256, rows: truth.count,
            rmse: Self.rmse(truth, predicted, all), mae: all.map { abs(truth[$0] - predicted[$0]) }.reduce(0, +) / Double(max(1, all.count)),
            spearman: Self.spearman(truth, predicted), perMetricMeanRMSE: Self.rmse(truth, perMetricBaseline, all),
            constantMeanRMSE: Self.rmse(truth, [Double](repeating: globalMean, count: truth.count), all),
            breakdown: try JSONText.encode(breakdown))
        var report = Report(score: score, breakdown: breakdown, predicted: computed != nil, stored: false)
        guard store.access == .readWrite else { return report }
        // The computed predictions and the score land together, or neither does.
        try store.write(recordingFailureOf: "score", parameters: ["dataset": dataset, "labels": labels.path]) { db in
            let runID = try RunLedger.begin(db, kind: "score", parameters: ["dataset": dataset, "checkpoint": "\(stored.id)", "labels": labels.path])
            if let computed {
                try Predictions.upsert(db, checkpoint: stored.id, Array(zip(computed.sampleIDs, computed.scores)), run: runID)
            }
            try CheckpointScore.upsert(db, score, run: runID)
            try RunLedger.finish(db, run: runID, counts: ["rows": score.rows])
        }
        report.stored = true
        return report
    }

    static func rmse(_ truth: [Double], _ predicted: [Double], _ rows: [Int]) -> Double {
        guard !rows.isEmpty else { return 0 }
        return (rows.map { (truth[$0] - predicted[$0]) * (truth[$0] - predicted[$0]) }.reduce(0, +) / Double(rows.count)).squareRoot()
    }

    /// Spearman's rho: Pearson's correlation of the ranks, ties given their average rank;
    /// nil when either side is constant (no ranking to compare).
    static func spearman(_ a: [Double], _ b: [Double]) -> Double? {
        func ranks(_ x: [Double]) -> [Double] {
            let order = x.indices.sorted { x[$0] < x[$1] }
            var r = [Double](repeating: 0, count: x.count)
            var i = 0
            while i < order.count {
                var j = i
                while j + 1 < order.count, x[order[j + 1]] == x[order[i]] { j += 1 }
                let average = Double(i + j) / 2 + 1
                for k in i...j { r[order[k]] = average }
                i = j + 1
            }
            return r
        }
        guard a.count >= 2 else { return nil }
        let (ra, rb) = (ranks(a), ranks(b))
        let n = Double(a.count), ma = ra.reduce(0, +) / n, mb = rb.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in ra.indices { sab += (ra[i] - ma) * (rb[i] - mb); saa += (ra[i] - ma) * (ra[i] - ma); sbb += (rb[i] - mb) * (rb[i] - mb) }
        guard saa > 0, sbb > 0 else { return nil }
        return sab / (saa * sbb).squareRoot()
    }

    /// `score --forget ID`: removes a stored score (in a run of its own, which names it).
    public func forget(score id: Int64) throws {
        try store.write { db in
            guard let existing = try CheckpointScore.fetch(db, id: id) else {
                throw PipelineError.unknownScore(id: id, known: try CheckpointScore.ids(db))
            }
            let run = try RunLedger.begin(db, kind: "score-forget", parameters: ["score": "\(id)", "checkpoint": "\(existing.checkpoint)",
                                                                                "labels": existing.labelsPath])
            try CheckpointScore.delete(db, id: id)
            try RunLedger.finish(db, run: run, counts: ["removed": 1])
        }
    }
}
