import FitFormats
import Foundation

/// A real training row as the generators see it.
public struct ParentSample: Sendable, Equatable {
    public let id: Int64
    public let metric: String
    public let score: Double
    /// What was judged (its prompt and response), so that generators can avoid writing a
    /// (metric, item) pair that a real row already labels.
    public let item: String

    public init(id: Int64, metric: String, score: Double, item: String? = nil) {
        self.id = id
        self.metric = metric
        self.score = score
        self.item = item ?? "row:\(id)"
    }
}

/// A synthetic row to be: what to write, and the provenance that identifies it. The key is
/// a digest of (generator, version, parents, metric, parameters, seed): the same inputs
/// always give the same key, which makes augmentation idempotent.
public struct SyntheticSpec: Sendable, Equatable {
    public let generator: String
    public let version: Int
    public let parents: [Int64]
    public let metric: String
    public let score: Double
    /// Canonical JSON of the generator's parameters.
    public let parameters: String
    public let seed: UInt64

    public var key: String {
        var h = SHA256()
        h.update("\(generator)\n\(version)\n\(parents.map(String.init).joined(separator: ","))\n\(metric)\n\(parameters)\n\(seed)")
        return "syn:" + h.finalize().hexString
    }

    /// A per-row seed from the run's seed and the parent, so a row's randomness does not
    /// depend on which other rows exist (new parents leave old children unchanged).
    static func rowSeed(_ seed: UInt64, _ generator: String, _ parent: Int64, _ salt: String = "") -> UInt64 {
        var h = SHA256()
        h.update("\(seed)|\(generator)|\(parent)|\(salt)")
        return h.finalize().prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
