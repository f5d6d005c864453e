/// What a generator was asked for, what it made and why it made less: so that `augment`
/// can say, per generator, requested / written / skipped with the reason, instead of a
/// silent shortfall.
public struct GeneratorTally: Sendable, Equatable {
    public var requested = 0
    public var made = 0
    /// Reason -> rows not made for it.
    public var skipped: [String: Int] = [:]

    public init() {}

    public mutating func skip(_ reason: String, _ count: Int = 1) { skipped[reason, default: 0] += count }
}

/// Tallies by generator name.
public typealias AugmentationTally = [String: GeneratorTally]

/// The reasons generators give for a row they did not make.
public enum SkipReason {
    public static let labelled = "a real row already labels this (metric, prompt, response): a synthetic one would relabel it"
    public static let noFreeShuffle = "no real row under another metric whose texts are free for this metric (16 draws)"
    public static let noFreeMetric = "no unrelated metric free for these texts"
    public static let noMetricVectors = "no metric vectors to rank unrelated metrics (given or embedded)"
    public static let present = "already in the store (an earlier run wrote it)"
}

/// (metric, item) pairs that real rows label, as 64-bit keys (8 bytes a row).
public struct LabelledPairs: Sendable {
    let keys: Set<UInt64>

    public init(_ parents: [ParentSample]) { keys = Set(parents.map { Self.key($0.metric, $0.item) }) }

    public func contains(metric: String, item: String) -> Bool { keys.contains(Self.key(metric, item)) }

    /// FNV-1a of "metric \u{1F} item": a collision can only make a generator skip a row,
    /// never write one over a real label.
    static func key(_ metric: String, _ item: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in metric.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h = (h ^ 0x1F) &* 0x100_0000_01b3
        for byte in item.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return h
    }
}
