/// The two baselines every evaluation is compared with, fitted on some training rows: the
/// mean label, and each metric's mean label (the overall mean for a metric with no rows).
/// Metrics are keyed by id (training) or name (scoring against a labels file).
struct MeanBaselines<Metric: Hashable, Value: BinaryFloatingPoint> {
    let mean: Value
    let perMetric: [Metric: Value]

    init(y: [Value], metrics: [Metric], rows: [Int]) {
        mean = rows.map { y[$0] }.reduce(0, +) / Value(max(1, rows.count))
        var sums: [Metric: (Value, Int)] = [:]
        for r in rows { let s = sums[metrics[r]] ?? (0, 0); sums[metrics[r]] = (s.0 + y[r], s.1 + 1) }
        perMetric = sums.mapValues { $0.0 / Value($0.1) }
    }

    func perMetric(_ metric: Metric) -> Value { perMetric[metric] ?? mean }
}
