import FitAugment
import FitFormats
import FitStore
import FitTrain
import Foundation
import GRDB

/// Which item each training row belongs to, and which real rows each synthetic row descends
/// from: what grouped cross-validation needs.
struct Lineage {
    var itemOfSample: [Int64: String] = [:]
    var parents: [Int64: [Int64]] = [:]

    /// The items of the selection's real train rows, and the parent links of its synthetic
    /// rows (and of their synthetic ancestors), read for these rows only.
    static func load(_ db: Database, dataset: Int64, sampleIDs: [Int64]) throws -> Lineage {
        var l = Lineage()
        l.itemOfSample = try RealSamples.trainItems(db, ids: sampleIDs)
        var frontier = sampleIDs.filter { l.itemOfSample[$0] == nil }
        var seen = Set(frontier)
        for _ in 0..<16 where !frontier.isEmpty {
            let links = try SyntheticSamples.parentLinks(db, children: frontier)
            l.parents.merge(links) { $1 }
            frontier = links.values.flatMap { $0 }.filter { seen.insert($0).inserted }
            // Real parents end the walk; only synthetic ones have parents of their own.
            frontier = frontier.filter { l.itemOfSample[$0] == nil }
        }
        return l
    }

    func items(_ f: FeatureMatrix) -> [String?] { f.sampleIDs.map { itemOfSample[$0] } }

    /// Row indices of the real ancestors of each synthetic row (following synthetic parents).
    func ancestors(_ f: FeatureMatrix) -> [[Int]] {
        let rowOf = Dictionary(uniqueKeysWithValues: f.sampleIDs.enumerated().map { ($1, $0) })
        func roots(_ id: Int64, depth: Int) -> [Int64] {
            if itemOfSample[id] != nil || depth > 16 { return [id] }
            return (parents[id] ?? []).flatMap { roots($0, depth: depth + 1) }
        }
        return f.sampleIDs.map { id in
            itemOfSample[id] != nil ? [] : (parents[id] ?? []).flatMap { roots($0, depth: 0) }.compactMap { rowOf[$0] }
        }
    }
}
