import Dispatch
import FitFormats

/// Gradient boosting of regression trees on squared loss, histogram-based and leaf-wise:
/// each round fits one tree to the residuals of a fresh row sample, on a fresh feature sample,
/// splitting the leaf with the largest gain until the tree has its leaves; leaf outputs are
/// mean residuals (with the L2 penalty) times the learning rate. The smaller child's
/// histogram is built and the larger one's is the parent's minus it. Arrays in, arrays out;
/// the same seed gives the same trees.
public struct BoostedTreesTrainer {
    public let options: BoostingOptions

    public init(options: BoostingOptions) { self.options = options }

    /// Fits on rows `train` of x (row-major, `width` columns) and y. When `validation` rows
    /// are given, each round's record carries their RMSE (else NaN), and with
    /// `earlyStoppingRounds` set the fit stops that many rounds after the best one and returns
    /// the trees up to it (the history keeps every round it ran).
    /// `shouldStop`, asked before each round: true ends the fit with the rounds so far (a caller
    /// with a time budget then discards it).
    /// `groupColumns`, with `groupMeanSmoothing` set: the trees may also split on the group-mean
    /// column of those columns, computed from the `train` rows alone; the model carries it.
    /// `fixedColumns`, with `fixedColumnsInEveryTree` set: columns every tree may split on,
    /// outside the feature sample.
    public func fit(x: [Float], width: Int, y: [Float], train: [Int], validation: [Int] = [], groupColumns: Range<Int>? = nil,
                    fixedColumns: Range<Int>? = nil, shouldStop: () -> Bool = { false },
                    roundDone: (EpochRecord) -> Void = { _ in }) -> (model: BoostedTrees, history: [EpochRecord]) {
        precondition(!train.isEmpty && x.count == y.count * width)
        let wantsMean = options.groupMeanSmoothing != nil, wantsCodes = options.categoricalGroups == true
        let fixed = options.fixedColumnsInEveryTree == true ? (fixedColumns?.clamped(to: 0..<width) ?? 0..<0) : 0..<0
        if wantsMean || wantsCodes, let columns = groupColumns, !columns.isEmpty, columns.upperBound <= width {
            // The rows this fit reads, copied with one more column per encoding (the mean, the
            // code); the trees then split on columns `width`… like any other, and the model
            // knows them as its encodings, made from every training row. A training row's own
            // mean is cross-fitted: the means of the other four fifths of the training rows, so
            // that no row's target is in its own input (in a metric of few rows it would be a
            // large part of it, and the trees would learn to trust the column more than new
            // rows can). A code holds no target and needs no such care.
            var encodings: [GroupMeanEncoding] = [], trainValues: [[Float]] = []
            var categorical: [Int: Int] = [:]
            if let smoothing = options.groupMeanSmoothing {
                encodings.append(GroupMeanEncoding(x: x, width: width, y: y, rows: train, columns: columns, smoothing: smoothing))
                trainValues.append(GroupMeanEncoding.crossFitted(x: x, width: width, y: y, rows: train, columns: columns,
                                                                 smoothing: smoothing, seed: options.seed))
            }
            if wantsCodes {
                let codes = GroupMeanEncoding.codes(x: x, width: width, rows: train, columns: columns)
                categorical[width + encodings.count] = codes.keys.count
                trainValues.append(x.withUnsafeBufferPointer { p in train.map { codes.value(p, row: $0, width: width) } })
                encodings.append(codes)
            }
            let used = train + validation, wide = width + encodings.count
            var extended = [Float](repeating: 0, count: used.count * wide)
            x.withUnsafeBufferPointer { p in
                for (i, r) in used.enumerated() {
                    let to = i * wide
                    for c in 0..<width { extended[to + c] = p[r * width + c] }
                    for (e, encoding) in encodings.enumerated() {
                        extended[to + width + e] = i < train.count ? trainValues[e][i] : encoding.value(p, row: r, width: width)
                    }
                }
            }
            // fitColumns reads neither encoding setting: the columns are already there.
            let (model, history) = fitColumns(
                x: extended, width: wide, y: used.map { y[$0] }, train: Array(0..<train.count),
                validation: Array(train.count..<used.count), categorical: categorical, fixed: fixed, shouldStop: shouldStop, roundDone: roundDone)
            return (BoostedTrees(base: model.base, trees: model.trees, inputs: width, encodings: encodings), history)
        }
        return fitColumns(x: x, width: width, y: y, train: train, validation: validation, categorical: [:], fixed: fixed, shouldStop: shouldStop, roundDone: roundDone)
    }

    /// The fit on the columns as given; `categorical` maps a column holding category codes
    /// (0 to count - 1, -1 for none) to its code count, and the trees split it into sets;
    /// the `fixed` columns are in every tree's sample.
    func fitColumns(x: [Float], width: Int, y: [Float], train: [Int], validation: [Int], categorical: [Int: Int], fixed: Range<Int> = 0..<0,
             shouldStop: () -> Bool, roundDone: (EpochRecord) -> Void) -> (model: BoostedTrees, history: [EpochRecord]) {
        var rng = SplitMix64(seed: options.seed)
        let n = train.count
        // Cut points from at most 50,000 rows: quantiles need no more.
        var binRows = train
        if binRows.count > 50_000 { binRows.shuffle(using: &rng); binRows = Array(binRows[..<50_000]) }
        let bins = FeatureBins(x: x, width: width, rows: binRows, bins: options.bins)
        let binned = bins.binned(x: x, width: width, rows: train)
        let targets = train.map { y[$0] }
        let base = targets.reduce(0, +) / Float(n)
        var prediction = [Float](repeating: base, count: n)
        var validationPrediction = [Float](repeating: base, count: validation.count)
        var residual = [Float](repeating: 0, count: n)
        var trees: [RegressionTree] = []
        var history: [EpochRecord] = []
        // The sampled pool: every column but the fixed ones, which join each tree's sample.
        let pool = Array(0..<fixed.lowerBound) + Array(fixed.upperBound..<width)
        let sampled = max(fixed.isEmpty ? 1 : 0, min(pool.count, Int((options.featureFraction * Float(pool.count)).rounded())))
        let featureCount = sampled + fixed.count
        var grower = _TreeGrower(binned: binned, rows: n, bins: bins, featureSlots: featureCount, categorical: categorical, options: options)
        let patience = validation.isEmpty ? nil : options.earlyStoppingRounds.map { max(1, $0) }
        var best = (rmse: Float.infinity, rounds: 0)
        for round in 0..<options.trees {
            if shouldStop() { break }
            for i in 0..<n { residual[i] = targets[i] - prediction[i] }
            var bag: [Int32] = []
            bag.reserveCapacity(n)
            for i in 0..<n where options.rowFraction >= 1 || Float(rng.nextUnit()) < options.rowFraction { bag.append(Int32(i)) }
            if bag.count < 2 * options.minRowsPerLeaf { bag = (0..<n).map(Int32.init) }
            var features = Array(0..<width)
            if sampled < pool.count {
                // Partial Fisher-Yates: the first `sampled` entries are a uniform sample.
                var drawn = pool
                for i in 0..<sampled { drawn.swapAt(i, i + Int(rng.next() % UInt64(pool.count - i))) }
                features = (Array(drawn[..<sampled]) + Array(fixed)).sorted()
            }
            let (tree, splitBins, splitSets) = grower.grow(bag: bag, residual: residual, features: features)
            trees.append(tree)
            // Training predictions by walking the bins (the same decisions as raw thresholds
            // and category sets).
            for i in 0..<n {
                var node = 0
                while tree.feature[node] != -1 {
                    if tree.feature[node] >= 0 {
                        let f = Int(tree.feature[node])
                        node = Int(binned[f * n + i] <= splitBins[node] ? tree.left[node] : tree.right[node])
                    } else {
                        let f = RegressionTree.categoricalColumn(tree.feature[node])
                        node = Int(splitSets[node].contains(bin: binned[f * n + i]) ? tree.left[node] : tree.right[node])
                    }
                }
                prediction[i] += tree.value[node]
            }
            var validationRMSE = Float.nan
            if !validation.isEmpty {
                x.withUnsafeBufferPointer { p in
                    for (k, r) in validation.enumerated() {
                        validationPrediction[k] += tree.predict(UnsafeBufferPointer(rebasing: p[(r * width)..<((r + 1) * width)]))
                    }
                }
                var s: Float = 0
                for (k, r) in validation.enumerated() { let e = min(10, max(0, validationPrediction[k])) - y[r]; s += e * e }
                validationRMSE = (s / Float(validation.count)).squareRoot()
            }
            var mse: Float = 0
            for i in 0..<n { let e = targets[i] - prediction[i]; mse += e * e }
            let record = EpochRecord(epoch: round, trainLoss: mse / Float(n), validationRMSE: validationRMSE, learningRate: options.learningRate)
            history.append(record)
            roundDone(record)
            if let patience {
                if validationRMSE < best.rmse { best = (validationRMSE, round + 1) }
                if round + 1 - best.rounds >= patience { break }
            }
        }
        if patience != nil, best.rounds > 0 { trees.removeSubrange(best.rounds...) }
        return (BoostedTrees(base: base, trees: trees, inputs: width), history)
    }
}

/// The leaf-wise growth of one tree over column-major bins; keeps its histogram buffers
/// between trees.
struct _TreeGrower {
    let binned: [UInt8]
    let rows: Int
    let bins: FeatureBins
    let options: BoostingOptions
    /// Columns holding category codes, and each one's code count.
    let categorical: [Int: Int]
    /// Histogram slots: per slot, per sampled feature, 256 bins of (residual sum, count).
    var sums: [Double]
    var counts: [Int32]
    let slotSize: Int

    /// A numeric split sends bins <= `bin` left; a categorical one the bins of `set`.
    struct Split { var gain: Double; var slot: Int; var feature: Int; var bin: Int; var leftSum: Double; var leftCount: Int; var set: _BinSet? = nil }
    struct Leaf { var node: Int; var start: Int; var count: Int; var sum: Double; var slot: Int; var best: Split? }

    init(binned: [UInt8], rows: Int, bins: FeatureBins, featureSlots: Int, categorical: [Int: Int] = [:], options: BoostingOptions) {
        self.binned = binned
        self.categorical = categorical
        self.rows = rows
        self.bins = bins
        self.options = options
        slotSize = featureSlots * 256
        sums = [Double](repeating: 0, count: slotSize * max(2, options.leaves))
        counts = [Int32](repeating: 0, count: slotSize * max(2, options.leaves))
    }

    mutating func grow(bag: [Int32], residual: [Float], features: [Int]) -> (RegressionTree, [UInt8], [_BinSet]) {
        var order = bag
        var tree = RegressionTree()
        var splitBins: [UInt8] = []
        var splitSets: [_BinSet] = [_BinSet()]
        var total = 0.0
        for i in order { total += Double(residual[Int(i)]) }
        var leaves = [Leaf(node: tree.addLeaf(0), start: 0, count: order.count, sum: total, slot: 0, best: nil)]
        splitBins.append(0)
        buildHistogram(slot: 0, order: order, start: 0, count: order.count, residual: residual, features: features)
        leaves[0].best = bestSplit(slot: 0, sum: total, count: order.count, features: features)
        var freeSlots = Array((1..<max(2, options.leaves)).reversed())
        while leaves.count < options.leaves {
            guard let k = leaves.indices.filter({ leaves[$0].best != nil }).max(by: { leaves[$0].best!.gain < leaves[$1].best!.gain }) else { break }
            let leaf = leaves[k], split = leaf.best!
            let f = features[split.feature]
            // Partition the leaf's rows: bin <= split bin first.
            var lo = leaf.start, hi = leaf.start + leaf.count - 1
            let column = f * rows
            while lo <= hi {
                let bin = binned[column + Int(order[lo])]
                let goesLeft = split.set.map { $0.contains(bin: bin) } ?? (bin <= UInt8(split.bin))
                if goesLeft { lo += 1 } else { order.swapAt(lo, hi); hi -= 1 }
            }
            let leftCount = lo - leaf.start
            let left = Leaf(node: tree.addLeaf(0), start: leaf.start, count: leftCount, sum: split.leftSum, slot: -1, best: nil)
            let right = Leaf(node: tree.addLeaf(0), start: lo, count: leaf.count - leftCount, sum: leaf.sum - split.leftSum, slot: -1, best: nil)
            splitBins += [0, 0]
            splitSets += [_BinSet(), _BinSet()]
            if let set = split.set, let codes = categorical[f] {
                // The stored set holds codes, not bins: every code whose bin is in the split's set.
                var words = [UInt16](repeating: 0, count: max(1, (codes + 15) / 16))
                for code in 0..<codes where set.contains(bin: bins.bin(Float(code), feature: f)) {
                    words[code >> 4] |= 1 << UInt16(code & 15)
                }
                tree.feature[leaf.node] = RegressionTree.categoricalFeature(column: f)
                tree.threshold[leaf.node] = Float(tree.sets.count)
                tree.sets.append(words)
                splitSets[leaf.node] = set
            } else {
                tree.feature[leaf.node] = Int32(f)
                tree.threshold[leaf.node] = bins.cuts[f][split.bin]
                splitBins[leaf.node] = UInt8(split.bin)
            }
            tree.left[leaf.node] = Int32(left.node)
            tree.right[leaf.node] = Int32(right.node)
            // The smaller child gets a fresh histogram; the larger keeps the parent's slot, minus it.
            var (small, large) = left.count <= right.count ? (left, right) : (right, left)
            small.slot = freeSlots.removeLast()
            large.slot = leaf.slot
            buildHistogram(slot: small.slot, order: order, start: small.start, count: small.count, residual: residual, features: features)
            subtract(slot: small.slot, from: large.slot, features: features.count)
            small.best = bestSplit(slot: small.slot, sum: small.sum, count: small.count, features: features)
            large.best = bestSplit(slot: large.slot, sum: large.sum, count: large.count, features: features)
            leaves[k] = large
            leaves.append(small)
        }
        for leaf in leaves {
            tree.value[leaf.node] = options.learningRate * Float(leaf.sum / (Double(leaf.count) + Double(options.l2)))
        }
        return (tree, splitBins, splitSets)
    }

    mutating func buildHistogram(slot: Int, order: [Int32], start: Int, count: Int, residual: [Float], features: [Int]) {
        let base = slot * slotSize
        let threads = max(1, min(options.threads, features.count))
        let rows = self.rows
        sums.withUnsafeMutableBufferPointer { s in
            counts.withUnsafeMutableBufferPointer { c in
                binned.withUnsafeBufferPointer { b in
                    order.withUnsafeBufferPointer { o in
                        residual.withUnsafeBufferPointer { r in
                            let p = _HistogramPointers(sums: s.baseAddress!, counts: c.baseAddress!, bins: b.baseAddress!,
                                                       order: o.baseAddress!, residual: r.baseAddress!)
                            // Features are split between threads; each writes its own bins.
                            DispatchQueue.concurrentPerform(iterations: threads) { t in
                                let from = features.count * t / threads, to = features.count * (t + 1) / threads
                                for fi in from..<to {
                                    let h = base + fi * 256
                                    for j in 0..<256 { p.sums[h + j] = 0; p.counts[h + j] = 0 }
                                    let column = p.bins + features[fi] * rows
                                    for k in start..<(start + count) {
                                        let i = Int(p.order[k])
                                        let bin = h + Int(column[i])
                                        p.sums[bin] += Double(p.residual[i])
                                        p.counts[bin] += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    mutating func subtract(slot small: Int, from large: Int, features: Int) {
        let a = small * slotSize, b = large * slotSize
        for j in 0..<(features * 256) {
            sums[b + j] -= sums[a + j]
            counts[b + j] -= counts[a + j]
        }
    }

    func bestSplit(slot: Int, sum: Double, count: Int, features: [Int]) -> Split? {
        let minRows = options.minRowsPerLeaf
        guard count >= 2 * minRows else { return nil }
        let l2 = Double(options.l2)
        let parentScore = sum * sum / (Double(count) + l2)
        var best: Split?
        for (fi, f) in features.enumerated() {
            let nbins = bins.cuts[f].count + 1
            guard nbins > 1 else { continue }
            let h = slot * slotSize + fi * 256
            if categorical[f] != nil {
                if let split = bestCategoricalSplit(slot: slot, feature: fi, histogram: h, bins: nbins, sum: sum, count: count,
                                                    parentScore: parentScore), split.gain > (best?.gain ?? 1e-12) {
                    best = split
                }
                continue
            }
            var leftSum = 0.0, leftCount = 0
            for bin in 0..<(nbins - 1) {
                leftSum += sums[h + bin]
                leftCount += Int(counts[h + bin])
                let rightCount = count - leftCount
                if leftCount < minRows { continue }
                if rightCount < minRows { break }
                let gain = Self.gain(leftSum: leftSum, leftCount: leftCount, sum: sum, count: count, l2: l2, parentScore: parentScore)
                if gain > (best?.gain ?? 1e-12) {
                    best = Split(gain: gain, slot: slot, feature: fi, bin: bin, leftSum: leftSum, leftCount: leftCount)
                }
            }
        }
        return best
    }

    /// The gain of sending `leftCount` rows of residual sum `leftSum` left and the rest right:
    /// G_L²/(n_L + l2) + G_R²/(n_R + l2) − the parent's score.
    @inline(__always)
    static func gain(leftSum: Double, leftCount: Int, sum: Double, count: Int, l2: Double, parentScore: Double) -> Double {
        let rightSum = sum - leftSum
        return leftSum * leftSum / (Double(leftCount) + l2) + rightSum * rightSum / (Double(count - leftCount) + l2) - parentScore
    }

    /// The best split of a categorical feature's histogram into a set of bins (left) and the
    /// rest (`CategoricalSplitRule`).
    func bestCategoricalSplit(slot: Int, feature fi: Int, histogram h: Int, bins nbins: Int, sum: Double, count: Int,
                              parentScore: Double) -> Split? {
        let minRows = options.minRowsPerLeaf
        let l2 = Double(options.l2)
        var best: Split?
        func consider(_ leftSum: Double, _ leftCount: Int, _ set: _BinSet, l2: Double) {
            let gain = Self.gain(leftSum: leftSum, leftCount: leftCount, sum: sum, count: count, l2: l2, parentScore: parentScore)
            if gain > (best?.gain ?? 1e-12) {
                best = Split(gain: gain, slot: slot, feature: fi, bin: 0, leftSum: leftSum, leftCount: leftCount, set: set)
            }
        }
        if nbins <= CategoricalSplitRule.oneAgainstRestUpTo {
            for bin in 0..<nbins {
                let leftCount = Int(counts[h + bin])
                guard leftCount >= minRows, count - leftCount >= minRows else { continue }
                var set = _BinSet()
                set.insert(bin: bin)
                consider(sums[h + bin], leftCount, set, l2: l2)
            }
            return best
        }
        // Categories with enough rows, by smoothed mean residual (ties by bin, so the order is
        // the same on every run).
        let smoothing = CategoricalSplitRule.smoothing
        let ratio = { (b: Int) in self.sums[h + b] / (Double(self.counts[h + b]) + smoothing) }
        let candidates = (0..<nbins).filter { Double(counts[h + $0]) >= smoothing }
            .sorted { ratio($0) != ratio($1) ? ratio($0) < ratio($1) : $0 < $1 }
        let most = min(CategoricalSplitRule.maxCategories, (candidates.count + 1) / 2)
        for fromLow in [true, false] {
            var leftSum = 0.0, leftCount = 0, sinceLast = 0
            var set = _BinSet()
            for i in 0..<most {
                let bin = fromLow ? candidates[i] : candidates[candidates.count - 1 - i]
                leftSum += sums[h + bin]
                leftCount += Int(counts[h + bin])
                sinceLast += Int(counts[h + bin])
                set.insert(bin: bin)
                if leftCount < minRows { continue }
                if count - leftCount < minRows { break }
                if sinceLast < CategoricalSplitRule.minRowsPerGroup { continue }
                sinceLast = 0
                consider(leftSum, leftCount, set, l2: l2 + CategoricalSplitRule.extraL2)
            }
        }
        return best
    }
}

/// A set of histogram bins (0…255): four 64-bit words.
struct _BinSet: Sendable, Equatable {
    var words = SIMD4<UInt64>()

    mutating func insert(bin: Int) { words[bin >> 6] |= 1 << UInt64(bin & 63) }

    @inline(__always) func contains(bin: UInt8) -> Bool { words[Int(bin >> 6)] & (1 << UInt64(bin & 63)) != 0 }
}

/// The buffers one histogram build reads and writes, shared by its threads, which touch
/// disjoint features.
struct _HistogramPointers: @unchecked Sendable {
    let sums: UnsafeMutablePointer<Double>
    let counts: UnsafeMutablePointer<Int32>
    let bins: UnsafePointer<UInt8>
    let order: UnsafePointer<Int32>
    let residual: UnsafePointer<Float>
}
