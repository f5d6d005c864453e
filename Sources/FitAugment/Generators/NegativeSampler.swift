import FitFormats
import Foundation

/// Stage 3 of the seed (section 4): targeted negatives in embedding space, in a low band
/// (labels uniform in [1, 3]) and a mid band ([4, 7], milder corruptions), each a balanced
/// mix of three corruptions:
///
/// - shuffle: the parent's metric with the prompt and response of another real row judged
///   under a different metric;
/// - (shuffle and metric swap never produce a (metric, item) pair that a real row labels);
/// - noise: the parent's prompt and response vectors plus Gaussian noise (σ per band);
/// - metric swap: the parent's texts under an unrelated metric (far in metric-embedding
///   space for the low band, moderately far for the mid band).
///
/// Rows are recipes (parents, metric, seed, σ), not vectors: `NoiseMaterializer` rebuilds a
/// noise row's vectors from its parent's, the same bytes for the same seed. Each real row
/// gets its own children (about count / rows of them, decided by its own seed), so new real
/// rows add children without disturbing the old ones.
public struct NegativeSampler: Sendable {
    public enum Corruption: String, CaseIterable, Sendable { case shuffle, noise, metricSwap = "metric_swap" }

    public struct Band: Sendable, Equatable {
        public let name: String
        public let count: Int
        public let low: Double
        public let high: Double
        public let sigma: Double
        /// Metric-swap partners: metrics whose cosine rank to the parent's metric falls in
        /// this quantile range (0 = farthest).
        public let farQuantiles: ClosedRange<Double>

        public init(name: String, count: Int, low: Double, high: Double, sigma: Double, farQuantiles: ClosedRange<Double>) {
            self.name = name
            self.count = count
            self.low = low
            self.high = high
            self.sigma = sigma
            self.farQuantiles = farQuantiles
        }
    }

    public static let name = "negative"
    public static let version = 1

    public var bands: [Band] = [
        Band(name: "low", count: 12_000, low: 1, high: 3, sigma: 0.05, farQuantiles: 0...0.25),
        Band(name: "mid", count: 5_000, low: 4, high: 7, sigma: 0.02, farQuantiles: 0.25...0.5),
    ]
    public var seed: UInt64 = 5401

    public init(seed: UInt64 = 5401, lowCount: Int = 12_000, midCount: Int = 5_000) {
        self.seed = seed
        bands = [
            Band(name: "low", count: lowCount, low: 1, high: 3, sigma: 0.05, farQuantiles: 0...0.25),
            Band(name: "mid", count: midCount, low: 4, high: 7, sigma: 0.02, farQuantiles: 0.25...0.5),
        ]
    }

    public static func generator(_ corruption: Corruption) -> String { "\(name)_\(corruption.rawValue)" }

    /// `metricsByDistance[m]`: the other metrics ordered from farthest to nearest.
    public func generate(_ parents: [ParentSample], metricsByDistance: [String: [String]]) -> [SyntheticSpec] {
        var out: [SyntheticSpec] = []
        var tally = AugmentationTally()
        generate(parents, metricsByDistance: metricsByDistance, tally: &tally) { out.append($0) }
        return out
    }

    /// The same rows, handed to `emit` one at a time as they are made (a million of them
    /// need not be held at once); `tally` is told what each corruption was asked for, made
    /// and skipped, and why.
    public func generate(_ parents: [ParentSample], metricsByDistance: [String: [String]], tally: inout AugmentationTally,
                         emit: (SyntheticSpec) throws -> Void) rethrows {
        guard parents.count >= 2 else { return }
        // (metric, item) pairs with a real label: a negative must never claim one of them.
        let labelled = LabelledPairs(parents)
        func free(_ metric: String, _ item: String) -> Bool { !labelled.contains(metric: metric, item: item) }
        for band in bands where band.count > 0 {
            let perParent = Double(band.count) / Double(parents.count)
            for (index, p) in parents.enumerated() {
                var decide = SplitMix64(seed: SyntheticSpec.rowSeed(seed, "\(Self.name)-\(band.name)", p.id, "count"))
                let n = Int(perParent) + (decide.nextUnit() < perParent - Double(Int(perParent)) ? 1 : 0)
                for j in 0..<n {
                    let rowSeed = SyntheticSpec.rowSeed(seed, "\(Self.name)-\(band.name)", p.id, "\(j)")
                    var rng = SplitMix64(seed: rowSeed)
                    let corruption = Corruption.allCases[Int(rng.next() % 3)]
                    let name = Self.generator(corruption)
                    tally[name, default: .init()].requested += 1
                    let label = ((band.low + (band.high - band.low) * rng.nextUnit()) * 10).rounded() / 10
                    let params = "{\"band\":\"\(band.name)\",\"high\":\(band.high),\"low\":\(band.low),\"sigma\":\(band.sigma)}"
                    switch corruption {
                    case .shuffle:
                        // Another row judged under a different metric: under the same metric its
                        // texts with A's metric would just repeat that row with a wrong label.
                        var pick: Int?
                        for _ in 0..<16 {
                            var other = Int(rng.next() % UInt64(parents.count - 1))
                            if other >= index { other += 1 }
                            if parents[other].metric != p.metric && free(p.metric, parents[other].item) { pick = other; break }
                        }
                        guard let other = pick else { tally[name, default: .init()].skip(SkipReason.noFreeShuffle); continue }
                        tally[name, default: .init()].made += 1
                        try emit(SyntheticSpec(generator: Self.generator(.shuffle), version: Self.version,
                                                 parents: [p.id, parents[other].id], metric: p.metric, score: label,
                                                 parameters: params, seed: rowSeed))
                    case .noise:
                        tally[name, default: .init()].made += 1
                        try emit(SyntheticSpec(generator: Self.generator(.noise), version: Self.version, parents: [p.id],
                                                 metric: p.metric, score: label, parameters: params, seed: rowSeed))
                    case .metricSwap:
                        guard let ordered = metricsByDistance[p.metric], !ordered.isEmpty else {
                            tally[name, default: .init()].skip(SkipReason.noMetricVectors)
                            continue
                        }
                        let lo = Int(band.farQuantiles.lowerBound * Double(ordered.count))
                        let hi = max(lo + 1, Int(band.farQuantiles.upperBound * Double(ordered.count)))
                        let pool = ordered[min(lo, ordered.count - 1)..<min(hi, ordered.count)].filter { free($0, p.item) }
                        guard !pool.isEmpty else { tally[name, default: .init()].skip(SkipReason.noFreeMetric); continue }
                        let metric = pool[Int(rng.next() % UInt64(pool.count))]
                        tally[name, default: .init()].made += 1
                        try emit(SyntheticSpec(generator: Self.generator(.metricSwap), version: Self.version, parents: [p.id],
                                                 metric: metric, score: label, parameters: params, seed: rowSeed))
                    }
                }
            }
        }
    }
}

/// Rebuilds a noise recipe's vector from its parent's: v + N(0, σ²) per component, drawn
/// from the recipe's seed (one stream, prompt then response), so the same recipe always
/// gives the same bytes.
public enum NoiseMaterializer {
    public static func materialize(_ parentVector: [Float], seed: UInt64, sigma: Double, stream: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed ^ (stream &* 0x9E37_79B9_7F4A_7C15))
        return parentVector.map { $0 + Float(rng.nextGaussian() * sigma) }
    }
}
