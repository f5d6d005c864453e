@testable import FitPipeline
import FitFormats
import FitStore
import Foundation
import Testing

/// Cross-validation that looks like the test (issue #25), on data built to trap it: every
/// source item appears in five versions (texts that differ, vectors that nearly agree: as
/// machine translations of one item do), all with the item's score, and all versions of an
/// item sit on one side of the train/test split. Folds grouped by identical text put the other
/// versions of a held-out item in training, so the nearest-neighbours learner looks far better
/// in CV than it is on the test; the grouping chosen by the check closes the gap.
@Suite(.serialized) struct FoldGroupingTests {
    static let versions = 5, trainItems = 48, testItems = 16, dims = 16

    /// A deterministic unit-ish vector for a text of the trap data set: a source item's latent
    /// vector plus a small version-specific perturbation; anything else (metric names) random.
    static func vector(for text: String) -> [Float] {
        func gaussian(_ seed: UInt64, _ count: Int) -> [Float] {
            var rng = SplitMix64(seed: seed)
            return (0..<count).map { _ in
                let u1 = max(rng.nextUnit(), 1e-12), u2 = rng.nextUnit()
                return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
            }
        }
        let parts = text.split(separator: " ")
        // "item S version V prompt|response"
        guard parts.count == 5, parts[0] == "item", let s = UInt64(parts[1]), let v = UInt64(parts[3]) else {
            return gaussian(UInt64(truncatingIfNeeded: text.utf8.reduce(5381) { $0 &* 33 &+ Int($1) }), dims)
        }
        let role: UInt64 = parts[4] == "prompt" ? 1 : 2
        let latent = gaussian(s &* 1000 &+ role, dims)
        let noise = gaussian(s &* 1000 &+ role &* 100 &+ v &+ 7, dims)
        return zip(latent, noise).map { $0 + 0.12 * $1 }
    }

    static func score(_ item: Int) -> Double {
        var rng = SplitMix64(seed: UInt64(item) &+ 99)
        return (rng.nextUnit() * 10 * 10).rounded() / 10
    }

    /// The trap data set in a store, with its vectors imported as encoder "v"; returns the
    /// test labels file.
    static func trapStore(_ fx: Fixture) throws -> (Store, labels: URL) {
        let metrics = ["quality", "fluency"]
        try fx.write("metric_names.json", "[\"quality\", \"fluency\"]")
        func records(_ items: Range<Int>, scored: Bool) -> String {
            "[" + items.flatMap { s in
                (0..<versions).map { v in
                    Fixture.record(metrics[s % 2], scored ? "\"\(score(s))\"" : nil, "item \(s) version \(v) prompt", "item \(s) version \(v) response")
                }
            }.joined(separator: ",\n") + "]"
        }
        try fx.write("train_data.json", records(0..<trainItems, scored: true))
        try fx.write("test_data.json", records(trainItems..<(trainItems + testItems), scored: false))
        let labels = fx.root.appendingPathComponent("test_labels.csv")
        let testScores = (trainItems..<(trainItems + testItems)).flatMap { s in (0..<versions).map { _ in score(s) } }
        try Data(("ID,score\n" + testScores.enumerated().map { "\($0.offset + 1),\($0.element)" }.joined(separator: "\n") + "\n").utf8).write(to: labels)
        let store = try fx.openStore()
        _ = try Ingest(store: store).run(folder: fx.folder, options: .init(datasetName: "trap"))
        let keys = fx.root.appendingPathComponent("t.jsonl"), npy = fx.root.appendingPathComponent("v.npy")
        let n = try TextList(store: store).writeMissing(encoder: "v", builtInKey: { "unused" }, to: keys)
        let texts = try String(contentsOf: keys, encoding: .utf8).split(separator: "\n").map { line -> String in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            return object?["text"] ?? ""
        }
        #expect(texts.count == n)
        try NpyMatrix(rows: n, columns: dims, values: texts.flatMap(vector(for:))).write(to: npy)
        _ = try VectorImport(store: store).run(encoder: "v", keys: keys, vectors: npy)
        return (store, labels)
    }

    static func train(_ store: Store, groups: FoldGroupChoice) throws -> TrainModel.Report {
        var options = TrainModel.Options(dataset: "trap", encoderKey: "imported:v")
        options.model = .knn
        options.cvGroups = groups
        return try TrainModel(store: store).run(options)
    }

    @Test func groupingByVersionsClosesTheGapBetweenCVAndTest() throws {
        let fx = try Fixture()
        let (store, labelsURL) = try Self.trapStore(fx)
        let labels = try LabelsFile(path: labelsURL.path)
        func testRMSE(_ report: TrainModel.Report) throws -> Double {
            try Score(store: store).run(dataset: "trap", checkpoint: report.checkpointID, labels: labels, groups: nil).score.rmse
        }
        let byText = try Self.train(store, groups: .item)
        let byCheck = try Self.train(store, groups: .auto)
        let (cvText, cvCheck) = (Double(byText.evaluation.crossValidation?.rmse ?? .nan), Double(byCheck.evaluation.crossValidation?.rmse ?? .nan))
        let (testText, testCheck) = (try testRMSE(byText), try testRMSE(byCheck))
        print(String(format: "trap: item folds CV %.3f test %.3f; %@ folds CV %.3f test %.3f", cvText, testText,
                     byCheck.grouping?.kind.rawValue ?? "?", cvCheck, testCheck))
        print("trap: " + (byText.grouping?.summary ?? "") + " | " + (byCheck.grouping?.summary ?? ""))
        // Identical-text folds: the CV is optimistic by a wide margin, and says so.
        #expect(cvText < 0.6 * testText, "item grouping: CV \(cvText) against test \(testText)")
        #expect(byText.grouping?.summary.contains("optimistic") == true, "\(byText.grouping?.summary ?? "")")
        // The check chooses a grouping of versions; its CV is within 15% of the test.
        let grouping = try #require(byCheck.grouping)
        #expect(grouping.kind == .near || grouping.kind == .nearPrompt, "chose \(grouping.kind)")
        #expect(grouping.groups <= Self.trainItems + 4, "\(grouping.groups) groups for \(Self.trainItems) items")
        #expect(abs(cvCheck - testCheck) < 0.15 * testCheck, "\(grouping.kind): CV \(cvCheck) against test \(testCheck)")
        #expect(!grouping.summary.contains("optimistic"), "\(grouping.summary)")
        // The grouping is part of the checkpoint's settings (checkpoints --compare shows it).
        let config = try store.read { try Checkpoint.fetch($0, id: byCheck.checkpointID)?.config } ?? ""
        #expect(config.contains("\"cv_groups\"") && config.contains("\"kind\":\"\(grouping.kind.rawValue)\""), "\(config)")
    }

    /// On data without versions the check keeps identical-text folds (the wider groupings
    /// would make CV pessimistic), and the same rows give the same grouping (deterministic).
    @Test func withoutVersionsTheCheckKeepsItems() throws {
        let fx = try Fixture()
        let store = try fx.demoStore(train: 80, test: 20)
        let key = try fx.importVectors(store)
        var options = TrainModel.Options(dataset: "demo", encoderKey: key)
        options.boosting.trees = 10
        let a = try TrainModel(store: store).plan(options)
        let b = try TrainModel(store: store).plan(options)
        #expect(a.groups == b.groups && a.grouping == b.grouping)
        #expect(a.grouping?.likeness.count == FoldGroupKind.allCases.count)
    }

    @Test func ksAndQuantilesAreTheTextbookOnes() {
        #expect(FoldGrouping.ks([1, 2, 3], [1, 2, 3]) == 0)
        #expect(FoldGrouping.ks([1, 2], [3, 4]) == 1)
        #expect(abs(FoldGrouping.ks([1, 2, 3, 4], [3, 4, 5, 6]) - 0.5) < 1e-6)
        #expect(FoldGrouping.quantile([5, 1, 3], 0.5) == 3)
        #expect(FoldGrouping.quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9)
    }
}
