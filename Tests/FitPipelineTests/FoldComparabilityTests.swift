@testable import FitPipeline
import FitFormats
import FitStore
import Foundation
import GRDB
import Testing

/// CV RMSEs from different fold partitions are not comparable (on mixed the partition alone
/// moved the default's CV by 0.06): `checkpoints` marks "best CV" only among checkpoints in
/// the chosen one's folds and lists the rest as on other folds.
@Suite(.serialized) struct FoldComparabilityTests {
    /// A small store with imported 8-dimensional vectors, trained three times: twice in the
    /// same folds (the same seed, different rounds), once with another seed (other folds).
    static func threeCheckpoints(_ fx: Fixture) throws -> (Store, same: [Int64], other: Int64) {
        let store = try fx.demoStore(train: 80, test: 20)
        var options = TrainModel.Options(dataset: "demo", encoderKey: try fx.importVectors(store))
        options.cvGroups = .item
        options.boosting.trees = 10
        let a = try TrainModel(store: store).run(options)
        options.boosting.trees = 12
        let b = try TrainModel(store: store).run(options)
        options.training.seed = 7
        let c = try TrainModel(store: store).run(options)
        return (store, [a.checkpointID, b.checkpointID], c.checkpointID)
    }

    @Test func bestCVIsAmongTheChosenCheckpointsFolds() throws {
        let fx = try Fixture()
        let (store, same, other) = try Self.threeCheckpoints(fx)
        try Choices.record(store: store, dataset: "demo", comparisons: [], choose: (same[0], "the test's choice"))
        let entries = try CheckpointList(store: store).entries(dataset: "demo")
        let folds = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0.folds) })
        let first = try #require(folds[same[0]] ?? nil), second = try #require(folds[same[1]] ?? nil), third = try #require(folds[other] ?? nil)
        #expect(first == second, "the same seed and groups deal the same folds")
        #expect(first != third, "another seed deals other folds")
        // The digest is the rows' folds, nothing else: recomputing it gives the same.
        #expect(try store.read { try OutOfFoldPredictions.foldDigest($0, checkpoint: same[0]) } == first)

        let comparable = CheckpointList.comparability(entries)
        #expect(comparable.reference == first && comparable.otherFolds == [other])
        let cv = Dictionary(uniqueKeysWithValues: entries.map { ($0.id, $0.cvRMSE ?? .infinity) })
        let expectedBest = same.min { (cv[$0] ?? .infinity, -$0) < (cv[$1] ?? .infinity, -$1) }
        #expect(comparable.best == expectedBest, "best among the chosen one's folds, whatever the other folds' CV (\(cv))")

        // Chosen on the other folds: the reference follows the chosen checkpoint.
        var rechosen = entries
        for i in rechosen.indices { rechosen[i].chosen = rechosen[i].id == other }
        let flipped = CheckpointList.comparability(rechosen)
        #expect(flipped.reference == third && flipped.otherFolds == Set(same) && flipped.best == other)
        // No chosen checkpoint: the folds most checkpoints share.
        for i in rechosen.indices { rechosen[i].chosen = false }
        #expect(CheckpointList.comparability(rechosen).reference == first)
        // Unknown folds (no out-of-fold predictions) are not called other folds.
        for i in rechosen.indices { rechosen[i].folds = nil }
        #expect(CheckpointList.comparability(rechosen).otherFolds.isEmpty)
    }

    /// A damaged fold in the store: the digest refuses it naming the table and row, and the
    /// listing still lists every checkpoint, that one's folds unknown.
    @Test func aDamagedFoldIsNamedAndTheListStays() throws {
        let fx = try Fixture()
        let (store, same, other) = try Self.threeCheckpoints(fx)
        try store.write { db in
            try db.execute(sql: "UPDATE cv_prediction SET fold = 'x' WHERE checkpoint_id = ? AND sample_id = (SELECT MIN(sample_id) FROM cv_prediction WHERE checkpoint_id = ?)",
                           arguments: [other, other])
        }
        #expect {
            _ = try store.read { try OutOfFoldPredictions.foldDigest($0, checkpoint: other) }
        } throws: { "\($0)".contains("cv_prediction") && "\($0)".contains("fold") }
        let entries = try CheckpointList(store: store).entries(dataset: "demo")
        #expect(entries.count == 3)
        #expect(entries.first { $0.id == other }?.folds == nil && entries.first { $0.id == same[0] }?.folds != nil)
    }
}
