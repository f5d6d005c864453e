@testable import FitPipeline
import Testing

@Suite struct CrossValidationTests {
    /// 40 real rows over 10 items (4 metrics each) and 30 synthetic rows with one or two real
    /// ancestors: no fold may train on a held-out item or on a descendant of one.
    @Test func foldsKeepItemsTogetherAndDescendantsOut() throws {
        var items: [String?] = [], metrics: [Int64] = [], y: [Float] = [], ancestors: [[Int]] = []
        for item in 0..<10 {
            for m in 0..<4 {
                items.append("item\(item)"); metrics.append(Int64(m)); y.append(Float(m * 2 + item % 3)); ancestors.append([])
            }
        }
        for s in 0..<30 {
            items.append(nil); metrics.append(Int64(s % 4)); y.append(1)
            ancestors.append(s % 3 == 0 ? [s % 40, (s * 7) % 40] : [s % 40])
        }
        var heldOutByFold: [Int: Set<String>] = [:]
        var seenTrain: [Int: [Int]] = [:]
        let cv = CrossValidation(folds: 5, seed: 1)
        let result = try #require(cv.run(y: y, metrics: metrics, metricNames: [0: "a", 1: "b", 2: "c", 3: "d"], items: items, ancestors: ancestors,
            fit: { fold, train in
                seenTrain[fold] = train
                return { rows in
                    heldOutByFold[fold, default: []].formUnion(rows.map { items[$0]! })
                    return rows.map { _ in 5 }
                }
            }))
        #expect(result.folds == 5 && result.rows == 40 && result.perMetric.count == 4)
        var everyItem = Set<String>()
        for fold in 0..<5 {
            let held = heldOutByFold[fold]!
            #expect(held.count == 2, "items are spread evenly over folds")
            everyItem.formUnion(held)
            for r in seenTrain[fold]! {
                if let item = items[r] {
                    #expect(!held.contains(item), "fold \(fold) trains on held-out item \(item)")
                } else {
                    #expect(ancestors[r].allSatisfy { !held.contains(items[$0]!) }, "fold \(fold) trains on a descendant of a held-out row")
                }
            }
        }
        #expect(everyItem.count == 10)
        #expect(result.excludedDescendants > 0)
        // A constant 5 prediction: the RMSE is computable by hand.
        let expected = (y[0..<40].map { ($0 - 5) * ($0 - 5) }.reduce(0, +) / 40).squareRoot()
        #expect(abs(result.rmse - expected) < 1e-5)
    }

    @Test func tooFewItemsMeansNoCrossValidation() {
        let result = CrossValidation(folds: 5, seed: 1).run(y: [1, 2], metrics: [0, 0], metricNames: [:], items: ["a", "a"], ancestors: [[], []],
                                                            fit: { _, _ in { $0.map { _ in 0 } } })
        #expect(result == nil)
    }
}

@Suite struct SubFoldTests {
    /// The sub-folds of one fold's rows: every real row held out exactly once, items never
    /// split between held and train, synthetic descendants of held rows never trained on.
    @Test func subFoldsKeepItemsTogetherAndDescendantsOut() throws {
        var items: [String?] = [], ancestors: [[Int]] = []
        for item in 0..<30 { for _ in 0..<3 { items.append("i\(item)"); ancestors.append([]) } }
        for s in 0..<40 { items.append(nil); ancestors.append([s % 90, (s * 13) % 90]) }
        let rows = Array(stride(from: 0, to: 130, by: 1)).filter { $0 % 7 != 0 }  // a fold's rows: not all of them
        let parts = try #require(CrossValidation(folds: 5, seed: 3).subFolds(rows: rows, items: items, ancestors: ancestors))
        #expect(parts.count == 5)
        let real = rows.filter { items[$0] != nil }
        #expect(parts.flatMap(\.held).sorted() == real, "each real row is held out once")
        for p in parts {
            let heldItems = Set(p.held.map { items[$0]! })
            let heldRows = Set(p.held)
            for r in p.train {
                #expect(rows.contains(r))
                if let item = items[r] { #expect(!heldItems.contains(item)) } else { #expect(!ancestors[r].contains(where: heldRows.contains)) }
            }
        }
        #expect(CrossValidation(folds: 5, seed: 3).subFolds(rows: [0, 1, 2], items: items, ancestors: ancestors) == nil, "one item: no folds")
    }
}
