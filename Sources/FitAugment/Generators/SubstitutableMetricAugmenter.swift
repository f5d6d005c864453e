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
        var tally = AugmentationTally()
        return generate(parents, relations: relations, tally: &tally)
    }

    /// A copy whose (substitute, prompt, response) a real row already labels is not made: it
    /// would contradict that label (items judged under several metrics, as in USR).
    public func generate(_ parents: [ParentSample], relations: MetricRelations, tally: inout AugmentationTally) -> [SyntheticSpec] {
        let labelled = LabelledPairs(parents)
        var out: [SyntheticSpec] = []
        for p in parents where p.score <= maxScore {
            for substitute in (relations.substitutes[p.metric] ?? []).sorted() {
                tally[Self.name, default: .init()].requested += 1
                if labelled.contains(metric: substitute, item: p.item) {
                    tally[Self.name, default: .init()].skip(SkipReason.labelled)
                    continue
                }
                tally[Self.name, default: .init()].made += 1
                out.append(SyntheticSpec(generator: Self.name, version: Self.version, parents: [p.id], metric: substitute,
                                         score: p.score, parameters: parameters, seed: 0))
            }
        }
        return out
    }
}
