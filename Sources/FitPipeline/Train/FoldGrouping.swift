import FitNumerics
import FitStore
import FitTrain
import Foundation

/// How cross-validation groups real rows into folds, and a check of how much the folds look
/// like the test. `make` is arrays in, keys and numbers out; `forTraining` reads the rows.
///
/// Why more than identical text: data is often built from one source item in several
/// versions (machine translations with the same score, paraphrases, the same prompt with
/// another response), all on one side of the train/test split. Folds grouped by identical
/// (prompt, response) text put the other versions of a held-out item in training, so a
/// learner that finds near copies (the kNN above all) looks far better in CV than on the test.
///
/// The kinds:
/// - `item`: identical (prompt, response) text, as before.
/// - `prompt`: identical prompt text (every response to a prompt together).
/// - `near`: items that are versions of one another: mutual nearest neighbours (each among the
///   other's `neighbours` closest items, by the mean of the prompt and response cosines) closer
///   than `floor`, the 90th percentile of how close a test row comes to its nearest training
///   row (so two items are called versions only when they are closer than nine test rows in
///   ten come to anything they could have learned from); linked into connected components,
///   strongest links first, no component past `cap` rows (a fold must stay a fold).
/// - `near+prompt`: both.
///
/// The check (`likeness`): for each held-out real row, its similarity to the nearest real
/// training row of the same metric (training rows: those in the other folds); for each test
/// row, its similarity to the nearest real train row of the same metric. CV resembles the test
/// when the two distributions agree; the distance is the Kolmogorov-Smirnov statistic (the
/// largest gap between the two empirical CDFs). `auto` keeps the candidate with the smallest
/// one (ties: the simpler kind, in the order above). Labels are never read.
public enum FoldGroupKind: String, Codable, Sendable, CaseIterable {
    case item, prompt, near
    case nearPrompt = "near+prompt"
}

/// What `--cv-groups` asks for.
public enum FoldGroupChoice: String, Codable, Sendable, CaseIterable {
    case item, prompt, near, auto

    var kind: FoldGroupKind? { FoldGroupKind(rawValue: rawValue) }
}

/// The grouping of a training's folds, as its checkpoint records it.
public struct FoldGrouping: Codable, Sendable, Equatable {
    public struct NearLinks: Codable, Sendable, Equatable {
        public var neighbours: Int
        public var floor: Float
        public var cap: Int
        public var links: Int
    }

    /// How closely a candidate's held-out rows resemble the test rows.
    public struct Likeness: Codable, Sendable, Equatable {
        public var kind: FoldGroupKind
        public var ks: Float
        public var heldOutMedian: Float
        public var testMedian: Float
        public var groups: Int
    }

    public var kind: FoldGroupKind
    /// "auto" (by the check) or "--cv-groups".
    public var chosenBy: String
    public var groups: Int
    public var largestGroup: Int
    public var near: NearLinks?
    /// Every candidate measured (auto), or the one in force (when there are test rows).
    public var likeness: [Likeness]

    /// The chosen candidate's check, when there was one.
    public var check: Likeness? { likeness.first { $0.kind == kind } }

    /// One line for `train` and `run`: whether held-out rows are as close to their training
    /// rows as test rows are to theirs.
    public var summary: String {
        let name = "folds grouped by \(kind.rawValue)" + (chosenBy == "auto" ? " (chosen by the check)" : "")
        guard let c = check else { return "\(name); no test rows to compare the folds with" }
        let gap = c.heldOutMedian - c.testMedian
        if abs(gap) <= 0.01 && c.ks <= 0.15 {
            return String(format: "held-out rows are as close to their training rows as test rows are: median %.3f vs %.3f (%@, KS %.2f)",
                          c.heldOutMedian, c.testMedian, name, c.ks)
        }
        return String(format: "warning: CV is %@: held-out rows are %@ their training rows than test rows are (median similarity %.3f vs %.3f, KS %.2f; %@)",
                      gap > 0 ? "optimistic" : "pessimistic", gap > 0 ? "closer to" : "farther from", c.heldOutMedian, c.testMedian, c.ks, name)
    }
}

/// The rows a grouping is made from.
public struct FoldGroupingInput {
    /// Per row of the training matrix: the item key of a real row ("prompt:response" text
    /// ids), nil for a synthetic row.
    public var items: [String?]
    public var metrics: [Int64]
    /// The training matrix, `width` columns; `columns`: the prompt and response blocks.
    public var x: [Float]
    public var width: Int
    public var columns: NearestNeighbours.Columns
    /// The test rows: their matrix (`testWidth` columns, the prompt and response blocks where
    /// the training matrix has them) and metrics.
    public var testX: [Float]
    public var testWidth: Int
    public var testMetrics: [Int64]
    public var folds: Int
    public var seed: UInt64
    public var threads: Int

    public init(items: [String?], metrics: [Int64], x: [Float], width: Int, columns: NearestNeighbours.Columns,
                testX: [Float], testWidth: Int, testMetrics: [Int64], folds: Int, seed: UInt64, threads: Int) {
        self.testWidth = testWidth
        self.items = items
        self.metrics = metrics
        self.x = x
        self.width = width
        self.columns = columns
        self.testX = testX
        self.testMetrics = testMetrics
        self.folds = folds
        self.seed = seed
        self.threads = threads
    }
}

extension FoldGrouping {
    public static let neighbours = 4
    public static let floorQuantile: Float = 0.9

    /// The group key of every row (nil for synthetic rows) and the record, for `choice`.
    public static func make(_ input: FoldGroupingInput, choice: FoldGroupChoice) -> (keys: [String?], grouping: FoldGrouping) {
        let real = input.items.indices.filter { input.items[$0] != nil }
        let dims = input.columns.dims
        // No vectors to compare (an ablation left both blocks out): identical text only.
        guard dims > 0, !real.isEmpty else {
            return (input.items.map { $0.map { "i:" + $0 } },
                    FoldGrouping(kind: .item, chosenBy: choice == .auto ? "auto" : "--cv-groups",
                                 groups: Set(input.items.compactMap { $0 }).count, largestGroup: 0, near: nil, likeness: []))
        }
        let points = Self.points(input.x, rows: real, width: input.width, columns: input.columns)
        let testRows = input.testMetrics.count
        let testPoints = Self.points(input.testX, rows: Array(0..<testRows), width: input.testWidth, columns: input.columns)
        let pack = { (p: [Float], n: Int) -> PackedWeights in
            let w = PackedWeights()
            p.withUnsafeBufferPointer { w.pack($0.baseAddress!, bias: nil, outputs: n, inputs: dims) }
            return w
        }
        let workspaces = (0..<max(1, input.threads)).map { _ in RowInvariantProduct.Workspace() }

        // Per metric: the real train rows (positions in `real`) and the test rows.
        var trainOf: [Int64: [Int]] = [:], testOf: [Int64: [Int]] = [:]
        for (i, r) in real.enumerated() { trainOf[input.metrics[r], default: []].append(i) }
        for q in 0..<testRows { testOf[input.testMetrics[q], default: []].append(q) }

        // How close each test row comes to the nearest real train row of its metric.
        var testNearest: [Float] = []
        for metric in testOf.keys.sorted() {
            guard let members = trainOf[metric], let queries = testOf[metric] else { continue }
            let packed = pack(Self.gather(points, members, dims), members.count)
            Self.similarities(packed, queries: Self.gather(testPoints, queries, dims), count: queries.count, dims: dims,
                              workspaces: workspaces) { _, sims in testNearest.append(sims.max() ?? -1) }
        }

        // The candidates' keys, per real row.
        let itemKeys = real.map { input.items[$0] ?? "" }
        let promptKeys = itemKeys.map { key in String(key.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? "") }
        let cap = max(2, real.count / max(2, 2 * input.folds))
        let floor = testNearest.isEmpty ? Float.infinity : Self.quantile(testNearest, Self.floorQuantile)
        let candidates: [FoldGroupKind] = choice == .auto ? FoldGroupKind.allCases : [choice.kind ?? .item]
        var nearLinks: NearLinks?
        var keysOf: [FoldGroupKind: [String]] = [:]
        for kind in candidates {
            switch kind {
            case .item: keysOf[kind] = itemKeys.map { "i:" + $0 }
            case .prompt: keysOf[kind] = promptKeys.map { "p:" + $0 }
            case .near, .nearPrompt:
                let (roots, links) = Self.nearComponents(points: points, dims: dims, itemKeys: itemKeys,
                                                         promptKeys: kind == .nearPrompt ? promptKeys : nil,
                                                         floor: floor, cap: cap, pack: pack, workspaces: workspaces)
                keysOf[kind] = roots.map { "n:\($0)" }
                if kind == .near || nearLinks == nil {
                    nearLinks = NearLinks(neighbours: Self.neighbours, floor: floor.isFinite ? floor : -1, cap: cap, links: links)
                }
            }
        }

        // The check: each candidate's folds, and how close held-out rows come to training rows.
        var foldOf: [FoldGroupKind: [Int]] = [:]
        for kind in candidates {
            var rowKeys = [String?](repeating: nil, count: input.items.count)
            for (i, r) in real.enumerated() { rowKeys[r] = keysOf[kind]?[i] }
            let folds = CrossValidation(folds: input.folds, seed: input.seed).assign(items: rowKeys)?.foldOfRow
            foldOf[kind] = real.map { folds?[$0] ?? -1 }
        }
        var heldNearest: [FoldGroupKind: [Float]] = [:]
        for metric in trainOf.keys.sorted() {
            guard let members = trainOf[metric] else { continue }
            let packed = pack(Self.gather(points, members, dims), members.count)
            Self.similarities(packed, queries: Self.gather(points, members, dims), count: members.count, dims: dims,
                              workspaces: workspaces) { q, sims in
                let row = members[q], base = sims.startIndex
                for kind in candidates {
                    guard let folds = foldOf[kind], folds[row] >= 0 else { continue }
                    var best: Float = -2
                    for (j, other) in members.enumerated() where folds[other] != folds[row] && sims[base + j] > best { best = sims[base + j] }
                    if best > -2 { heldNearest[kind, default: []].append(best) }
                }
            }
        }
        let likeness: [Likeness] = testNearest.isEmpty ? [] : candidates.map { kind in
            let held = heldNearest[kind] ?? []
            return Likeness(kind: kind, ks: Self.ks(held, testNearest), heldOutMedian: Self.quantile(held, 0.5),
                            testMedian: Self.quantile(testNearest, 0.5), groups: Set(keysOf[kind] ?? []).count)
        }
        var chosen = candidates[0]
        if choice == .auto, let best = likeness.min(by: { ($0.ks, Self.order($0.kind)) < ($1.ks, Self.order($1.kind)) }) {
            chosen = best.kind
        }
        let keys = keysOf[chosen] ?? itemKeys
        var rowKeys = [String?](repeating: nil, count: input.items.count)
        for (i, r) in real.enumerated() { rowKeys[r] = keys[i] }
        var sizes: [String: Int] = [:]
        for k in keys { sizes[k, default: 0] += 1 }
        return (rowKeys, FoldGrouping(kind: chosen, chosenBy: choice == .auto ? "auto" : "--cv-groups", groups: sizes.count,
                                      largestGroup: sizes.values.max() ?? 0,
                                      near: chosen == .near || chosen == .nearPrompt ? nearLinks : nil, likeness: likeness))
    }

    static func order(_ kind: FoldGroupKind) -> Int { FoldGroupKind.allCases.firstIndex(of: kind) ?? 0 }

    /// Unit points of `rows`: prompt and response blocks normalized, side by side (a dot
    /// product of two is the mean of their blocks' cosines).
    static func points(_ x: [Float], rows: [Int], width: Int, columns: NearestNeighbours.Columns) -> [Float] {
        var out = [Float](repeating: 0, count: rows.count * columns.dims)
        for (i, r) in rows.enumerated() { NearestNeighbours.point(x, row: r, width: width, columns: columns, into: &out, at: i * columns.dims) }
        return out
    }

    static func gather(_ points: [Float], _ rows: [Int], _ dims: Int) -> [Float] {
        var out = [Float](repeating: 0, count: rows.count * dims)
        for (i, r) in rows.enumerated() { out.replaceSubrange((i * dims)..<((i + 1) * dims), with: points[(r * dims)..<((r + 1) * dims)]) }
        return out
    }

    static let chunk = 256

    /// Calls `body(query, similarities to every packed point)` (a slice: index it from its
    /// startIndex) for each query, in order, a
    /// chunk of queries per product (`RowInvariantProduct`: the same bits whatever the chunk).
    static func similarities(_ packed: PackedWeights, queries: [Float], count: Int, dims: Int, workspaces: [RowInvariantProduct.Workspace],
                             _ body: (Int, ArraySlice<Float>) -> Void) {
        let n = packed.outputs
        guard n > 0, count > 0 else { return }
        var sims = [Float](repeating: 0, count: min(chunk, count) * n)
        for start in stride(from: 0, to: count, by: chunk) {
            let rows = min(chunk, count - start)
            queries.withUnsafeBufferPointer { q in
                sims.withUnsafeMutableBufferPointer { s in
                    RowInvariantProduct.applyInParallel(packed, to: q.baseAddress! + start * dims, rows: rows, into: s.baseAddress!,
                                                        workspaces: workspaces)
                }
            }
            for i in 0..<rows { body(start + i, sims[(i * n)..<((i + 1) * n)]) }
        }
    }

    /// Components of the items linked as versions of one another (and, with `promptKeys`, of
    /// those sharing a prompt), per row: a component id. Returns the number of near links made.
    static func nearComponents(points: [Float], dims: Int, itemKeys: [String], promptKeys: [String]?, floor: Float, cap: Int,
                               pack: ([Float], Int) -> PackedWeights, workspaces: [RowInvariantProduct.Workspace]) -> (roots: [Int], links: Int) {
        // Distinct items, in first-row order; each row points at its item.
        var itemIndex: [String: Int] = [:], firstRow: [Int] = [], itemOfRow: [Int] = []
        for (r, key) in itemKeys.enumerated() {
            if let i = itemIndex[key] { itemOfRow.append(i) } else {
                itemIndex[key] = firstRow.count
                itemOfRow.append(firstRow.count)
                firstRow.append(r)
            }
        }
        let n = firstRow.count
        var rowsOfItem = [Int](repeating: 0, count: n)
        for i in itemOfRow { rowsOfItem[i] += 1 }
        var parent = Array(0..<n), size = rowsOfItem
        func find(_ a: Int) -> Int {
            var a = a
            while parent[a] != a { parent[a] = parent[parent[a]]; a = parent[a] }
            return a
        }
        func union(_ a: Int, _ b: Int, capped: Bool) -> Bool {
            let (ra, rb) = (find(a), find(b))
            guard ra != rb, !capped || size[ra] + size[rb] <= cap else { return false }
            let (small, large) = ra < rb ? (rb, ra) : (ra, rb)
            parent[small] = large
            size[large] += size[small]
            return true
        }
        if let promptKeys {
            var firstOfPrompt: [String: Int] = [:]
            for (i, r) in firstRow.enumerated() {
                if let j = firstOfPrompt[promptKeys[r]] { _ = union(i, j, capped: false) } else { firstOfPrompt[promptKeys[r]] = i }
            }
        }
        var links = 0
        if floor.isFinite, n >= 2 {
            let itemPoints = gather(points, firstRow, dims)
            let packed = pack(itemPoints, n)
            var top = [[(sim: Float, item: Int)]](repeating: [], count: n)
            let depth = min(neighbours, n - 1)
            similarities(packed, queries: itemPoints, count: n, dims: dims, workspaces: workspaces) { i, sims in
                var best: [(sim: Float, item: Int)] = []
                for (j, s) in zip(0..., sims) where j != i {
                    if best.count == depth, let last = best.last, !(s > last.sim) { continue }
                    var at = best.count
                    while at > 0, s > best[at - 1].sim { at -= 1 }
                    best.insert((s, j), at: at)
                    if best.count > depth { best.removeLast() }
                }
                top[i] = best
            }
            var candidates: [(sim: Float, a: Int, b: Int)] = []
            for i in 0..<n {
                for (s, j) in top[i] where i < j && s >= floor && top[j].contains(where: { $0.item == i }) {
                    candidates.append((s, i, j))
                }
            }
            // Strongest links first (ties by item order): the cap keeps the closest versions together.
            candidates.sort { ($0.sim, -$0.a, -$0.b) > ($1.sim, -$1.a, -$1.b) }
            for c in candidates where union(c.a, c.b, capped: true) { links += 1 }
        }
        return (itemOfRow.map { find($0) }, links)
    }

    /// The q-quantile of `values` (the value at rank q x (n - 1), rounded down); NaN when empty.
    static func quantile(_ values: [Float], _ q: Float) -> Float {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, max(0, Int((q * Float(sorted.count - 1)).rounded(.down))))]
    }

    /// The Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs of a and b.
    static func ks(_ a: [Float], _ b: [Float]) -> Float {
        guard !a.isEmpty, !b.isEmpty else { return 1 }
        let (x, y) = (a.sorted(), b.sorted())
        var i = 0, j = 0
        var gap: Float = 0
        while i < x.count && j < y.count {
            let v = min(x[i], y[j])
            while i < x.count && x[i] <= v { i += 1 }
            while j < y.count && y[j] <= v { j += 1 }
            gap = max(gap, abs(Float(i) / Float(x.count) - Float(j) / Float(y.count)))
        }
        return gap
    }
}

extension FoldGrouping {
    /// The grouping of a training's real rows: its vectors' prompt and response blocks, and
    /// the data set's test rows under the same encoders, read from the store.
    static func forTraining(store: Store, options: TrainModel.Options, features: FeatureMatrix, lineage: Lineage,
                            threads: Int) throws -> (keys: [String?], grouping: FoldGrouping) {
        let columns = TrainModel.neighbourColumns(features.layout)
        // Test rows without vectors (not embedded yet) leave nothing to compare: the check is skipped.
        let test = try? store.read { db in
            try FeatureMatrix.load(db, dataset: options.dataset, selection: .test, encoderKeys: options.encoderKeys,
                                   extras: false, system: false, interactions: false, omitted: options.omitted)
        }
        // The test matrix has the prompt and response blocks where the training matrix has them
        // (they come first in every layout); a test set without them is compared by nothing.
        let sameBlocks = test.map { TrainModel.neighbourColumns($0.layout).blocks == columns.blocks } ?? false
        let input = FoldGroupingInput(items: lineage.items(features), metrics: features.metricIDs, x: features.values,
                                      width: features.width, columns: .init(blocks: columns.blocks, group: nil),
                                      testX: sameBlocks ? test?.values ?? [] : [], testWidth: test?.width ?? 0,
                                      testMetrics: sameBlocks ? test?.metricIDs ?? [] : [], folds: options.cvFolds,
                                      seed: options.training.seed, threads: max(1, threads))
        return make(input, choice: options.cvGroups)
    }
}
