/// Settings of the nearest-neighbours model. k is not one of them: every fit chooses it among
/// `candidates` by an inner grouped CV of its own rows, so the choice never sees a held-out row.
public struct NeighbourOptions: Codable, Sendable, Equatable {
    /// The k tried (those of tools/learner_probe.py, whose measurement this model follows).
    public var candidates = [5, 10, 20, 50, 100]
    /// Parts of the inner grouped CV that chooses k.
    public var innerFolds = 4
    public var threads = 2

    public init() {}
}
