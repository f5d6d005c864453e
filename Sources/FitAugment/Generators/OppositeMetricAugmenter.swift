import FitFormats

/// Stage 1 of the seed (section 3.2): a real row under metric A becomes a synthetic row under
/// A's opposite, with a low score drawn from the original:
///
///     s' = round1(base + span · (10 - s) / 10 + jitter · u),   u ~ U(0, 1) per row
///
/// With the defaults (base 1, span 2, jitter 1) a 10 maps into [1, 2], a 9 into [1.2, 2.2]
/// and a 0 into [3, 4]: always low, lower for rows that fitted their metric better.
public struct OppositeMetricAugmenter: Sendable {
    public static let name = "opposite_metric"
    public static let version = 1

    public var base: Double = 1
    public var span: Double = 2
    public var jitter: Double = 1
    public var seed: UInt64 = 5401

    public init(seed: UInt64 = 5401) { self.seed = seed }

    var parameters: String { "{\"base\":\(base),\"jitter\":\(jitter),\"span\":\(span)}" }

    public func generate(_ parents: [ParentSample], relations: MetricRelations) -> [SyntheticSpec] {
        var tally = AugmentationTally()
        return generate(parents, relations: relations, tally: &tally)
    }

    /// Rows whose (opposite, prompt, response) a real row already labels are not made: a
    /// synthetic row would contradict it.
    public func generate(_ parents: [ParentSample], relations: MetricRelations, tally: inout AugmentationTally) -> [SyntheticSpec] {
        let labelled = LabelledPairs(parents)
        return parents.compactMap { p in
            guard let opposite = relations.opposites[p.metric] else { return nil }
            tally[Self.name, default: .init()].requested += 1
            if labelled.contains(metric: opposite, item: p.item) {
                tally[Self.name, default: .init()].skip(SkipReason.labelled)
                return nil
            }
            tally[Self.name, default: .init()].made += 1
            let rowSeed = SyntheticSpec.rowSeed(seed, Self.name, p.id)
            var rng = SplitMix64(seed: rowSeed)
            let raw = base + span * (10 - p.score) / 10 + jitter * rng.nextUnit()
            let score = min(10, max(0, (raw * 10).rounded() / 10))
            return SyntheticSpec(generator: Self.name, version: Self.version, parents: [p.id], metric: opposite,
                                 score: score, parameters: parameters, seed: rowSeed)
        }
    }
}
