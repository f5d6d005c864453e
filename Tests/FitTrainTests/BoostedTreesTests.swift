import FitFormats
@testable import FitTrain
import Testing

@Suite struct BoostedTreesTests {
    /// n rows of `width` uniform features, row-major.
    static func data(rows n: Int, width: Int, seed: UInt64) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return (0..<(n * width)).map { _ in Float(rng.nextUnit()) }
    }

    @Test func binsGiveDistinctValuesTheirOwnBinAndAgreeWithCuts() {
        let x: [Float] = [3, 1, 2, 2, 1, 3, 7, 1]  // one column
        let bins = FeatureBins(x: x, width: 1, rows: Array(0..<8), bins: 255)
        #expect(bins.cuts[0] == [1.5, 2.5, 5])
        #expect([Float(1), 2, 3, 7, 100, -5].map { bins.bin($0, feature: 0) } == [0, 1, 2, 3, 3, 0])
        // Many distinct values: at most `bins` bins, each cut strictly increasing.
        let wide = Self.data(rows: 5000, width: 1, seed: 1)
        let c = FeatureBins(x: wide, width: 1, rows: Array(0..<5000), bins: 16).cuts[0]
        #expect(c.count == 15 && zip(c, c.dropFirst()).allSatisfy { $0 < $1 })
    }

    /// One tree with two leaves must find the split an exhaustive search finds.
    @Test func firstSplitEqualsExhaustiveSearch() {
        let n = 400, width = 3
        let x = Self.data(rows: n, width: width, seed: 7)
        var rng = SplitMix64(seed: 8)
        let y = (0..<n).map { r in (x[r * width + 2] > 0.63 ? Float(4) : 1) + Float(rng.nextGaussian()) * 0.5 }
        var options = BoostingOptions()
        options.trees = 1
        options.leaves = 2
        options.rowFraction = 1
        options.featureFraction = 1
        options.minRowsPerLeaf = 1
        options.learningRate = 1
        let (model, _) = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: Array(0..<n))
        // Reference: try every threshold between consecutive sorted values of every feature.
        let mean = y.reduce(0, +) / Float(n)
        var best = (gain: -Float.infinity, feature: -1, threshold: Float(0))
        for f in 0..<width {
            let sorted = (0..<n).sorted { x[$0 * width + f] < x[$1 * width + f] }
            var left: Float = 0
            for k in 0..<(n - 1) {
                left += y[sorted[k]] - mean
                let right = -left
                let gain = left * left / Float(k + 1) + right * right / Float(n - k - 1)
                if gain > best.gain {
                    best = (gain, f, (x[sorted[k] * width + f] + x[sorted[k + 1] * width + f]) / 2)
                }
            }
        }
        let tree = model.trees[0]
        #expect(Int(tree.feature[0]) == best.feature && best.feature == 2)
        #expect(abs(tree.threshold[0] - best.threshold) < 1e-5, "\(tree.threshold[0]) vs \(best.threshold)")
        // Leaf outputs are the mean residuals on each side.
        let leftRows = (0..<n).filter { x[$0 * width + 2] <= tree.threshold[0] }
        let leftMean = leftRows.map { y[$0] - mean }.reduce(0, +) / Float(leftRows.count)
        #expect(abs(tree.value[Int(tree.left[0])] - leftMean) < 1e-4)
    }

    @Test func boostingFitsAnInteractionAndGeneralizes() {
        let n = 3000, width = 6
        let x = Self.data(rows: n, width: width, seed: 3)
        let y = (0..<n).map { r -> Float in
            let a = x[r * width], b = x[r * width + 1], c = x[r * width + 4]
            return 2 + 4 * (a > 0.5 ? 1 : 0) * (b > 0.3 ? 1 : 0) + 3 * c
        }
        var options = BoostingOptions()
        options.trees = 300
        options.learningRate = 0.1
        options.featureFraction = 1
        let train = Array(0..<2000), test = Array(2000..<n)
        let (model, history) = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: train, validation: test)
        let p = model.predict(x: x, rows: test)
        let rmse = (zip(p, test).map { ($0 - y[$1]) * ($0 - y[$1]) }.reduce(0, +) / Float(test.count)).squareRoot()
        let sd = { (v: [Float]) -> Float in let m = v.reduce(0, +) / Float(v.count); return (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(v.count)).squareRoot() }(test.map { y[$0] })
        #expect(rmse < 0.3 && sd > 1.5, "held-out RMSE \(rmse), label sd \(sd)")
        #expect(history.count == 300 && history.last!.trainLoss < history.first!.trainLoss)
        #expect(abs(history.last!.validationRMSE - rmse) < 1e-4)
    }

    @Test func sameSeedSameTreesAndTheFlatBufferRoundTrips() throws {
        let n = 500, width = 10
        let x = Self.data(rows: n, width: width, seed: 5)
        let y = (0..<n).map { x[$0 * width] * 10 }
        var options = BoostingOptions()
        options.trees = 20
        let a = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: Array(0..<n)).model
        let b = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: Array(0..<n)).model
        #expect(a == b)
        options.seed += 1
        #expect(BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: Array(0..<n)).model != a)
        let restored = try BoostedTrees(flat: a.flat, inputs: width)
        #expect(restored == a && restored.predict(x: x, rows: Array(0..<n)) == a.predict(x: x, rows: Array(0..<n)))
        // Truncated, or pointing past its tree or its inputs: refused.
        #expect(throws: BoostedTrees.Malformed.self) { try BoostedTrees(flat: Array(a.flat.dropLast()), inputs: width) }
        #expect(throws: BoostedTrees.Malformed.self) { try BoostedTrees(flat: a.flat, inputs: 0) }
        var bad = a.flat
        bad[3 + 2] = 1e6  // first tree, root node, left child
        #expect(throws: BoostedTrees.Malformed.self) { try BoostedTrees(flat: bad, inputs: width) }
        // Values Int(Float) would trap on (NaN, out of Int's range, not whole), and a child
        // pointing back at its own node (predict would loop): refused, named.
        for (index, value) in [(0, Float.nan), (0, 1e30), (2, 2.5), (3, -1e30), (3 + 2, 0)] {
            var damaged = a.flat
            damaged[index] = value
            #expect(throws: BoostedTrees.Malformed.self) { try BoostedTrees(flat: damaged, inputs: width) }
        }
    }
}

extension BoostedTreesTests {
    /// Fixed columns (fitstore's extras) are candidates of every tree, and the feature fraction
    /// samples the other columns only. The signal is in the last column of 40; with 5% of the
    /// columns per tree, a tree without the fixed columns offers that one to about one tree in
    /// twenty, while with them every tree's root splits on it. With no fixed columns given, or
    /// the setting off, the trees are bit-identical to the plain sample's (settings stored
    /// before the setting existed keep their models).
    @Test func fixedColumnsAreInEveryTreesSampleAndOffChangesNothing() {
        let n = 600, width = 40
        let x = Self.data(rows: n, width: width, seed: 21)
        let y = (0..<n).map { r in x[r * width + width - 1] * 10 }
        var options = BoostingOptions()
        options.trees = 60
        options.featureFraction = 0.05
        let fixed = (width - 1)..<width
        let withFixed = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: Array(0..<n), fixedColumns: fixed).model
        #expect(withFixed.trees.allSatisfy { $0.feature[0] == Int32(width - 1) })
        var off = options
        off.fixedColumnsInEveryTree = false
        let sampled = BoostedTreesTrainer(options: off).fit(x: x, width: width, y: y, train: Array(0..<n), fixedColumns: fixed).model
        let rootsOnSignal = sampled.trees.filter { $0.feature[0] == Int32(width - 1) }.count
        #expect(rootsOnSignal < 20, "about 60 x 2/40 of the trees draw the column: \(rootsOnSignal)")
        var unset = options
        unset.fixedColumnsInEveryTree = nil
        #expect(BoostedTreesTrainer(options: unset).fit(x: x, width: width, y: y, train: Array(0..<n)).model == sampled)
        #expect(BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: Array(0..<n)).model == sampled,
                "on, with no fixed columns given: the plain sample")
        // The fixed model learns the signal; the sampled one, boosting mostly on noise, less.
        let rmse = { (m: BoostedTrees) -> Float in
            let p = m.predict(x: x, rows: Array(0..<n))
            return (zip(p, y).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Float(n)).squareRoot()
        }
        #expect(rmse(withFixed) < rmse(sampled))
    }
}

@Suite struct BoostedTreesEnsembleTests {
    static func problem() -> (x: [Float], y: [Float], width: Int) {
        let n = 1200, width = 5
        let x = BoostedTreesTests.data(rows: n, width: width, seed: 11)
        var rng = SplitMix64(seed: 12)
        let y = (0..<n).map { r in 5 + 3 * x[r * width] - 2 * x[r * width + 3] + Float(rng.nextGaussian()) }
        return (x, y, width)
    }

    /// The bag's raw score is the mean of its members' raw scores on each of `rows` of x; what
    /// differs is float rounding of sums of a few hundred terms of size <= 10 (bound: terms x
    /// 2^-23 x 10). Each member's encodings (mean or code columns) are its own in the bag.
    static func expectBagIsTheMeanOfItsMembers(_ bag: BoostedTrees, _ members: [BoostedTrees], x: [Float], rows: StrideTo<Int>) {
        let bound: Float = Float(bag.trees.count + 3) * 10 * Float.ulpOfOne
        x.withUnsafeBufferPointer { p in
            for r in rows {
                let mean = members.map { $0.score(x: p, row: r) }.reduce(0, +) / Float(members.count)
                #expect(abs(bag.score(x: p, row: r) - mean) <= bound, "row \(r): \(bag.score(x: p, row: r)) vs \(mean)")
            }
        }
    }

    @Test func aBagScoresTheMeanOfItsMembers() throws {
        let (x, y, width) = Self.problem()
        var options = BoostingOptions()
        options.trees = 40
        let members = (0..<3).map { k -> BoostedTrees in
            var o = options
            o.seed = UInt64(k + 1)
            return BoostedTreesTrainer(options: o).fit(x: x, width: width, y: y, train: Array((k * 300)..<(k * 300 + 600))).model
        }
        let bag = try #require(BoostedTrees.bagged(members))
        #expect(bag.trees.count == 120)
        Self.expectBagIsTheMeanOfItsMembers(bag, members, x: x, rows: stride(from: 0, to: 1200, by: 37))
        // It is a model like any other: its flat buffer rebuilds it.
        #expect(try BoostedTrees(flat: bag.flat, inputs: width) == bag)
        #expect(BoostedTrees.bagged([]) == nil)
    }

    /// With validation rows and a patience, the fit stops `patience` rounds after the best
    /// validation round and keeps exactly the trees up to it.
    @Test func earlyStoppingKeepsTheBestRound() {
        let (x, y, width) = Self.problem()
        var options = BoostingOptions()
        options.trees = 3000
        options.learningRate = 0.3
        options.minRowsPerLeaf = 2
        options.leaves = 31
        options.earlyStoppingRounds = 20
        let train = Array(0..<300), validation = Array(300..<1200)
        let (model, history) = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: train, validation: validation)
        let rmse = history.map(\.validationRMSE)
        let best = rmse.indices.min { rmse[$0] < rmse[$1] }!
        #expect(history.count < 3000, "noise this strong overfits long before 3000 rounds")
        #expect(history.count == best + 1 + 20)
        #expect(model.trees.count == best + 1)
        // Without validation rows there is nothing to stop on: every round is kept.
        options.trees = 50
        #expect(BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: train).model.trees.count == 50)
    }
}
