/// Stage 2 of the seed (section 3.3): a real row with a low score (<= maxScore, default 5)
/// under metric A is copied, score unchanged, to each metric that can substitute for A.
/// Only low rows are expanded: a failure under one granularity is a failure under its
/// neighbours, while a success need not be.
public struct SubstitutableMetricAugmenter: Sendable {
    public static let name = "substitutable_metric"
    public static let version = 1

    public var maxScore: Double = 5

    public init() {}

    var parameters: String { "{\"max_score\":\(maxScore)}" }

    public func generate(_ parents: [ParentSample], relations: MetricRelations) -> [SyntheticSpec] {
        parents.flatMap { p -> [SyntheticSpec] in
            guard p.score <= maxScore, let list = relations.substitutes[p.metric] else { return [] }
            return list.sorted().map { substitute in
                SyntheticSpec(generator: Self.name, version: Self.version, parents: [p.id], metric: substitute,
                              score: p.score, parameters: parameters, seed: 0)
            }
        }
    }
}
