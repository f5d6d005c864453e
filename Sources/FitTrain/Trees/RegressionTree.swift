/// A binary regression tree over raw feature values: an internal node sends a row left when
/// `x[feature] <= threshold`; a leaf holds its output. Node 0 is the root.
public struct RegressionTree: Sendable, Equatable {
    /// -1 for a leaf.
    public var feature: [Int32] = []
    public var threshold: [Float] = []
    public var left: [Int32] = []
    public var right: [Int32] = []
    public var value: [Float] = []

    public var nodeCount: Int { feature.count }

    public init() {}

    /// Appends a leaf; returns its index.
    mutating func addLeaf(_ output: Float) -> Int {
        feature.append(-1); threshold.append(0); left.append(-1); right.append(-1); value.append(output)
        return feature.count - 1
    }

    @inline(__always) public func predict(_ row: UnsafeBufferPointer<Float>) -> Float {
        var node = 0
        while feature[node] >= 0 {
            node = Int(row[Int(feature[node])] <= threshold[node] ? left[node] : right[node])
        }
        return value[node]
    }
}
