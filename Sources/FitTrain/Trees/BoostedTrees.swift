/// An additive model of regression trees: base + sum of tree outputs, clamped to [0, 10] by
/// `predict` like every fitstore model. All of it packs into one flat Float buffer (the
/// checkpoint blob): [tree count, base, then per tree: node count, then per node feature,
/// threshold, left, right, value]. Indices are exact as floats below 2^24.
public struct BoostedTrees: Sendable, Equatable {
    public var base: Float
    public var trees: [RegressionTree]
    public let inputs: Int

    public init(base: Float, trees: [RegressionTree], inputs: Int) {
        self.base = base
        self.trees = trees
        self.inputs = inputs
    }

    /// Unclamped raw score of one row.
    public func score(_ row: UnsafeBufferPointer<Float>) -> Float {
        var s = base
        for t in trees { s += t.predict(row) }
        return s
    }

    /// Clamped predictions for the given rows of x (row-major, `inputs` columns).
    public func predict(x: [Float], rows: [Int]) -> [Float] {
        x.withUnsafeBufferPointer { p in
            rows.map { r in
                min(10, max(0, score(UnsafeBufferPointer(rebasing: p[(r * inputs)..<((r + 1) * inputs)]))))
            }
        }
    }

    public var flat: [Float] {
        var out: [Float] = [Float(trees.count), base]
        for t in trees {
            out.append(Float(t.nodeCount))
            for i in 0..<t.nodeCount {
                out += [Float(t.feature[i]), t.threshold[i], Float(t.left[i]), Float(t.right[i]), t.value[i]]
            }
        }
        return out
    }

    public struct Malformed: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "not a boosted-trees buffer: \(reason)" }
    }

    /// Rebuilds a model from `flat`, checking every index.
    public init(flat: [Float], inputs: Int) throws {
        var i = 0
        func next() throws -> Float {
            guard i < flat.count else { throw Malformed(reason: "truncated at value \(i)") }
            defer { i += 1 }
            return flat[i]
        }
        let count = Int(try next())
        base = try next()
        trees = []
        for _ in 0..<count {
            var t = RegressionTree()
            let nodes = Int(try next())
            guard nodes >= 1 else { throw Malformed(reason: "empty tree") }
            for _ in 0..<nodes {
                let f = Int32(try next()), th = try next(), l = Int32(try next()), r = Int32(try next()), v = try next()
                guard f < Int32(inputs), f < 0 || (l > 0 && r > 0 && Int(l) < nodes && Int(r) < nodes) else {
                    throw Malformed(reason: "node \(t.nodeCount) of tree \(trees.count) points outside its tree or inputs")
                }
                t.feature.append(f); t.threshold.append(th); t.left.append(l); t.right.append(r); t.value.append(v)
            }
            trees.append(t)
        }
        guard i == flat.count else { throw Malformed(reason: "\(flat.count - i) values left over") }
        self.inputs = inputs
    }
}
