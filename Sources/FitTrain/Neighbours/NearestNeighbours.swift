import FitNumerics

/// k-nearest-neighbour regression: a row's score is the mean score of the k training rows
/// nearest to it by cosine on chosen vector blocks (the prompt's and the response's), among
/// the training rows of its own group (the rows whose metric block holds the same values: one
/// metric), or among all training rows when its group has fewer than k.
///
/// Why a second learner this simple: on basse_gpt4o, a kNN blended with the boosted trees by
/// out-of-fold predictions lowered CV RMSE by 1.9% where ridge did nothing
/// (tools/learner_probe.py, docs/results.md): the trees split one coordinate at a time and
/// miss "this response reads like that one"; a neighbour average sees it directly.
///
/// Same input, same bytes: every similarity is a `RowInvariantProduct` dot product (one fixed
/// order of fused multiply-adds per pair, whatever shares the batch or the thread), ties are
/// broken by the lower training row, and a mean sums the labels in rank order. So a row's
/// prediction depends on the training rows and on k only.
///
/// The model is one flat Float buffer (the checkpoint blob):
/// `[format 1, k, inputs, rows, dims, blocks, (start, end) per block, group start, group end,
///   groups, group keys (groups x group width), group of each row, labels, points (rows x dims)]`.
/// Counts and indices are whole numbers, exact as floats below 2^24.
public struct NearestNeighbours: @unchecked Sendable {
    /// Which feature columns make a row's point and its group.
    public struct Columns: Sendable, Equatable {
        /// The vector blocks whose unit vectors, side by side and each scaled by 1/sqrt(count),
        /// make the point: the dot product of two points is the mean of the blocks' cosines.
        public var blocks: [Range<Int>]
        /// The block whose exact values group the rows (nil or empty: one group).
        public var group: Range<Int>?

        public init(blocks: [Range<Int>], group: Range<Int>?) {
            self.blocks = blocks
            self.group = group
        }

        public var dims: Int { blocks.reduce(0) { $0 + $1.count } }
    }

    public let k: Int
    public let inputs: Int
    public let columns: Columns
    /// rows x dims, the training rows' points.
    let points: [Float]
    let labels: [Float]
    let groupOfRow: [Int]
    /// Each group's values of the group block.
    let groupKeys: [[Float]]

    // Derived at construction, never stored.
    let members: [[Int]]
    let groupIndex: [[UInt32]: Int]
    let packedAll: PackedWeights
    let packedGroups: [PackedWeights]

    public var rows: Int { labels.count }
    public var dims: Int { columns.dims }

    static let format: Float = 1
    /// Query rows per similarity product (bounds the scratch to chunk x candidates floats).
    static let chunkRows = 96

    init(k: Int, inputs: Int, columns: Columns, points: [Float], labels: [Float], groupOfRow: [Int], groupKeys: [[Float]]) {
        self.k = k
        self.inputs = inputs
        self.columns = columns
        self.points = points
        self.labels = labels
        self.groupOfRow = groupOfRow
        self.groupKeys = groupKeys
        var members = [[Int]](repeating: [], count: groupKeys.count)
        for (row, g) in groupOfRow.enumerated() { members[g].append(row) }
        self.members = members
        groupIndex = Dictionary(groupKeys.enumerated().map { (Self.key($1[...]), $0) }, uniquingKeysWith: { a, _ in a })
        let dims = columns.dims
        packedAll = PackedWeights(points, bias: nil, outputs: labels.count, inputs: dims)
        packedGroups = members.map { rows in
            var sub = [Float]()
            sub.reserveCapacity(rows.count * dims)
            for r in rows { sub += points[(r * dims)..<((r + 1) * dims)] }
            return PackedWeights(sub, bias: nil, outputs: rows.count, inputs: dims)
        }
    }

    /// The model of `rows` of x (row-major, `width` columns) with their labels.
    public static func fit(x: [Float], width: Int, y: [Float], rows: [Int], columns: Columns, k: Int) -> NearestNeighbours {
        let dims = columns.dims
        var points = [Float](repeating: 0, count: rows.count * dims)
        var groupKeys: [[Float]] = [], groupOfKey: [[UInt32]: Int] = [:], groupOfRow: [Int] = []
        for (i, r) in rows.enumerated() {
            point(x, row: r, width: width, columns: columns, into: &points, at: i * dims)
            let values = columns.group.map { x[(r * width + $0.lowerBound)..<(r * width + $0.upperBound)] } ?? []
            let key = Self.key(values)
            if let g = groupOfKey[key] {
                groupOfRow.append(g)
            } else {
                groupOfKey[key] = groupKeys.count
                groupOfRow.append(groupKeys.count)
                groupKeys.append(Array(values))
            }
        }
        return NearestNeighbours(k: max(1, min(k, rows.count)), inputs: width, columns: columns, points: points,
                                 labels: rows.map { y[$0] }, groupOfRow: groupOfRow, groupKeys: groupKeys)
    }

    /// The same training rows with another k.
    public func with(k: Int) -> NearestNeighbours {
        NearestNeighbours(k: max(1, min(k, rows)), inputs: inputs, columns: columns, points: points, labels: labels,
                          groupOfRow: groupOfRow, groupKeys: groupKeys)
    }

    /// Predictions clamped to [0, 10] for the given rows of x (`inputs` columns).
    public func predict(x: [Float], rows: [Int], threads: Int = 2) -> [Float] {
        let ranked = rankedLabels(x: x, rows: rows, depth: k, threads: threads) { size in size >= self.k }
        return ranked.map { min(10, max(0, Self.mean($0, first: k))) }
    }

    /// The k among `candidates` whose predictions of the held rows of `splits` (each split's
    /// model fitted on its train rows) have the lowest squared error summed over the splits;
    /// ties go to the smaller k. Returns the RMSE of every candidate too (nil: no held row).
    public static func chooseK(x: [Float], width: Int, y: [Float], columns: Columns, splits: [(train: [Int], held: [Int])],
                               candidates: [Int], threads: Int = 2, splitDone: (Int) -> Void = { _ in }) -> (k: Int, rmse: [Float?]) {
        let ks = candidates.filter { $0 >= 1 }
        guard let depth = ks.max() else { return (1, []) }
        var squared = [Double](repeating: 0, count: ks.count), count = 0
        for (index, split) in splits.enumerated() where !split.train.isEmpty && !split.held.isEmpty {
            defer { splitDone(index) }
            let model = fit(x: x, width: width, y: y, rows: split.train, columns: columns, k: depth)
            // Within the group as deep as the largest k; all rows where the group is smaller.
            let inGroup = model.rankedLabels(x: x, rows: split.held, depth: depth, threads: threads) { $0 >= 1 }
            let groupSizes = model.groupSizes(x: x, rows: split.held)
            let needAll = split.held.indices.filter { groupSizes[$0] < depth }
            let overAll = model.rankedLabels(x: x, rows: needAll.map { split.held[$0] }, depth: depth, threads: threads) { _ in false }
            var allOf: [Int: [Float]] = [:]
            for (i, ranked) in zip(needAll, overAll) { allOf[i] = ranked }
            for (i, r) in split.held.enumerated() {
                for (j, k) in ks.enumerated() {
                    let ranked = groupSizes[i] >= min(k, model.rows) ? inGroup[i] : (allOf[i] ?? inGroup[i])
                    let e = Double(min(10, max(0, mean(ranked, first: k)))) - Double(y[r])
                    squared[j] += e * e
                }
            }
            count += split.held.count
        }
        guard count > 0 else { return (ks.min() ?? 1, ks.map { _ in nil }) }
        let rmse = squared.map { Float(($0 / Double(count)).squareRoot()) }
        var best = 0
        for j in ks.indices where rmse[j] < rmse[best] || (rmse[j] == rmse[best] && ks[j] < ks[best]) { best = j }
        return (ks[best], rmse.map { Optional($0) })
    }

    // MARK: - Search

    /// Per row, the labels of its nearest training rows in rank order (similarity down, then
    /// training row up), at most `depth`: among its group's rows when `useGroup(group size)`
    /// says so, else among all rows.
    func rankedLabels(x: [Float], rows: [Int], depth: Int, threads: Int, useGroup: (Int) -> Bool) -> [[Float]] {
        let dims = self.dims
        // Bucket the rows by candidate set: a group, or -1 for every training row.
        var buckets: [Int: [Int]] = [:]
        for (i, r) in rows.enumerated() {
            let g = group(x: x, row: r).flatMap { members[$0].isEmpty || !useGroup(members[$0].count) ? nil : $0 } ?? -1
            buckets[g, default: []].append(i)
        }
        var out = [[Float]](repeating: [], count: rows.count)
        // Per candidate set, chunks of its rows: the similarities of a chunk are one product,
        // its rows shared among the threads (`applyInParallel`: the split changes no result).
        let workspaces = (0..<max(1, threads)).map { _ in RowInvariantProduct.Workspace() }
        var query = [Float](repeating: 0, count: Self.chunkRows * dims)
        var sims: [Float] = []
        for set in buckets.keys.sorted() {
            let packed = set < 0 ? packedAll : packedGroups[set]
            let candidates = packed.outputs
            guard candidates > 0, let indices = buckets[set] else { continue }
            for start in stride(from: 0, to: indices.count, by: Self.chunkRows) {
                let chunk = indices[start..<min(start + Self.chunkRows, indices.count)]
                for (c, i) in chunk.enumerated() {
                    Self.point(x, row: rows[i], width: inputs, columns: columns, into: &query, at: c * dims)
                }
                if sims.count < chunk.count * candidates { sims = [Float](repeating: 0, count: chunk.count * candidates) }
                query.withUnsafeBufferPointer { q in
                    sims.withUnsafeMutableBufferPointer { s in
                        RowInvariantProduct.applyInParallel(packed, to: q.baseAddress!, rows: chunk.count, into: s.baseAddress!,
                                                            workspaces: workspaces)
                    }
                }
                for (c, i) in chunk.enumerated() {
                    let top = Self.top(sims[(c * candidates)..<((c + 1) * candidates)], depth: depth)
                    out[i] = top.map { set < 0 ? labels[$0] : labels[members[set][$0]] }
                }
            }
        }
        return out
    }

    /// Per row, the size of its group among the training rows (0: a group training never saw).
    func groupSizes(x: [Float], rows: [Int]) -> [Int] {
        rows.map { r in group(x: x, row: r).map { members[$0].count } ?? 0 }
    }

    func group(x: [Float], row: Int) -> Int? {
        let values = columns.group.map { x[(row * inputs + $0.lowerBound)..<(row * inputs + $0.upperBound)] } ?? []
        return groupIndex[Self.key(values)]
    }

    /// Candidate indices of the `depth` largest similarities, similarity down then index up.
    static func top(_ sims: ArraySlice<Float>, depth: Int) -> [Int] {
        var best: [(sim: Float, index: Int)] = []
        best.reserveCapacity(depth + 1)
        for (index, sim) in zip(0..., sims) {
            // Candidates come in index order, so a tie never displaces an earlier one.
            if best.count == depth, let last = best.last, !(sim > last.sim) { continue }
            var at = best.count
            while at > 0, sim > best[at - 1].sim { at -= 1 }
            best.insert((sim, index), at: at)
            if best.count > depth { best.removeLast() }
        }
        return best.map(\.index)
    }

    static func mean(_ ranked: [Float], first k: Int) -> Float {
        let n = min(k, ranked.count)
        guard n > 0 else { return 0 }
        var s = 0.0
        for i in 0..<n { s += Double(ranked[i]) }
        return Float(s / Double(n))
    }

    /// Row r's point: each block divided by its L2 norm (a zero block stays zero) and by
    /// sqrt(block count), side by side.
    public static func point(_ x: [Float], row r: Int, width: Int, columns: Columns, into out: inout [Float], at offset: Int) {
        let scale = 1 / Double(columns.blocks.count).squareRoot()
        var o = offset
        for block in columns.blocks {
            let base = r * width
            var ss = 0.0
            for c in block { ss += Double(x[base + c]) * Double(x[base + c]) }
            let factor = ss > 0 ? scale / ss.squareRoot() : 0
            for c in block {
                out[o] = Float(Double(x[base + c]) * factor)
                o += 1
            }
        }
    }

    static func key(_ values: ArraySlice<Float>) -> [UInt32] { values.map(\.bitPattern) }

    // MARK: - The flat buffer

    public var flat: [Float] {
        var out: [Float] = [Self.format, Float(k), Float(inputs), Float(rows), Float(dims), Float(columns.blocks.count)]
        for b in columns.blocks { out += [Float(b.lowerBound), Float(b.upperBound)] }
        let group = columns.group ?? 0..<0
        out += [Float(group.lowerBound), Float(group.upperBound), Float(groupKeys.count)]
        for key in groupKeys { out += key }
        out += groupOfRow.map(Float.init)
        out += labels
        out += points
        return out
    }

    public struct Malformed: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "not a nearest-neighbours buffer: \(reason)" }
    }

    /// Rebuilds a model from `flat`, checking every count, index and value; `inputs` is the
    /// feature width the checkpoint's configuration gives.
    public init(flat: [Float], inputs: Int) throws {
        do {
            var f = _FlatReader(flat)
            let limit = 1 << 24
            guard try f.value("format") == Self.format else { throw _FlatReaderError(reason: "its format is not \(Self.format)") }
            let k = try f.integer("k", in: 1...limit)
            let storedInputs = try f.integer("inputs", in: 0...limit)
            guard storedInputs == inputs else {
                throw _FlatReaderError(reason: "it was fitted on \(storedInputs) feature columns; its configuration gives \(inputs)")
            }
            let rows = try f.integer("rows", in: 1...limit)
            let dims = try f.integer("dims", in: 1...limit)
            let blockCount = try f.integer("blocks", in: 1...limit)
            var blocks: [Range<Int>] = []
            for b in 0..<blockCount {
                let start = try f.integer("block \(b) start", in: 0...inputs)
                let end = try f.integer("block \(b) end", in: start...inputs)
                blocks.append(start..<end)
            }
            guard blocks.reduce(0, { $0 + $1.count }) == dims else { throw _FlatReaderError(reason: "its blocks are not \(dims) columns wide") }
            let groupStart = try f.integer("group start", in: 0...inputs)
            let groupEnd = try f.integer("group end", in: groupStart...inputs)
            let groups = try f.integer("groups", in: 1...rows)
            let groupWidth = groupEnd - groupStart
            guard groups * groupWidth <= f.remaining else { throw _FlatReaderError(reason: "truncated in the group keys") }
            var keys: [[Float]] = []
            for _ in 0..<groups { keys.append(Array(try f.slice(groupWidth, "a group key"))) }
            guard Set(keys.map { Self.key($0[...]) }).count == groups else { throw _FlatReaderError(reason: "two groups have the same key") }
            var groupOfRow: [Int] = []
            groupOfRow.reserveCapacity(rows)
            for r in 0..<rows { groupOfRow.append(try f.integer("row \(r)'s group", in: 0...(groups - 1))) }
            let labels = Array(try f.slice(rows, "labels"))
            guard case let (n, overflow) = rows.multipliedReportingOverflow(by: dims), !overflow, n == f.remaining else {
                throw _FlatReaderError(reason: "\(f.remaining) values left for \(rows) points of \(dims) dims")
            }
            let points = Array(try f.slice(rows * dims, "points"))
            guard labels.allSatisfy(\.isFinite), points.allSatisfy({ $0.isFinite && abs($0) <= 1 }) else {
                throw _FlatReaderError(reason: "a label or a point value is not finite, or a point is not a unit vector's")
            }
            self.init(k: min(k, rows), inputs: inputs, columns: Columns(blocks: blocks, group: groupWidth > 0 ? groupStart..<groupEnd : nil),
                      points: points, labels: labels, groupOfRow: groupOfRow, groupKeys: keys)
        } catch let error as _FlatReaderError {
            throw Malformed(reason: error.reason)
        }
    }
}
