/// A binary regression tree over raw feature values. A numeric node sends a row left when
/// `x[feature] <= threshold`; a categorical node (feature ≤ -2, column `-feature - 2`) sends it
/// left when the column holds a whole-number category code whose bit is set in the node's
/// category set (`sets[Int(threshold)]`, 16 codes per word); anything else, a code the fit never
/// saw (-1), NaN or a value out of range, goes right. A leaf (feature -1) holds its output.
/// Node 0 is the root.
public struct RegressionTree: Sendable, Equatable {
    public var feature: [Int32] = []
    public var threshold: [Float] = []
    public var left: [Int32] = []
    public var right: [Int32] = []
    public var value: [Float] = []
    /// The categorical nodes' sets of category codes, as bit words (bit c & 15 of word c >> 4).
    public var sets: [[UInt16]] = []

    public var nodeCount: Int { feature.count }

    public init() {}

    /// The column a categorical node's feature value stands for.
    @inline(__always) public static func categoricalColumn(_ feature: Int32) -> Int { Int(-feature - 2) }
    /// The feature value of a categorical node on `column`.
    @inline(__always) public static func categoricalFeature(column: Int) -> Int32 { Int32(-column - 2) }

    /// Appends a leaf; returns its index.
    mutating func addLeaf(_ output: Float) -> Int {
        feature.append(-1); threshold.append(0); left.append(-1); right.append(-1); value.append(output)
        return feature.count - 1
    }

    /// Whether category value `v` is in set `s` (a value that is not a code in the set's range is not).
    @inline(__always) func contains(set s: Int, _ v: Float) -> Bool {
        let words = sets[s]
        guard v >= 0, v < Float(words.count * 16) else { return false }
        let code = Int(v)
        return Float(code) == v && words[code >> 4] & (1 << UInt16(code & 15)) != 0
    }

    @inline(__always) public func predict(_ row: UnsafeBufferPointer<Float>) -> Float {
        var node = 0
        while true {
            let f = feature[node]
            if f >= 0 {
                node = Int(row[Int(f)] <= threshold[node] ? left[node] : right[node])
            } else if f == -1 {
                return value[node]
            } else {
                node = Int(contains(set: Int(threshold[node]), row[Self.categoricalColumn(f)]) ? left[node] : right[node])
            }
        }
    }
}
