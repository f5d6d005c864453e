import FitFormats
@testable import FitTrain
import Testing

@Suite struct GroupMeanEncodingTests {
    /// Rows of `width` columns: two noise columns, then a block of `blockWidth` columns that is
    /// the same random vector for every row of a group (as a metric's vector is). y = the
    /// group's offset (sd 2) + noise (sd 0.5).
    static func problem(rows n: Int, groups: Int, seed: UInt64) -> (x: [Float], y: [Float], group: [Int], width: Int, block: Range<Int>) {
        let blockWidth = 8, width = 2 + blockWidth
        var rng = SplitMix64(seed: seed)
        let vectors = (0..<groups).map { _ in (0..<blockWidth).map { _ in Float(rng.nextUnit()) } }
        let offsets = (0..<groups).map { _ in 5 + 2 * Float(rng.nextGaussian()) }
        var x: [Float] = [], y: [Float] = [], group: [Int] = []
        for r in 0..<n {
            let g = r % groups
            x += [Float(rng.nextUnit()), Float(rng.nextUnit())] + vectors[g]
            y.append(offsets[g] + 0.5 * Float(rng.nextGaussian()))
            group.append(g)
        }
        return (x, y, group, width, 2..<width)
    }

    @Test func theMeanOfEachGroupSmoothedTowardThePriorAndThePriorForAnUnseenGroup() {
        let (x, y, group, width, block) = Self.problem(rows: 300, groups: 7, seed: 1)
        let train = Array(0..<200)
        let encoding = GroupMeanEncoding(x: x, width: width, y: y, rows: train, columns: block, smoothing: 10)
        let prior = train.map { Double(y[$0]) }.reduce(0, +) / 200
        #expect(abs(Double(encoding.prior) - prior) < 1e-5)
        #expect(encoding.keys.count == 7)
        x.withUnsafeBufferPointer { p in
            for g in 0..<7 {
                let rows = train.filter { group[$0] == g }
                let expected = (rows.map { Double(y[$0]) }.reduce(0, +) + 10 * prior) / Double(rows.count + 10)
                // Every row of the group, in the fit or not, gets the group's value.
                for r in (0..<300).filter({ group[$0] == g }) {
                    #expect(abs(Double(encoding.value(p, row: r, width: width)) - expected) < 1e-4)
                }
            }
        }
        // One bit of one block column changed: another group, which the fit never saw.
        var other = Array(x[0..<width])
        other[block.lowerBound] = Float(bitPattern: other[block.lowerBound].bitPattern ^ 1)
        other.withUnsafeBufferPointer { #expect(encoding.value($0, row: 0, width: width) == encoding.prior) }
    }

    /// A training row's value leaves its own target out: it is the mean of the other parts'
    /// rows, so a group of one row gets the prior of the others, whatever its target.
    @Test func aTrainingRowsValueLeavesItsOwnTargetOut() {
        var (x, y, group, width, block) = Self.problem(rows: 400, groups: 8, seed: 5)
        // One row of its own group: a block no other row has, an extreme target.
        x += [0.5, 0.5] + Array(repeating: Float(7), count: block.count)
        y.append(1000)
        group.append(99)
        let rows = Array(0..<401)
        let a = GroupMeanEncoding.crossFitted(x: x, width: width, y: y, rows: rows, columns: block, smoothing: 10, seed: 1)
        let others = Double(y[0..<400].reduce(0, +))
        // The others' prior is at most the mean of all 400 other targets over four fifths of them
        // (every target here is positive); with its own 1000 it would be ~2.5 higher.
        #expect(Double(a[400]) < others / 320 + 1e-3 && a[400] < 20, "\(a[400])")
        // Changing row 0's target leaves row 0's value as it was and moves the value of the
        // rows of its group in other parts.
        var moved = y
        moved[0] += 100
        let b = GroupMeanEncoding.crossFitted(x: x, width: width, y: moved, rows: rows, columns: block, smoothing: 10, seed: 1)
        #expect(b[0] == a[0])
        #expect((1..<400).contains { group[$0] == group[0] && b[$0] > a[$0] + 1 })
        // Same rows, same seed: the same column.
        #expect(GroupMeanEncoding.crossFitted(x: x, width: width, y: y, rows: rows, columns: block, smoothing: 10, seed: 1) == a)
    }

    /// More groups than a column has bins, few trees: splitting on the raw block cannot single
    /// out 1000 groups, the encoded column orders them at once. A model that knows the groups
    /// scores about the noise (0.5), one that knows none about sqrt(0.5² + 2²) ≈ 2.06; 1.0
    /// lies between.
    @Test func theTreesSplitOnTheGroupMeanAndScoreNewRowsOfKnownGroups() throws {
        let (x, y, _, width, block) = Self.problem(rows: 12_000, groups: 1000, seed: 2)
        let train = Array(0..<8000), held = Array(8000..<12_000)
        var options = BoostingOptions()
        options.trees = 60
        options.learningRate = 0.1
        func rmse(_ m: BoostedTrees) -> Float {
            let p = m.predict(x: x, rows: held)
            return (zip(p, held).map { ($0 - y[$1]) * ($0 - y[$1]) }.reduce(0, +) / Float(held.count)).squareRoot()
        }
        let plain = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: train, groupColumns: block).model
        #expect(plain.encodings.isEmpty, "without a smoothing there is no encoding")
        options.groupMeanSmoothing = 10
        let encoded = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: train, groupColumns: block).model
        #expect(encoded.encodings.count == 1 && encoded.columns == width + 1)
        #expect(encoded.trees.contains { $0.feature.contains(Int32(width)) })
        #expect(rmse(encoded) < 1.0 && rmse(plain) > 1.0, "\(rmse(encoded)) vs \(rmse(plain))")
        // Same rows, same seed: the same model; its flat buffer rebuilds it.
        #expect(BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: train, groupColumns: block).model == encoded)
        let restored = try BoostedTrees(flat: encoded.flat, inputs: width)
        #expect(restored == encoded && restored.predict(x: x, rows: held) == encoded.predict(x: x, rows: held))
        // The one-row score agrees with predict.
        x.withUnsafeBufferPointer { p in
            #expect(min(10, max(0, encoded.score(x: p, row: 8000))) == encoded.predict(x: x, rows: [8000])[0])
        }
    }

    @Test func damagedEncodingsAreRefused() throws {
        let (x, y, _, width, block) = Self.problem(rows: 400, groups: 5, seed: 3)
        var options = BoostingOptions()
        options.trees = 5
        options.groupMeanSmoothing = 10
        let model = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: Array(0..<400), groupColumns: block).model
        let flat = model.flat
        #expect(flat[0] == BoostedTrees.encodedFormat && flat[1] == 1)
        // Layout: [-2, 1, start, end, prior, groups, key parts x4, mean, ...].
        for (index, value, what) in [(1, Float(0), "no encoding"), (2, Float(width), "start past the inputs"),
                                     (3, Float(width + 1), "end past the inputs"), (4, Float.nan, "prior"),
                                     (5, Float(1e6), "group count"), (6, Float(0x10000), "key part"),
                                     (10, Float.infinity, "mean"), (11, Float(0), "keys out of order")] {
            var damaged = flat
            damaged[index] = value
            if what == "keys out of order" { for k in 0..<4 { damaged[11 + k] = 0 } ; for k in 0..<4 { damaged[6 + k] = 0 } }
            #expect(throws: BoostedTrees.Malformed.self, "\(what)") { try BoostedTrees(flat: damaged, inputs: width) }
        }
        // A tree splitting on a column past the encodings: refused.
        var pastColumns = model
        if let t = pastColumns.trees.firstIndex(where: { $0.feature[0] >= 0 }) {
            pastColumns.trees[t].feature[0] = Int32(width + 1)
            #expect(throws: BoostedTrees.Malformed.self) { try BoostedTrees(flat: pastColumns.flat, inputs: width) }
        }
        // Read as a model of fewer inputs than its encoding's columns: refused.
        #expect(throws: BoostedTrees.Malformed.self) { try BoostedTrees(flat: flat, inputs: block.upperBound - 1) }
    }

    /// A bag of members with their own encodings scores the mean of their scores: each
    /// member's trees read its own encoding in the bag (bound as in BoostedTreesEnsembleTests.expectBagIsTheMeanOfItsMembers).
    @Test func aBagKeepsEachMembersEncoding() throws {
        let (x, y, _, width, block) = Self.problem(rows: 1500, groups: 30, seed: 4)
        var options = BoostingOptions()
        options.trees = 30
        options.groupMeanSmoothing = 10
        let members = (0..<3).map { k -> BoostedTrees in
            BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: Array((k * 400)..<(k * 400 + 700)), groupColumns: block).model
        }
        #expect(Set(members.map(\.encodings)).count == 3, "different rows, different means")
        let bag = try #require(BoostedTrees.bagged(members))
        #expect(bag.encodings == members.flatMap(\.encodings))
        BoostedTreesEnsembleTests.expectBagIsTheMeanOfItsMembers(bag, members, x: x, rows: stride(from: 0, to: 1500, by: 41))
        #expect(try BoostedTrees(flat: bag.flat, inputs: width) == bag)
    }
}
