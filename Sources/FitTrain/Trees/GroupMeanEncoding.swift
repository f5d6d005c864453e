import FitFormats

/// One extra input for boosted trees: the smoothed mean target of the training rows that share
/// a row's group, where a group is the exact bit pattern of a block of columns (fitstore passes
/// the metric vector's block, so the group is the metric). A categorical split on the metric,
/// as LightGBM makes one, orders the metrics by their mean target; this column gives every
/// tree that order at once, where the raw vector needs a tree of splits to single out one
/// metric. It is computed from the rows of the fit that owns it and nothing else, so inside
/// cross-validation the held-out fold never shapes it.
///
/// A group is keyed by a 64-bit FNV-1a hash of its columns' bit patterns (two metrics whose
/// vectors collide would share a mean: a chance of about n²/2⁶⁵ for n metrics). A group the
/// fit never saw, such as a metric only the test uses, gets the prior: the fit's mean target.
public struct GroupMeanEncoding: Sendable, Hashable {
    /// The columns whose bit pattern is the group.
    public let columns: Range<Int>
    /// Ascending group keys, and each one's smoothed mean.
    public let keys: [UInt64]
    public let means: [Float]
    /// The mean target of every row of the fit; what an unseen group gets.
    public let prior: Float

    /// (sum + smoothing × prior) / (count + smoothing) per group of `rows` (row-major x,
    /// `width` columns): a group of few rows stays near the prior, one of many gets its own mean.
    public init(x: [Float], width: Int, y: [Float], rows: [Int], columns: Range<Int>, smoothing: Float) {
        var sums: [UInt64: (sum: Double, count: Int)] = [:]
        var total = 0.0
        x.withUnsafeBufferPointer { p in
            for r in rows {
                let key = Self.key(p, row: r, width: width, columns: columns)
                sums[key, default: (0, 0)].sum += Double(y[r])
                sums[key, default: (0, 0)].count += 1
                total += Double(y[r])
            }
        }
        let prior = rows.isEmpty ? 0 : total / Double(rows.count)
        let keys = sums.keys.sorted()
        self.columns = columns
        self.keys = keys
        means = keys.map { k in
            sums[k].map { Float(($0.sum + Double(smoothing) * prior) / (Double($0.count) + Double(smoothing))) } ?? Float(prior)
        }
        self.prior = Float(prior)
    }

    /// Each group's code instead of its mean: the groups of `rows`, in key order, numbered 0, 1,
    /// 2…, and -1 for a group the fit never saw. It is the column a categorical split reads; no
    /// target goes into it, so training rows need no cross-fitting.
    public static func codes(x: [Float], width: Int, rows: [Int], columns: Range<Int>) -> GroupMeanEncoding {
        var seen = Set<UInt64>()
        x.withUnsafeBufferPointer { p in
            for r in rows { seen.insert(key(p, row: r, width: width, columns: columns)) }
        }
        let keys = seen.sorted()
        return GroupMeanEncoding(columns: columns, keys: keys, means: keys.indices.map { Float($0) }, prior: -1)
    }

    init(columns: Range<Int>, keys: [UInt64], means: [Float], prior: Float) {
        self.columns = columns
        self.keys = keys
        self.means = means
        self.prior = prior
    }

    /// Parts of the rows in `crossFitted`.
    public static let crossFitParts = 5

    /// The column for the rows a fit trains on: each row's value comes from the encoding of
    /// the other parts of `rows` (five parts, drawn by `seed`), so that no row's target is in
    /// its own input. In a group of few rows it would be a large part of it, and the trees
    /// would learn to trust the column more than a new row of that group can.
    public static func crossFitted(x: [Float], width: Int, y: [Float], rows: [Int], columns: Range<Int>,
                                   smoothing: Float, seed: UInt64) -> [Float] {
        var order = Array(rows.indices)
        var rng = SplitMix64(seed: seed &+ 0x6d65_616e)
        order.shuffle(using: &rng)
        var part = [Int](repeating: 0, count: rows.count)
        for (position, i) in order.enumerated() { part[i] = position % crossFitParts }
        let encodings = (0..<crossFitParts).map { k in
            GroupMeanEncoding(x: x, width: width, y: y, rows: rows.indices.filter { part[$0] != k }.map { rows[$0] },
                              columns: columns, smoothing: smoothing)
        }
        return x.withUnsafeBufferPointer { p in rows.indices.map { encodings[part[$0]].value(p, row: rows[$0], width: width) } }
    }

    /// FNV-1a over the bit patterns of row r's group columns.
    static func key(_ x: UnsafeBufferPointer<Float>, row r: Int, width: Int, columns: Range<Int>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in columns {
            let bits = x[r * width + c].bitPattern
            for shift in stride(from: 0, to: 32, by: 8) {
                h ^= UInt64((bits >> UInt32(shift)) & 0xff)
                h = h &* 0x0000_0100_0000_01b3
            }
        }
        return h
    }

    /// The encoded value of row r.
    public func value(_ x: UnsafeBufferPointer<Float>, row r: Int, width: Int) -> Float {
        let key = Self.key(x, row: r, width: width, columns: columns)
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if keys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo < keys.count && keys[lo] == key ? means[lo] : prior
    }

    // MARK: - In the flat buffer

    /// [start, end, prior, group count, then per group: its key as four 16-bit parts (exact
    /// as floats), its mean].
    var flat: [Float] {
        var out: [Float] = [Float(columns.lowerBound), Float(columns.upperBound), prior, Float(keys.count)]
        for (k, m) in zip(keys, means) {
            out += [Float(k >> 48), Float((k >> 32) & 0xffff), Float((k >> 16) & 0xffff), Float(k & 0xffff), m]
        }
        return out
    }

    /// Reads what `flat` wrote, refusing columns outside the model's inputs, keys out of order
    /// and values that are not finite.
    init(reading f: inout _FlatReader, inputs: Int, name: String) throws {
        let start = try f.integer("\(name)'s first column", in: 0...max(0, inputs - 1))
        let end = try f.integer("\(name)'s end column", in: (start + 1)...max(start + 1, inputs))
        guard end <= inputs else { throw _FlatReaderError(reason: "\(name)'s columns end past the model's \(inputs) inputs") }
        let prior = try f.value("\(name)'s prior")
        let count = try f.integer("\(name)'s group count", in: 0...(f.remaining / 5))
        var keys: [UInt64] = [], means: [Float] = []
        keys.reserveCapacity(count)
        means.reserveCapacity(count)
        for g in 0..<count {
            var key: UInt64 = 0
            for part in 0..<4 { key = key << 16 | UInt64(try f.integer("\(name)'s group \(g) key part \(part)", in: 0...0xffff)) }
            guard keys.last.map({ $0 < key }) ?? true else {
                throw _FlatReaderError(reason: "\(name)'s group \(g) key is not above the one before it")
            }
            keys.append(key)
            means.append(try f.value("\(name)'s group \(g) mean"))
        }
        guard prior.isFinite, means.allSatisfy(\.isFinite) else {
            throw _FlatReaderError(reason: "\(name) holds a mean that is not finite")
        }
        self.init(columns: start..<end, keys: keys, means: means, prior: prior)
    }
}
