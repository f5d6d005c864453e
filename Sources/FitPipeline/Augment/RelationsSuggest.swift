import FitStore
import Foundation
import GRDB

/// `fitstore relations suggest`: proposes substitutable metric pairs from nearest neighbours
/// in metric-embedding space (the seed report's proposed extension, §3.6), and opposite pairs
/// from the scores themselves, as a relations file for a person to review, edit and save.
/// Embeddings put "hallucination" and "factual grounding" close together, so nearness cannot
/// find opposites; the labels can: when the same prompt and response are judged under both
/// metrics, opposite criteria give negatively correlated scores.
public struct RelationsSuggest {
    /// A substitutable pair, with what the real labels say of it: on how many items both
    /// metrics are judged, and on how many of those their scores differ by more than 1 (the
    /// audit's contradiction). Labels that disagree are evidence against substituting.
    public struct Pair: Sendable {
        public let a: String
        public let b: String
        public let cosine: Float
        public var sharedItems = 0
        public var disagreeing = 0

        public init(a: String, b: String, cosine: Float, sharedItems: Int = 0, disagreeing: Int = 0) {
            self.a = a; self.b = b; self.cosine = cosine; self.sharedItems = sharedItems; self.disagreeing = disagreeing
        }

        /// Whether the labels refute the pair: at least `minimumShared` shared items, and more
        /// than `maximumShare` of them disagreeing.
        public func refuted(minimumShared: Int, maximumShare: Double) -> Bool {
            sharedItems >= minimumShared && Double(disagreeing) > maximumShare * Double(sharedItems)
        }
    }

    /// Two metrics judged on the same items: how many, and the Pearson correlation of their scores.
    public struct Correlation: Sendable {
        public let a: String
        public let b: String
        public let items: Int
        public let r: Float

        /// The 95% confidence interval of r (Fisher's z, normal approximation), so a reviewer
        /// sees whether a pair is opposite beyond chance: an interval that reaches 0 is not.
        public var interval95: ClosedRange<Float> {
            guard items > 3, abs(r) < 1 else { return r...r }
            let z = atanh(Double(r)), half = 1.959_964 / Double(items - 3).squareRoot()
            return Float(tanh(z - half))...Float(tanh(z + half))
        }
    }

    /// Opposite pairs: metric pairs judged together on at least `minimumItems` items whose
    /// scores correlate at or below `maximumCorrelation`; each metric keeps its most negative
    /// partner (a relations file gives a metric one opposite). Also returns how many pairs
    /// were examined and the most negative correlation seen, so an empty answer is explained.
    public func suggestOpposites(dataset: String, minimumItems: Int = 20, maximumCorrelation: Float = -0.3)
        throws -> (pairs: [Correlation], examined: Int, mostNegative: Correlation?) {
        try store.read { db in
            let byItem = try Self.scoresByItem(db, dataset: dataset)
            var shared: [String: [(Double, Double)]] = [:]
            for scores in byItem.values where scores.count > 1 {
                let names = scores.keys.sorted()
                for i in names.indices { for j in (i + 1)..<names.count {
                    shared["\(names[i])\u{0}\(names[j])", default: []].append((scores[names[i]]!, scores[names[j]]!))
                } }
            }
            var all: [Correlation] = []
            for (key, pairs) in shared where pairs.count >= minimumItems {
                let parts = key.split(separator: "\u{0}").map(String.init)
                let n = Double(pairs.count)
                let mx = pairs.map(\.0).reduce(0, +) / n, my = pairs.map(\.1).reduce(0, +) / n
                var sxy = 0.0, sxx = 0.0, syy = 0.0
                for (x, y) in pairs { sxy += (x - mx) * (y - my); sxx += (x - mx) * (x - mx); syy += (y - my) * (y - my) }
                guard sxx > 0, syy > 0 else { continue }
                all.append(Correlation(a: parts[0], b: parts[1], items: pairs.count, r: Float(sxy / (sxx * syy).squareRoot())))
            }
            all.sort { ($0.r, $0.a, $0.b) < ($1.r, $1.a, $1.b) }
            var taken = Set<String>(), chosen: [Correlation] = []
            for c in all where c.r <= maximumCorrelation && !taken.contains(c.a) && !taken.contains(c.b) {
                chosen.append(c)
                taken.formUnion([c.a, c.b])
            }
            return (chosen, all.count, all.first)
        }
    }

    let store: Store

    public init(store: Store) { self.store = store }

    /// The real training labels, item by item: metric name to score.
    static func scoresByItem(_ db: Database, dataset: String) throws -> [String: [String: Double]] {
        let rows = try RealSamples.trainScoresByItem(db, dataset: DatasetResolver.require(db, dataset).id)
        var byItem: [String: [String: Double]] = [:]
        for row in rows { byItem[row.item, default: [:]][row.metric] = row.score }
        return byItem
    }

    /// Fills in each pair's shared items and disagreements from the real labels.
    func withLabelEvidence(_ pairs: [Pair], dataset: String) throws -> [Pair] {
        let byItem = try store.read { try Self.scoresByItem($0, dataset: dataset) }
        return pairs.map { pair in
            var p = pair
            for scores in byItem.values {
                guard let x = scores[p.a], let y = scores[p.b] else { continue }
                p.sharedItems += 1
                if abs(x - y) > 1 { p.disagreeing += 1 }
            }
            return p
        }
    }

    /// Mutual nearest neighbours with cosine >= minimumCosine, within `neighbours` of each other.
    public func suggest(dataset: String, encoderKey: String?, neighbours k: Int = 1, minimumCosine: Float = 0.8)
        throws -> (pairs: [Pair], source: String) {
        let found: (pairs: [Pair], source: String) = try store.read { db in
            let datasetID = try DatasetResolver.require(db, dataset).id
            let encoderID = try encoderKey.flatMap { try Encoder.keyed(db, $0)?.id }
            let (vectors, source) = try MetricVectors.load(db, dataset: datasetID, encoder: encoderID)
            let names = Dictionary(uniqueKeysWithValues: try Metric.listedIDs(db, dataset: datasetID).map { ($1, $0) })
            let ids = names.keys.filter { vectors[$0] != nil }.sorted()
            guard ids.count >= 2 else { throw PipelineError.tooFewMetricVectors(dataset: dataset, count: ids.count) }
            func cosine(_ a: Int64, _ b: Int64) -> Float { VectorMath.cosine(vectors[a]!, vectors[b]!) ?? 0 }
            var top: [Int64: [(Int64, Float)]] = [:]
            for a in ids {
                top[a] = ids.filter { $0 != a }.map { ($0, cosine(a, $0)) }.sorted { $0.1 > $1.1 }.prefix(k).map { $0 }
            }
            var pairs: [Pair] = []
            for a in ids {
                for (b, c) in top[a]! where a < b && c >= minimumCosine && top[b]!.contains(where: { $0.0 == a }) {
                    pairs.append(Pair(a: names[a]!, b: names[b]!, cosine: c))
                }
            }
            return (pairs.sorted { $0.cosine > $1.cosine }, source)
        }
        return (try withLabelEvidence(found.pairs, dataset: dataset), found.source)
    }

    /// The relations file text: `pairs` as symmetric substitutes, `opposites` both ways.
    public static func relationsJSON(_ pairs: [Pair], opposites: [Correlation] = [], dataset: String, source: String) throws -> String {
        var substitutes: [String: [String]] = [:]
        for p in pairs {
            substitutes[p.a, default: []].append(p.b)
            substitutes[p.b, default: []].append(p.a)
        }
        let object: [String: Any] = [
            "dataset": dataset,
            "about": "SUGGESTED by `fitstore relations suggest`: substitutes from mutual nearest neighbours in metric-embedding space (\(source)), opposites from negatively correlated scores on shared items; review before use.",
            "opposites": Dictionary(uniqueKeysWithValues: opposites.flatMap { [($0.a, $0.b), ($0.b, $0.a)] }),
            "substitutes": substitutes.mapValues { $0.sorted() },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
