import FitFormats
import Foundation
import Testing
@testable import FitTrain

@Suite struct NearestNeighboursTests {
    /// Rows of [block a (4) | block b (4) | group key (2)]: three groups (keys (g, -g)), one of
    /// them with only three rows, so its rows fall back to all rows when k > 3.
    static func problem(rows: Int = 120, seed: UInt64 = 7) -> (x: [Float], y: [Float], width: Int, columns: NearestNeighbours.Columns) {
        var rng = SplitMix64(seed: seed)
        let width = 10
        var x = [Float](), y = [Float]()
        for r in 0..<rows {
            for _ in 0..<8 { x.append(Float(Double(rng.next() % 2001) / 1000 - 1)) }
            let g: Float = r < 3 ? 2 : Float(r % 2)
            x += [g, -g]
            y.append(Float(Double(rng.next() % 1001) / 100))
        }
        return (x, y, width, .init(blocks: [0..<4, 4..<8], group: 8..<10))
    }

    /// The reference, in Double: mean cosine over the blocks, ranked by similarity then row,
    /// among the same group's rows when it has at least k, else all. Returns each query's
    /// prediction and the gap between its k-th and (k+1)-th similarity (where float rounding
    /// could swap two neighbours).
    static func reference(x: [Float], y: [Float], width: Int, train: [Int], queries: [Int], k: Int) -> [(Float, Double)] {
        func cos(_ a: Int, _ b: Int, _ block: Range<Int>) -> Double {
            var ab = 0.0, aa = 0.0, bb = 0.0
            for c in block {
                let u = Double(x[a * width + c]), v = Double(x[b * width + c])
                ab += u * v; aa += u * u; bb += v * v
            }
            return aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : 0
        }
        func key(_ r: Int) -> [Float] { Array(x[(r * width + 8)..<(r * width + 10)]) }
        return queries.map { q in
            let same = train.filter { key($0) == key(q) }
            let pool = same.count >= k ? same : train
            let ranked = pool.map { (sim: (cos(q, $0, 0..<4) + cos(q, $0, 4..<8)) / 2, row: $0) }
                .sorted { $0.sim != $1.sim ? $0.sim > $1.sim : $0.row < $1.row }
            let n = min(k, ranked.count)
            let mean = Float(ranked.prefix(n).reduce(0.0) { $0 + Double(y[$1.row]) } / Double(n))
            let gap = n < ranked.count ? ranked[n - 1].sim - ranked[n].sim : .infinity
            return (min(10, max(0, mean)), gap)
        }
    }

    @Test func predictionsAreTheReferenceNeighboursMean() {
        let (x, y, width, columns) = Self.problem()
        let train = Array(0..<90), queries = Array(0..<120)  // 0..<3: the small group's rows
        for k in [1, 5, 20] {
            let model = NearestNeighbours.fit(x: x, width: width, y: y, rows: train, columns: columns, k: k)
            let got = model.predict(x: x, rows: queries)
            // A float32 similarity of unit vectors of d = 8 values differs from the exact one by
            // at most about 2 d u (u = 2^-24) per block, plus the unit scaling's rounding: where the
            // reference's k-th and (k+1)-th neighbours are closer than that, either order is right.
            let tolerance = 8 * 8 * Double(Float.ulpOfOne)
            var compared = 0
            for (i, (expected, gap)) in Self.reference(x: x, y: y, width: width, train: train, queries: queries, k: k).enumerated()
                where gap > tolerance {
                #expect(got[i] == expected, "k \(k), row \(queries[i])")
                compared += 1
            }
            #expect(compared >= 100)
        }
    }

    @Test func theSameBytesWhateverTheBatchOrderOrThreads() {
        let (x, y, width, columns) = Self.problem(rows: 400, seed: 11)
        let model = NearestNeighbours.fit(x: x, width: width, y: y, rows: Array(0..<300), columns: columns, k: 10)
        let queries = Array(250..<400)
        let together = model.predict(x: x, rows: queries, threads: 2)
        let alone = queries.flatMap { model.predict(x: x, rows: [$0], threads: 1) }
        let reversed = Array(model.predict(x: x, rows: queries.reversed(), threads: 3).reversed())
        #expect(together.map(\.bitPattern) == alone.map(\.bitPattern))
        #expect(together.map(\.bitPattern) == reversed.map(\.bitPattern))
    }

    @Test func aSmallGroupFallsBackToAllRowsAndAnUnseenGroupToo() {
        let (x, y, width, columns) = Self.problem()
        let model = NearestNeighbours.fit(x: x, width: width, y: y, rows: Array(0..<90), columns: columns, k: 5)
        #expect(model.groupSizes(x: x, rows: [0, 3, 4]) == [3, 44, 43])
        // A row of a group never trained on: its neighbours come from every row.
        var unseen = Array(x[(5 * width)..<(6 * width)])
        unseen[8] = 7; unseen[9] = -7
        let expected = Self.reference(x: x + unseen, y: y + [0], width: width, train: Array(0..<90), queries: [120], k: 5)[0].0
        #expect(model.predict(x: x + unseen, rows: [120]) == [expected])
    }

    @Test func chooseKFollowsTheData() {
        // Labels that are noise around one value: the widest neighbourhood is best. Labels
        // that follow the position closely: a narrow one.
        var (x, y, width, columns) = Self.problem(rows: 300, seed: 3)
        let folds = (0..<4).map { part in
            (train: (0..<300).filter { $0 % 4 != part }, held: (0..<300).filter { $0 % 4 == part })
        }
        let noisy = NearestNeighbours.chooseK(x: x, width: width, y: y, columns: columns, splits: folds, candidates: [1, 5, 50])
        #expect(noisy.k == 50 && noisy.rmse.count == 3)
        columns.group = nil
        columns.blocks = [0..<2]
        y = (0..<300).map { r in 5 + 5 * Float(atan2(Double(x[r * width + 1]), Double(x[r * width])) / Double.pi) }
        let smooth = NearestNeighbours.chooseK(x: x, width: width, y: y, columns: columns, splits: folds, candidates: [1, 5, 50])
        #expect(smooth.k < 50)
    }

    @Test func theFlatBufferRoundTripsAndDamageIsRefused() throws {
        let (x, y, width, columns) = Self.problem()
        let model = NearestNeighbours.fit(x: x, width: width, y: y, rows: Array(0..<90), columns: columns, k: 7)
        let restored = try NearestNeighbours(flat: model.flat, inputs: width)
        #expect(restored.flat == model.flat)
        #expect(restored.predict(x: x, rows: Array(90..<120)) == model.predict(x: x, rows: Array(90..<120)))
        #expect(throws: NearestNeighbours.Malformed.self) { try NearestNeighbours(flat: Array(model.flat.dropLast()), inputs: width) }
        #expect(throws: NearestNeighbours.Malformed.self) { try NearestNeighbours(flat: model.flat, inputs: width + 1) }
        // Header fields Int(Float) would trap on, a block past the inputs, a row's group out
        // of range, a point that is no unit vector's, a label that is not finite.
        let groupsAt = 6 + 2 * 2 + 2, keysAt = groupsAt + 1, groupOfRowAt = keysAt + 3 * 2
        let labelsAt = groupOfRowAt + 90, pointsAt = labelsAt + 90
        for (index, value) in [(1, Float.nan), (1, 1e30), (3, 0.5), (7, 11), (groupsAt, 0), (groupOfRowAt, 3),
                               (labelsAt, .infinity), (pointsAt, 2), (0, 2)] {
            var damaged = model.flat
            damaged[index] = value
            #expect(throws: NearestNeighbours.Malformed.self, "value \(index) = \(value)") {
                try NearestNeighbours(flat: damaged, inputs: width)
            }
        }
    }
}
