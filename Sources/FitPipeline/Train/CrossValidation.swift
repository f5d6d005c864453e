import FitFormats

/// K-fold cross-validation on REAL rows, grouped: every real row of one group (by default an
/// item, the same prompt and response judged under several metrics; `FoldGrouping` makes
/// wider groups of versions of one item) falls in the same fold, and a synthetic
/// row trains in a fold only when none of its real ancestors is held out there. So no
/// held-out row is seen in training, not even through its synthetic descendants.
/// Arrays in, numbers out: the caller supplies how to fit and predict.
public struct CrossValidation {
    public struct MetricResult: Codable, Sendable {
        public var metric: String
        public var rows: Int
        public var rmse: Float
        public var perMetricMeanRMSE: Float
    }

    public struct Result: Codable, Sendable {
        public var folds: Int
        public var rows: Int
        public var rmse: Float
        public var constantMeanRMSE: Float
        public var perMetricMeanRMSE: Float
        public var foldRMSE: [Float]
        /// Synthetic rows kept out of training folds because an ancestor was held out (summed over folds).
        public var excludedDescendants: Int
        public var grouping: String
        public var perMetric: [MetricResult]
        /// Each real row's out-of-fold prediction and its fold (kept in `cv_prediction`, not
        /// in the evaluation JSON).
        public var heldOut: [(row: Int, fold: Int, score: Float)] = []

        enum CodingKeys: String, CodingKey {
            case folds, rows, rmse, constantMeanRMSE, perMetricMeanRMSE, foldRMSE, excludedDescendants, grouping, perMetric
        }

        /// The same held-out rows scored by other predictions (of the same rows, indexed like
        /// `y`): overall, per fold and per metric; the baselines stay.
        public func rescored(predicted: [Float], y: [Float], metrics: [Int64], metricNames: [Int64: String]) -> Result {
            var out = self
            let rows = heldOut.map(\.row)
            out.rmse = CrossValidation.rmse(rows, predicted, y)
            out.foldRMSE = (0..<folds).map { f in CrossValidation.rmse(heldOut.filter { $0.fold == f }.map(\.row), predicted, y) }
            var byMetric: [String: [Int]] = [:]
            for r in rows { byMetric[metricNames[metrics[r]] ?? "#\(metrics[r])", default: []].append(r) }
            out.perMetric = perMetric.map { m in
                var m = m
                m.rmse = CrossValidation.rmse(byMetric[m.metric] ?? [], predicted, y)
                return m
            }
            out.heldOut = heldOut.map { ($0.row, $0.fold, predicted[$0.row]) }
            return out
        }
    }

    public let folds: Int
    public let seed: UInt64

    public init(folds: Int, seed: UInt64) {
        self.folds = folds
        self.seed = seed
    }

    /// - Parameters:
    ///   - items: per row, the item key of a real row, nil for a synthetic row.
    ///   - ancestors: per row, the indices of the real rows a synthetic row descends from.
    ///   - fit: trains on the given rows and returns a predictor for rows.
    ///   - foldDone: told each fold's index and RMSE.
    public func run(y: [Float], metrics: [Int64], metricNames: [Int64: String], items: [String?], ancestors: [[Int]],
                    grouping: String = "item (prompt and response)",
                    fit: (_ fold: Int, _ train: [Int]) throws -> ([Int]) -> [Float],
                    foldDone: (Int, Float) -> Void = { _, _ in }) rethrows -> Result? {
        let real = items.indices.filter { items[$0] != nil }
        guard let (k, foldOfRow) = assign(items: items) else { return nil }
        var predicted = [Float](repeating: 0, count: y.count)
        var constant = [Float](repeating: 0, count: y.count)
        var perMetricMean = [Float](repeating: 0, count: y.count)
        var foldRMSE: [Float] = []
        var excluded = 0
        for fold in 0..<k {
            let heldOut = real.filter { foldOfRow[$0] == fold }
            var train: [Int] = []
            for r in y.indices where foldOfRow[r] != fold {
                if items[r] == nil, ancestors[r].contains(where: { foldOfRow[$0] == fold }) { excluded += 1; continue }
                train.append(r)
            }
            let predict = try fit(fold, train)
            for (r, p) in zip(heldOut, predict(heldOut)) { predicted[r] = p }
            // Baselines from the fold's real training rows.
            let baselines = MeanBaselines(y: y, metrics: metrics, rows: train.filter { items[$0] != nil })
            for r in heldOut {
                constant[r] = baselines.mean
                perMetricMean[r] = baselines.perMetric(metrics[r])
            }
            let rmse = Self.rmse(heldOut, predicted, y)
            foldRMSE.append(rmse)
            foldDone(fold, rmse)
        }
        var byMetric: [Int64: [Int]] = [:]
        for r in real { byMetric[metrics[r], default: []].append(r) }
        let perMetric = byMetric.map { m, rows in
            MetricResult(metric: metricNames[m] ?? "#\(m)", rows: rows.count, rmse: Self.rmse(rows, predicted, y),
                         perMetricMeanRMSE: Self.rmse(rows, perMetricMean, y))
        }.sorted { ($0.rows, $1.metric) > ($1.rows, $0.metric) }
        return Result(folds: k, rows: real.count, rmse: Self.rmse(real, predicted, y),
                      constantMeanRMSE: Self.rmse(real, constant, y), perMetricMeanRMSE: Self.rmse(real, perMetricMean, y),
                      foldRMSE: foldRMSE, excludedDescendants: excluded, grouping: grouping,
                      perMetric: perMetric, heldOut: real.map { ($0, foldOfRow[$0], predicted[$0]) })
    }

    /// The fold of each row (-1 for synthetic rows) and the number of folds, or nil when there
    /// are fewer than two items: items in sorted key order, shuffled by the seed, dealt round-robin.
    public func assign(items: [String?]) -> (folds: Int, foldOfRow: [Int])? {
        var keys = Array(Set(items.compactMap { $0 })).sorted()
        let k = min(folds, keys.count)
        guard k >= 2 else { return nil }
        var rng = SplitMix64(seed: seed &+ 17)
        keys.shuffle(using: &rng)
        var foldOfItem: [String: Int] = [:]
        for (i, key) in keys.enumerated() { foldOfItem[key] = i % k }
        return (k, items.map { $0.map { foldOfItem[$0]! } ?? -1 })
    }

    /// The folds of `rows` alone, grouped like the outer folds (seeded by this value's seed):
    /// per part, the real rows of its items held out, and the rest to train on, without the
    /// synthetic rows that descend from a held-out row. nil when the rows hold fewer than two
    /// items. Serves early stopping inside a fold (part 0 of 10) and the nested bag of folds.
    public func subFolds(rows: [Int], items: [String?], ancestors: [[Int]]) -> [(train: [Int], held: [Int])]? {
        guard let (k, foldOfRow) = assign(items: rows.map { items[$0] }) else { return nil }
        return (0..<k).map { part in
            let held = rows.indices.filter { items[rows[$0]] != nil && foldOfRow[$0] == part }.map { rows[$0] }
            let heldSet = Set(held)
            let train = rows.filter { r in
                items[r] != nil ? !heldSet.contains(r) : !ancestors[r].contains(where: heldSet.contains)
            }
            return (train, held)
        }
    }

    static func rmse(_ rows: [Int], _ predicted: [Float], _ y: [Float]) -> Float {
        guard !rows.isEmpty else { return .nan }
        var s: Float = 0
        for r in rows { let e = predicted[r] - y[r]; s += e * e }
        return (s / Float(rows.count)).squareRoot()
    }
}
