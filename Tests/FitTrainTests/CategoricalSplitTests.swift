import FitFormats
@testable import FitTrain
import Testing

/// Categorical splits on the group (the metric): codes per fit, sets in the trees, the flat
/// buffer's third format, bags, and refusal of damaged sets.
@Suite struct CategoricalSplitTests {
    static let problem = GroupMeanEncodingTests.problem

    static func options(trees: Int) -> BoostingOptions {
        var o = BoostingOptions()
        o.trees = trees
        o.learningRate = 0.1
        o.categoricalGroups = true
        return o
    }

    static func rmse(_ m: BoostedTrees, x: [Float], y: [Float], rows: [Int]) -> Float {
        let p = m.predict(x: x, rows: rows)
        return (zip(p, rows).map { ($0 - y[$1]) * ($0 - y[$1]) }.reduce(0, +) / Float(rows.count)).squareRoot()
    }

    @Test func codesNumberTheGroupsOfTheFitInKeyOrderAndAnUnseenGroupIsMinusOne() {
        let (x, _, group, width, block) = Self.problem(300, 7, 1)
        let codes = GroupMeanEncoding.codes(x: x, width: width, rows: Array(0..<300), columns: block)
        #expect(codes.keys.count == 7 && codes.means == (0..<7).map(Float.init) && codes.prior == -1)
        x.withUnsafeBufferPointer { p in
            // Rows of one group share a code; different groups have different codes.
            var codeOf: [Int: Float] = [:]
            for r in 0..<300 {
                let c = codes.value(p, row: r, width: width)
                #expect(codeOf[group[r], default: c] == c)
                codeOf[group[r]] = c
            }
            #expect(Set(codeOf.values).count == 7)
        }
        var other = Array(x[0..<width])
        other[block.lowerBound] = Float(bitPattern: other[block.lowerBound].bitPattern ^ 1)
        other.withUnsafeBufferPointer { #expect(codes.value($0, row: 0, width: width) == -1) }
    }

    /// 150 groups, few trees: a split on the raw 8-column block singles out groups one region
    /// at a time; a categorical split sends any set of them left at once. A model that knows
    /// the groups scores about the noise (0.5) on new rows of known groups, one that knows none
    /// about sqrt(0.5² + 2²) ≈ 2.06; with the same rounds the categorical model must be the
    /// closer of the two to the noise.
    @Test func theTreesSplitTheGroupsIntoSetsAndLearnThemInFewerRounds() throws {
        let (x, y, _, width, block) = Self.problem(9000, 150, 2)
        let train = Array(0..<6000), held = Array(6000..<9000)
        var options = Self.options(trees: 40)
        let categorical = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: train, groupColumns: block).model
        #expect(categorical.encodings.count == 1 && categorical.columns == width + 1)
        let categoricalNodes = categorical.trees.reduce(0) { $0 + $1.feature.filter { $0 < -1 }.count }
        #expect(categoricalNodes > 0)
        #expect(categorical.trees.allSatisfy { t in t.feature.filter { $0 < -1 }.count == t.sets.count })
        options.categoricalGroups = nil
        let plain = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: train, groupColumns: block).model
        #expect(plain.encodings.isEmpty && plain.trees.allSatisfy { $0.sets.isEmpty })
        let (a, b) = (Self.rmse(categorical, x: x, y: y, rows: held), Self.rmse(plain, x: x, y: y, rows: held))
        #expect(a < b && a < 1.0, "categorical \(a), plain \(b)")
        // The one-row score agrees with predict; the flat buffer (third format) rebuilds it.
        x.withUnsafeBufferPointer { p in
            #expect(min(10, max(0, categorical.score(x: p, row: 6001))) == categorical.predict(x: x, rows: [6001])[0])
        }
        #expect(categorical.flat[0] == BoostedTrees.categoricalFormat)
        let restored = try BoostedTrees(flat: categorical.flat, inputs: width)
        #expect(restored == categorical && restored.predict(x: x, rows: held) == categorical.predict(x: x, rows: held))
    }

    /// The same rows and seed give the same bytes with one histogram thread or two.
    @Test func theSameRowsAndSeedGiveTheSameTreesWhateverTheThreads() {
        let (x, y, _, width, block) = Self.problem(3000, 40, 3)
        var options = Self.options(trees: 20)
        options.threads = 1
        let one = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: Array(0..<3000), groupColumns: block).model
        options.threads = 2
        let two = BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: Array(0..<3000), groupColumns: block).model
        #expect(one.flat == two.flat)
    }

    /// Three groups (at most `oneAgainstRestUpTo`), the middle one by its vector apart by its
    /// score: a threshold on the vector needs two splits to single it out, a categorical split
    /// one, and it is one group against the rest. A row of a group the fit never saw, or a code
    /// that is not a whole number in range, goes right like the rest, without a trap.
    @Test func fewGroupsSplitOneAgainstTheRestAndUnknownCodesGoRight() {
        var x: [Float] = [], y: [Float] = []
        var rng = SplitMix64(seed: 4)
        for r in 0..<900 {
            let g = r % 3
            x += [Float(rng.nextUnit()), Float(g)]
            y.append((g == 1 ? 9 : 5) + 0.3 * Float(rng.nextGaussian()))
        }
        var options = Self.options(trees: 10)
        options.featureFraction = 1
        let model = BoostedTreesTrainer(options: options).fit(x: x, width: 2, y: y, train: Array(0..<900), groupColumns: 1..<2).model
        let sets = model.trees.flatMap(\.sets)
        #expect(!sets.isEmpty && sets.allSatisfy { $0.count == 1 && $0[0].nonzeroBitCount == 1 })
        #expect(model.trees[0].feature[0] < -1, "the first split is the categorical one")
        var tree = RegressionTree()
        _ = tree.addLeaf(0); _ = tree.addLeaf(1); _ = tree.addLeaf(2)
        tree.feature[0] = RegressionTree.categoricalFeature(column: 0)
        tree.threshold[0] = 0
        tree.left[0] = 1; tree.right[0] = 2
        tree.sets = [[0b101]]
        for (v, expected) in [(Float(0), Float(1)), (1, 2), (2, 1), (-1, 2), (0.5, 2), (16, 2), (.nan, 2), (.infinity, 2), (-.infinity, 2), (1e30, 2)] {
            [v].withUnsafeBufferPointer { #expect(tree.predict($0) == expected, "code \(v)") }
        }
    }

    @Test func damagedCategorySetsAreRefused() throws {
        let (x, y, _, width, block) = Self.problem(1200, 20, 5)
        let model = BoostedTreesTrainer(options: Self.options(trees: 8)).fit(x: x, width: width, y: y, train: Array(0..<1200), groupColumns: block).model
        let flat = model.flat
        #expect(try BoostedTrees(flat: flat, inputs: width) == model)
        let t = try #require(model.trees.firstIndex { !$0.sets.isEmpty })
        func refused(_ damage: (inout BoostedTrees) -> Void, _ what: String) {
            var m = model
            damage(&m)
            #expect(throws: BoostedTrees.Malformed.self, "\(what)") { try BoostedTrees(flat: m.flat, inputs: width) }
        }
        let node = try #require(model.trees[t].feature.firstIndex { $0 < -1 })
        refused({ $0.trees[t].threshold[node] = Float(model.trees[t].sets.count) }, "a set the tree does not have")
        refused({ $0.trees[t].threshold[node] = 0.5 }, "a set index that is not whole")
        refused({ $0.trees[t].feature[node] = RegressionTree.categoricalFeature(column: width + 1) }, "a column past the encodings")
        refused({ $0.trees[t].sets[0] = [] }, "a set of no words")
        // A word past 16 bits, and a categorical node in a buffer of the second format.
        var wide = flat
        let setsAt = try #require(Self.firstSetWord(flat, tree: t, width: width))
        wide[setsAt] = Float(0x10000)
        #expect(throws: BoostedTrees.Malformed.self) { try BoostedTrees(flat: wide, inputs: width) }
        var second = flat
        second[0] = BoostedTrees.encodedFormat
        #expect(throws: BoostedTrees.Malformed.self) { try BoostedTrees(flat: second, inputs: width) }
    }

    /// The index in `flat` of tree t's first set's first word.
    static func firstSetWord(_ flat: [Float], tree t: Int, width: Int) -> Int? {
        var i = 2
        for _ in 0..<Int(flat[1]) { i += 4 + Int(flat[i + 3]) * 5 }
        i += 2
        for k in 0...t {
            let nodes = Int(flat[i]); i += 1 + nodes * 5
            let sets = Int(flat[i]); i += 1
            if k == t { return sets > 0 ? i + 1 : nil }
            for _ in 0..<sets { i += 1 + Int(flat[i]) }
        }
        return nil
    }

    /// A bag of members with their own codes scores the mean of their scores (each member's
    /// categorical nodes read its own code column in the bag).
    @Test func aBagKeepsEachMembersCodes() throws {
        let (x, y, _, width, block) = Self.problem(1500, 30, 6)
        var options = Self.options(trees: 20)
        options.groupMeanSmoothing = 10
        let members = (0..<3).map { k -> BoostedTrees in
            BoostedTreesTrainer(options: options).fit(x: x, width: width, y: y, train: Array((k * 400)..<(k * 400 + 700)), groupColumns: block).model
        }
        #expect(members.allSatisfy { $0.encodings.count == 2 && $0.encodings[1].prior == -1 })
        let bag = try #require(BoostedTrees.bagged(members))
        #expect(bag.columns == width + 6)
        BoostedTreesEnsembleTests.expectBagIsTheMeanOfItsMembers(bag, members, x: x, rows: stride(from: 0, to: 1500, by: 37))
        #expect(try BoostedTrees(flat: bag.flat, inputs: width) == bag)
    }
}
