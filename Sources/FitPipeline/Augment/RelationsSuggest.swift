import FitStore
import Foundation
import GRDB

/// `fitstore relations suggest`: proposes substitutable metric pairs from nearest neighbours
/// in metric-embedding space (the seed report's proposed extension, §3.6), as a relations
/// file for a person to review, edit and save. Opposites are not proposed: embeddings put
/// "hallucination" and "factual grounding" close together, so nearness cannot tell them apart.
public struct RelationsSuggest {
    public struct Pair: Sendable { public let a: String; public let b: String; public let cosine: Float }

    let store: Store

    public init(store: Store) { self.store = store }

    /// Mutual nearest neighbours with cosine >= minimumCosine, within `neighbours` of each other.
    public func suggest(dataset: String, encoderKey: String?, neighbours k: Int = 1, minimumCosine: Float = 0.8)
        throws -> (pairs: [Pair], source: String) {
        try store.read { db in
            guard let datasetID = try Int64.fetchOne(db, sql: "SELECT id FROM dataset WHERE name = ?", arguments: [dataset]) else {
                throw StoreError.notFound("no data set named '\(dataset)'")
            }
            let encoderID = try encoderKey.flatMap { try Int64.fetchOne(db, sql: "SELECT id FROM encoder WHERE key = ?", arguments: [$0]) }
            let (vectors, source) = try MetricVectors.load(db, datasetID: datasetID, encoderID: encoderID)
            let names = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, name FROM metric WHERE dataset_id = ? AND position IS NOT NULL",
                                                                         arguments: [datasetID]).map { ($0[0] as Int64, $0[1] as String) })
            let ids = names.keys.filter { vectors[$0] != nil }.sorted()
            guard ids.count >= 2 else {
                throw StoreError.notFound("data set '\(dataset)' has vectors for \(ids.count) metric(s): ingest given vectors or run `fitstore embed` first")
            }
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
    }

    /// The relations file text for `pairs` (substitutes only, symmetric).
    public static func relationsJSON(_ pairs: [Pair], dataset: String, source: String) throws -> String {
        var substitutes: [String: [String]] = [:]
        for p in pairs {
            substitutes[p.a, default: []].append(p.b)
            substitutes[p.b, default: []].append(p.a)
        }
        let object: [String: Any] = [
            "dataset": dataset,
            "about": "SUGGESTED by `fitstore relations suggest` from mutual nearest neighbours in metric-embedding space (\(source)); review before use.",
            "opposites": [String: String](),
            "substitutes": substitutes.mapValues { $0.sorted() },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
