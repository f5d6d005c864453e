/// The two baselines every evaluation is compared with, fitted on some training rows: the
/// mean label, and each metric's mean label (the overall mean for a metric with no rows).
struct MeanBaselines {
    let mean: Float
    let perMetric: [Int64: Float]

    init(y: [Float], metrics: [Int64], rows: [Int]) {
        mean = rows.map { y[$0] }.reduce(0, +) / Float(max(1, rows.count))
        var sums: [Int64: (Float, Int)] = [:]
        for r in rows { let s = sums[metrics[r]] ?? (0, 0); sums[metrics[r]] = (s.0 + y[r], s.1 + 1) }
        perMetric = sums.mapValues { $0.0 / Float($0.1) }
    }

    func perMetric(_ metric: Int64) -> Float { perMetric[metric] ?? mean }
}
