/// An additive model of regression trees: base + sum of tree outputs, clamped to [0, 10] by
/// `predict` like every fitstore model. Trees split on the `inputs` columns of a row and, when
/// the model has group-mean encodings, on one more column per encoding: column `inputs + e` is
/// encoding e's value for the row (a bag keeps each member's own encoding, and its trees read
/// that one).
///
/// All of it packs into one flat Float buffer (the checkpoint blob). Without encodings:
/// [tree count, base, then per tree: node count, then per node feature, threshold, left, right,
/// value]. With them, the same after a header: [-2, encoding count, each encoding's values
/// (`GroupMeanEncoding.flat`)]. When some tree has categorical nodes the header starts with
/// -3 instead, and each tree's nodes are followed by its category sets: [set count, then per
/// set its word count and words]. Indices and words are exact as floats below 2^24.
public struct BoostedTrees: Sendable, Equatable {
    public var base: Float
    public var trees: [RegressionTree]
    public let inputs: Int
    public var encodings: [GroupMeanEncoding]

    /// The first value of a buffer with encodings (a tree count is never negative).
    static let encodedFormat: Float = -2
    /// The first value of a buffer whose trees carry category sets.
    static let categoricalFormat: Float = -3

    public init(base: Float, trees: [RegressionTree], inputs: Int, encodings: [GroupMeanEncoding] = []) {
        self.base = base
        self.trees = trees
        self.inputs = inputs
        self.encodings = encodings
    }

    /// Columns a tree may read: the inputs, then one per encoding.
    public var columns: Int { inputs + encodings.count }

    /// Unclamped raw score of a row of `columns` values (the encodings' already filled in).
    public func score(_ row: UnsafeBufferPointer<Float>) -> Float {
        var s = base
        for t in trees { s += t.predict(row) }
        return s
    }

    /// Unclamped raw score of row r of x (row-major, `inputs` columns).
    public func score(x: UnsafeBufferPointer<Float>, row r: Int) -> Float {
        var extended = [Float](repeating: 0, count: encodings.isEmpty ? 0 : columns)
        return score(x: x, row: r, into: &extended)
    }

    /// The same through a caller's buffer of `columns` values: the row, then its encodings
    /// (unused without encodings: the row is read where it is).
    func score(x: UnsafeBufferPointer<Float>, row r: Int, into extended: inout [Float]) -> Float {
        if encodings.isEmpty { return score(UnsafeBufferPointer(rebasing: x[(r * inputs)..<((r + 1) * inputs)])) }
        for c in 0..<inputs { extended[c] = x[r * inputs + c] }
        for (e, encoding) in encodings.enumerated() { extended[inputs + e] = encoding.value(x, row: r, width: inputs) }
        return extended.withUnsafeBufferPointer { score($0) }
    }

    /// Clamped predictions for the given rows of x (row-major, `inputs` columns).
    public func predict(x: [Float], rows: [Int]) -> [Float] {
        var extended = [Float](repeating: 0, count: encodings.isEmpty ? 0 : columns)
        return x.withUnsafeBufferPointer { p in
            rows.map { r in min(10, max(0, score(x: p, row: r, into: &extended))) }
        }
    }

    public var flat: [Float] {
        var out: [Float] = []
        let categorical = trees.contains { !$0.sets.isEmpty }
        if !encodings.isEmpty || categorical {
            out += [categorical ? Self.categoricalFormat : Self.encodedFormat, Float(encodings.count)]
            for e in encodings { out += e.flat }
        }
        out += [Float(trees.count), base]
        for t in trees {
            out.append(Float(t.nodeCount))
            for i in 0..<t.nodeCount {
                out += [Float(t.feature[i]), t.threshold[i], Float(t.left[i]), Float(t.right[i]), t.value[i]]
            }
            guard categorical else { continue }
            out.append(Float(t.sets.count))
            for words in t.sets { out.append(Float(words.count)); out += words.map(Float.init) }
        }
        return out
    }

    public struct Malformed: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "not a boosted-trees buffer: \(reason)" }
    }

    /// Rebuilds a model from `flat`, checking every count and index (a value that is not a
    /// whole number in range is refused, never converted).
    public init(flat: [Float], inputs: Int) throws {
        var f = _FlatReader(flat)
        do {
            var encodings: [GroupMeanEncoding] = []
            let categorical = flat.first == Self.categoricalFormat
            if flat.first == Self.encodedFormat || categorical {
                _ = try f.value("format")
                let count = try f.integer("encoding count", in: (categorical ? 0 : 1)...max(1, f.remaining / 4))
                for e in 0..<count { encodings.append(try GroupMeanEncoding(reading: &f, inputs: inputs, name: "encoding \(e)")) }
            }
            let columns = inputs + encodings.count
            let count = try f.integer("tree count", in: 0...(flat.count / 2))
            base = try f.value("base")
            trees = []
            for tree in 0..<count {
                var t = RegressionTree()
                let nodes = try f.integer("tree \(tree)'s node count", in: 1...max(1, f.remaining / 5))
                for node in 0..<nodes {
                    let where_ = "node \(node) of tree \(tree)"
                    // Below -1: a categorical split on column -feature - 2 (only in a buffer that says so).
                    let lowest = categorical ? Int(RegressionTree.categoricalFeature(column: columns - 1)) : -1
                    let feature = try f.integer("\(where_)'s feature", in: lowest...(columns - 1))
                    let threshold = try f.value("\(where_)'s threshold")
                    // A leaf (feature -1) keeps whatever children it was stored with; a split's
                    // point forward inside its tree (children are made after their parent), so
                    // no stored tree can send predict round a cycle.
                    guard feature == -1 || node + 1 <= nodes - 1 else {
                        throw _FlatReaderError(reason: "\(where_) splits but is its tree's last node")
                    }
                    let children = feature == -1 ? -(1 << 24)...(1 << 24) : (node + 1)...(nodes - 1)
                    let left = try f.integer("\(where_)'s left child", in: children)
                    let right = try f.integer("\(where_)'s right child", in: children)
                    let value = try f.value("\(where_)'s value")
                    t.feature.append(Int32(feature)); t.threshold.append(threshold)
                    t.left.append(Int32(left)); t.right.append(Int32(right)); t.value.append(value)
                }
                if categorical {
                    let sets = try f.integer("tree \(tree)'s category set count", in: 0...f.remaining)
                    for s in 0..<sets {
                        let words = try f.integer("tree \(tree)'s category set \(s) word count", in: 1...max(1, f.remaining))
                        t.sets.append(try (0..<words).map { w in
                            UInt16(try f.integer("tree \(tree)'s category set \(s) word \(w)", in: 0...0xffff))
                        })
                    }
                    // A categorical node's threshold names one of its tree's sets.
                    for node in 0..<nodes where t.feature[node] < -1 {
                        let index = t.threshold[node]
                        guard index >= 0, index < Float(t.sets.count), index == index.rounded(.down) else {
                            throw _FlatReaderError(reason: "node \(node) of tree \(tree) names category set \(index), and the tree has \(t.sets.count)")
                        }
                    }
                }
                trees.append(t)
            }
            guard f.remaining == 0 else { throw _FlatReaderError(reason: "\(f.remaining) values left over") }
            self.encodings = encodings
        } catch let error as _FlatReaderError {
            throw Malformed(reason: error.reason)
        }
        self.inputs = inputs
    }
}
