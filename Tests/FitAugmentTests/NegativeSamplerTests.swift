import FitAugment
import FitFormats
import Testing

@Suite struct NegativeSamplerTests {
    static let parents = (1...200).map { ParentSample(id: Int64($0), metric: "m\($0 % 4)", score: 9) }
    /// m0's farthest metric is m3, then m2, then m1 (and so on, cyclically).
    static let byDistance: [String: [String]] = [
        "m0": ["m3", "m2", "m1"], "m1": ["m0", "m3", "m2"], "m2": ["m1", "m0", "m3"], "m3": ["m2", "m1", "m0"],
    ]

    @Test func bandsCountsAndMix() {
        let specs = NegativeSampler(seed: 3, lowCount: 1200, midCount: 500).generate(Self.parents, metricsByDistance: Self.byDistance)
        let low = specs.filter { $0.parameters.contains("\"band\":\"low\"") }
        let mid = specs.filter { $0.parameters.contains("\"band\":\"mid\"") }
        // 1200 / 200 is exactly 6 per parent; 500 / 200 = 2.5 rounds per parent at random.
        #expect(low.count == 1200 && abs(mid.count - 500) <= 25, "\(low.count), \(mid.count)")
        #expect(low.allSatisfy { $0.score >= 1 && $0.score <= 3 } && mid.allSatisfy { $0.score >= 4 && $0.score <= 7 })
        for c in NegativeSampler.Corruption.allCases {
            let n = specs.filter { $0.generator == NegativeSampler.generator(c) }.count
            #expect(n > 450 && n < 690, "\(c): \(n) of 1700, a balanced third")
        }
        let shuffles = specs.filter { $0.generator == "negative_shuffle" }
        #expect(shuffles.allSatisfy { $0.parents.count == 2 && $0.parents[0] != $0.parents[1] })
        let metricOf = Dictionary(uniqueKeysWithValues: Self.parents.map { ($0.id, $0.metric) })
        #expect(shuffles.allSatisfy { metricOf[$0.parents[0]] != metricOf[$0.parents[1]] }, "texts come from a row of another metric")
        // Low-band swaps go to the farthest metric; mid-band ones to the next.
        let parentMetric = Dictionary(uniqueKeysWithValues: Self.parents.map { ($0.id, $0.metric) })
        for s in specs where s.generator == "negative_metric_swap" {
            let ordered = Self.byDistance[parentMetric[s.parents[0]]!]!
            #expect(s.metric == (s.parameters.contains("low") ? ordered[0] : ordered[0...1].contains(s.metric) ? s.metric : "wrong"))
        }
        #expect(Set(specs.map(\.key)).count == specs.count)
    }

    @Test func deterministicAndIncremental() {
        let sampler = NegativeSampler(seed: 9, lowCount: 400, midCount: 0)
        let a = sampler.generate(Self.parents, metricsByDistance: Self.byDistance)
        #expect(a == sampler.generate(Self.parents, metricsByDistance: Self.byDistance))
        // The children of parent 1 depend on parent 1 alone (count per parent aside).
        let more = NegativeSampler(seed: 9, lowCount: 400 * 201 / 200, midCount: 0)
            .generate(Self.parents + [ParentSample(id: 999, metric: "m1", score: 2)], metricsByDistance: Self.byDistance)
        let ofOne = a.filter { $0.parents[0] == 1 && $0.generator != "negative_shuffle" }.map(\.key)
        #expect(Set(ofOne).isSubset(of: Set(more.map(\.key))))
    }

    @Test func noiseMaterializesTheSameBytes() {
        let v: [Float] = (0..<384).map { Float($0) / 384 }
        let x = NoiseMaterializer.materialize(v, seed: 42, sigma: 0.05, stream: 0)
        #expect(x == NoiseMaterializer.materialize(v, seed: 42, sigma: 0.05, stream: 0))
        #expect(x != NoiseMaterializer.materialize(v, seed: 43, sigma: 0.05, stream: 0))
        #expect(x != NoiseMaterializer.materialize(v, seed: 42, sigma: 0.05, stream: 1), "prompt and response draw different noise")
        let diffs = zip(x, v).map { Double($0 - $1) }
        let sd = (diffs.map { $0 * $0 }.reduce(0, +) / Double(diffs.count)).squareRoot()
        #expect(abs(sd - 0.05) < 0.01)
    }
}

@Suite struct NegativeCollisionTests {
    /// Items judged under several metrics (as in USR): a negative must not relabel a pair that
    /// a real row already labels.
    @Test func negativesNeverClaimALabelledPair() {
        var parents: [ParentSample] = []
        var id: Int64 = 0
        for item in 0..<30 {
            for metric in ["a", "b", "c"] {
                id += 1
                parents.append(ParentSample(id: id, metric: metric, score: 8, item: "item\(item % 10)"))
            }
        }
        let byDistance = ["a": ["c", "b"], "b": ["a", "c"], "c": ["b", "a"]]
        let specs = NegativeSampler(seed: 1, lowCount: 180, midCount: 90).generate(parents, metricsByDistance: byDistance)
        let labelled = Set(parents.map { "\($0.metric)|\($0.item)" })
        let itemOf = Dictionary(uniqueKeysWithValues: parents.map { ($0.id, $0.item) })
        for s in specs where s.generator != "negative_noise" {
            let item = s.generator == "negative_shuffle" ? itemOf[s.parents[1]]! : itemOf[s.parents[0]]!
            #expect(!labelled.contains("\(s.metric)|\(item)"), "\(s.generator) relabels \(s.metric) on \(item)")
        }
        // Here every item carries every metric: swaps and shuffles have nowhere to go.
        #expect(specs.allSatisfy { $0.generator == "negative_noise" })
    }
}
