@testable import FitPipeline
import FitAugment
import FitEncoder
import FitFormats
import FitStore
import FitTrain
import Foundation
import GRDB
import Testing

/// train -> checkpoint -> predict on the generated demo data, with the real encoder.
@Suite(.serialized) struct TrainPredictTests {
    @Test func trainsStoresAndPredictsEveryTestID() throws {
        let fx = try Fixture()
        let store = try fx.demoStore(train: 150, test: 40)
        let embed = try Embed(store: store).run(EmbedTests.options())

        var options = TrainModel.Options(dataset: "demo", encoderKey: embed.encoderKey)
        options.model = .seed
        options.network = [64, 32, 16]
        options.training.maxEpochs = 5
        options.cvFolds = 3
        let report = try TrainModel(store: store).run(options)
        #expect(report.trainRows == 150 && report.evaluation.validationRows == 30)
        let cv = try #require(report.evaluation.crossValidation)
        #expect(cv.folds == 3 && cv.rows == 150 && cv.foldRMSE.count == 3 && cv.rmse.isFinite && cv.excludedDescendants == 0)
        let row = try store.read { try Row.fetchOne($0, sql: "SELECT * FROM checkpoint WHERE id = ?", arguments: [report.checkpointID]) }!
        let history = try JSONSerialization.jsonObject(with: Data((row["history"] as String).utf8)) as! [[String: Any]]
        #expect(history.count == 5 && history[0]["validationRMSE"] != nil && history[0]["learningRate"] != nil)
        #expect((row["evaluation"] as String).contains("perMetricMeanRMSE"))
        #expect((row["config"] as String).contains("\"metricSource\":\"encoder:definition-or-name\""))
        #expect((row["training_digest"] as String).count == 64)
        #expect(row["run_id"] as Int64 == report.runID)

        let out = fx.root.appendingPathComponent("submission.csv")
        let predicted = try Predict(store: store).run(dataset: "demo", checkpoint: nil, out: out)
        #expect(predicted.checkpointID == report.checkpointID && predicted.rows == 40)
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "ID,score")
        let ids = lines.dropFirst().map { Int($0.split(separator: ",")[0])! }
        let scores = lines.dropFirst().map { Double($0.split(separator: ",")[1])! }
        #expect(ids == Array(1...40))
        #expect(scores.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 10 })
        let stored = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM prediction WHERE checkpoint_id = ?", arguments: [report.checkpointID]) }
        #expect(stored == 40)

        // Same rows, same settings: the checkpoint is reused, not retrained.
        let again2 = try TrainModel(store: store).run(options)
        #expect(again2.reused && again2.checkpointID == report.checkpointID)
        options.training.seed += 1
        #expect(try TrainModel(store: store).run(options).reused == false, "another seed is another model")

        // The stored checkpoint rebuilds the same model: predicting again gives the same scores.
        let again = try Predict(store: store).run(dataset: "demo", checkpoint: report.checkpointID, out: out)
        #expect(again.mean == predicted.mean && again.histogram == predicted.histogram)
    }

    @Test func boostedTreesAreTheDefaultAndTheirCheckpointPredictsTheSame() throws {
        let fx = try Fixture()
        let store = try fx.demoStore(train: 200, test: 30)
        let embed = try Embed(store: store).run(EmbedTests.options())
        var options = TrainModel.Options(dataset: "demo", encoderKey: embed.encoderKey)
        options.boosting.trees = 30
        #expect(options.model == .boosted)
        let report = try TrainModel(store: store).run(options)
        let row = try store.read { try Row.fetchOne($0, sql: "SELECT model, config, history FROM checkpoint WHERE id = ?", arguments: [report.checkpointID]) }!
        #expect(row["model"] as String == "boosted")
        #expect((row["config"] as String).contains("\"extras\":[\"cos_prompt_response\""))
        let history = try JSONSerialization.jsonObject(with: Data((row["history"] as String).utf8)) as! [[String: Any]]
        #expect(history.count == 30 && history[0]["validationRMSE"] is Double, "fold 1's rounds carry a held-out RMSE")
        let cv = try #require(report.evaluation.crossValidation)
        #expect(cv.folds == 5 && cv.rows == 200 && report.evaluation.validationRMSE == nil)
        let out = fx.root.appendingPathComponent("b.csv")
        let first = try Predict(store: store).run(dataset: "demo", checkpoint: report.checkpointID, out: out)
        let second = try Predict(store: store).run(dataset: "demo", checkpoint: report.checkpointID, out: out)
        #expect(first.rows == 30 && first.mean == second.mean && first.histogram == second.histogram)
        // The demo's scores depend on the texts, so trees on the vectors beat the constant mean in CV.
        #expect(cv.rmse < cv.constantMeanRMSE, "CV RMSE \(cv.rmse) vs constant \(cv.constantMeanRMSE)")
    }

    /// --bag-folds on keeps the mean of the CV fold models: the same CV and out-of-fold
    /// predictions as one final fit (CV is the fold models' either way), five times the trees.
    /// cv decides by the nested comparison and keeps exactly the model of on or of off.
    /// Early stopping: each fold keeps its own best round; the final fit their mean.
    @Test func baggingTheFoldModelsAndEarlyStopping() throws {
        let fx = try Fixture()
        let store = try fx.demoStore(train: 200, test: 30)
        let embed = try Embed(store: store).run(EmbedTests.options())
        var options = TrainModel.Options(dataset: "demo", encoderKey: embed.encoderKey)
        options.boosting.trees = 30
        func trained(_ bagging: TrainModel.Bagging) throws -> (TrainModel.Report, [Float], [Int64: Double]) {
            var o = options
            o.bagging = bagging
            let r = try TrainModel(store: store).run(o)
            return try store.read { db in
                let c = try #require(try Checkpoint.fetch(db, id: r.checkpointID))
                return (r, try c.weights(db), try OutOfFoldPredictions.fetch(db, checkpoint: r.checkpointID).mapValues(\.score))
            }
        }
        let (off, offWeights, offHeld) = try trained(.off)
        let (on, onWeights, onHeld) = try trained(.on)
        #expect(off.evaluation.bagged == nil && on.evaluation.bagged == true)
        #expect(on.evaluation.crossValidation?.rmse == off.evaluation.crossValidation?.rmse && onHeld == offHeld)
        let bag = try BoostedTrees(flat: onWeights, inputs: on.featureColumns)
        #expect(bag.trees.count == 5 * 30 && on.evaluation.rounds == 150)
        let (cv, cvWeights, cvHeld) = try trained(.cv)
        let nested = try #require(cv.evaluation.nestedBagging)
        // A kept bag's stored out-of-fold predictions are its nested bags' (what a blend fits
        // its weights on): their RMSE is the nested bag RMSE; a bag left out keeps the folds'.
        let labels = try store.read { try RealSamples.trainLabels($0, ids: Array(cvHeld.keys)) }
        let heldRMSE = (cvHeld.map { id, p in let e = p - (labels[id]?.score ?? .nan); return e * e }.reduce(0, +) / Double(cvHeld.count)).squareRoot()
        if nested.kept {
            #expect(cv.evaluation.outOfFold == "nested bag" && abs(Float(heldRMSE) - nested.bagRMSE) < 1e-5 && cvHeld != offHeld)
            #expect(cv.evaluation.outOfFoldRMSE == nested.bagRMSE)
        } else {
            #expect(cv.evaluation.outOfFold == nil && cvHeld == offHeld && cv.evaluation.outOfFoldRMSE == off.evaluation.crossValidation?.rmse)
        }
        #expect(nested.singleRMSE == off.evaluation.crossValidation?.rmse && nested.bagRMSE.isFinite)
        // Kept only when the bag beats the one model beyond its noise, fold by fold.
        let verdict = NoiseRule.judge(simple: nested.singleFoldRMSE ?? [], complex: nested.bagFoldRMSE ?? [])
        #expect(nested.bagFoldRMSE?.count == 5 && nested.meanGain == verdict.meanGain)
        #expect(nested.kept == verdict.keepComplex && cv.evaluation.bagged == (nested.kept ? true : nil))
        #expect(cvWeights == (nested.kept ? onWeights : offWeights), "cv keeps the bag or the final fit, bit for bit")
        #expect(Set([off.checkpointID, on.checkpointID, cv.checkpointID]).count == 3, "three settings, three checkpoints")
        // A nested comparison stored before it kept per-fold numbers (as older versions wrote
        // them) is trained again, once: the old checkpoint stays, the new one is reused after.
        try store.write { db in
            try db.execute(sql: "UPDATE checkpoint SET evaluation = json_remove(evaluation, '$.nestedBagging.bagFoldRMSE', '$.nestedBagging.singleFoldRMSE') WHERE id = ?",
                           arguments: [cv.checkpointID])
        }
        let (again, againWeights, _) = try trained(.cv)
        #expect(!again.reused && again.checkpointID > cv.checkpointID && again.evaluation.nestedBagging?.bagFoldRMSE?.count == 5)
        #expect(againWeights == cvWeights, "the same rows and settings, the same model")
        #expect(try store.read { try Checkpoint.fetch($0, id: cv.checkpointID) } != nil, "the old checkpoint stays")
        let (third, _, _) = try trained(.cv)
        #expect(third.reused && third.checkpointID == again.checkpointID)

        options.boosting.trees = 400
        options.boosting.earlyStoppingRounds = 10
        options.boosting.learningRate = 0.3
        let stopped = try TrainModel(store: store).run(options)
        let rounds = try #require(stopped.evaluation.foldRounds)
        #expect(rounds.count == 5 && rounds.allSatisfy { $0 >= 1 && $0 < 400 }, "\(rounds)")
        let mean = Int((Float(rounds.reduce(0, +)) / 5).rounded())
        #expect(stopped.evaluation.rounds == mean)
        let final = try store.read { db in try BoostedTrees(flat: try #require(try Checkpoint.fetch(db, id: stopped.checkpointID)).weights(db),
                                                            inputs: stopped.featureColumns) }
        #expect(final.trees.count == mean)
    }

    @Test func nearestNeighboursTrainPredictBlendAndAreChosenByCV() throws {
        let fx = try Fixture()
        let store = try fx.demoStore(train: 200, test: 30)
        let embed = try Embed(store: store).run(EmbedTests.options())
        var options = TrainModel.Options(dataset: "demo", encoderKey: embed.encoderKey)
        options.model = .knn
        options.extras = false
        let knn = try TrainModel(store: store).run(options)
        let choice = try #require(knn.evaluation.neighbours)
        let cv = try #require(knn.evaluation.crossValidation)
        #expect(choice.foldK.count == 5 && choice.candidates.contains(choice.k) && choice.innerRMSE.count == 5 && cv.rmse.isFinite)
        // The checkpoint rebuilds the same model: the stored out-of-fold predictions are the CV's,
        // and a retrain of the same rows and settings reuses it.
        #expect(try TrainModel(store: store).run(options).reused)
        let (model, _) = try store.read { db in
            try TrainModel.loadModel(db, checkpoint: try #require(try Checkpoint.fetch(db, id: knn.checkpointID)))
        }
        guard case .knn(let neighbours) = model else { Issue.record("not a kNN model"); return }
        #expect(neighbours.k == choice.k && neighbours.rows == 200)
        let predicted = try Predict(store: store).run(dataset: "demo", checkpoint: knn.checkpointID,
                                                      out: fx.root.appendingPathComponent("knn.csv"))
        #expect(predicted.rows == 30)

        // run's choice: the blend is kept exactly when it beats the model beyond its noise (and
        // its kNN weight is above the floor); both checkpoints stay whatever the decision, and a
        // second choice finds them again instead of training.
        var boosted = TrainModel.Options(dataset: "demo", encoderKey: embed.encoderKey)
        boosted.boosting.trees = 30
        let trees = try TrainModel(store: store).run(boosted)
        let before = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM checkpoint") ?? 0 }
        let outcome = try #require(try NeighbourBlend.choose(store: store, model: trees, options: boosted, choice: .cv, progress: SilentProgress()))
        #expect(outcome.kept == (outcome.verdict.keepComplex && outcome.floorReason == nil) && outcome.weights.count == 2)
        #expect(outcome.checkpointID == (outcome.kept ? outcome.comparison.candidates[1].checkpoint : trees.checkpointID))
        // The blend stays whatever the decision (the kNN of these settings was trained above, and is found again).
        let after = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM checkpoint") ?? 0 }
        #expect(after == before + 1, "the blend checkpoint stays: \(before) -> \(after)")
        let blendID = try #require(outcome.comparison.candidates[1].checkpoint)
        #expect(try store.read { try Checkpoint.fetch($0, id: blendID) } != nil)
        let second = try #require(try NeighbourBlend.choose(store: store, model: trees, options: boosted, choice: .cv, progress: SilentProgress()))
        #expect(second.kept == outcome.kept && second.blendCV == outcome.blendCV)
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM checkpoint") ?? 0 } == after)
        let forced = try #require(try NeighbourBlend.choose(store: store, model: trees, options: boosted, choice: .on, progress: SilentProgress()))
        #expect(forced.kept && forced.blendCV == outcome.blendCV)
        #expect(try NeighbourBlend.choose(store: store, model: trees, options: boosted, choice: .off, progress: SilentProgress()) == nil)

        // Damaged weights of a kNN checkpoint: refused, named, never a crash.
        try store.write { db in
            let flat = try #require(try Checkpoint.fetch(db, id: knn.checkpointID)).weights(db)
            var damaged = flat
            damaged[1] = 2.5  // k, not a whole number
            try db.execute(sql: "UPDATE checkpoint SET weights = ? WHERE id = ?",
                           arguments: [try VectorCodec.encode(damaged, as: .lossless), knn.checkpointID])
        }
        #expect {
            try Predict(store: store).run(dataset: "demo", checkpoint: knn.checkpointID, out: fx.root.appendingPathComponent("bad.csv"))
        } throws: { "\($0)".contains("checkpoint \(knn.checkpointID) is damaged") && "\($0)".contains("k is") }
    }

    @Test func trainingNeedsVectors() throws {
        let fx = try Fixture()
        let store = try fx.demoStore(train: 30, test: 5)
        #expect {
            _ = try TrainModel(store: store).run(.init(dataset: "demo", encoderKey: "no-such-encoder"))
        } throws: { error in
            "\(error)".contains("fitstore embed")
        }
    }
}

@Suite(.serialized) struct SyntheticTrainingTests {
    @Test func synthesizedRowsJoinTrainingAndNoiseIsMaterializedDeterministically() throws {
        let fx = try Fixture()
        let store = try fx.demoStore(train: 60, test: 10)
        let embed = try Embed(store: store).run(EmbedTests.options())
        // Whole children per parent: exactly 60 + 60 rows.
        try Fixture.addNegatives(store, encoderKey: embed.encoderKey, low: 60, mid: 60)
        let generators: Set<String> = ["negative_shuffle", "negative_noise", "negative_metric_swap"]
        func load() throws -> FeatureMatrix {
            try store.read { try FeatureMatrix.load($0, dataset: "demo", selection: .train, encoderKey: embed.encoderKey, syntheticGenerators: generators) }
        }
        let a = try load(), b = try load()
        let synthetic = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample WHERE origin = 'synthetic'") }!
        #expect(a.rows == 60 + synthetic && synthetic == 120 && a.values == b.values, "\(a.rows) rows, \(synthetic) synthetic")
        // A noise row differs from its parent's vectors; a metric-swap row keeps them.
        let real = try store.read { try FeatureMatrix.load($0, dataset: "demo", selection: .train, encoderKey: embed.encoderKey) }
        let parentOf = try store.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT sample_id, parent_id FROM sample_parent WHERE ordinal = 0").map { ($0[0] as Int64, $0[1] as Int64) })
        }
        let realRow = Dictionary(uniqueKeysWithValues: real.sampleIDs.enumerated().map { ($1, $0) })
        let textWidth = 2 * a.layout.promptDims
        for (i, g) in a.generators.enumerated() where g == "negative_noise" || g == "negative_metric_swap" {
            let p = realRow[parentOf[a.sampleIDs[i]]!]!
            let mine = Array(a.values[(i * a.width)..<(i * a.width + textWidth)])
            let parent = Array(real.values[(p * real.width)..<(p * real.width + textWidth)])
            if g == "negative_noise" { #expect(mine != parent) } else { #expect(mine == parent) }
        }
        var options = TrainModel.Options(dataset: "demo", encoderKey: embed.encoderKey)
        options.model = .seed
        options.network = [32, 16]
        options.training.maxEpochs = 2
        options.syntheticGenerators = generators
        let report = try TrainModel(store: store).run(options)
        let config = try store.read { try String.fetchOne($0, sql: "SELECT config FROM checkpoint WHERE id = ?", arguments: [report.checkpointID]) }!
        #expect(config.contains("negative_noise") && report.trainRows == 180 && report.syntheticRows == 120)
        // Every synthetic row has a real parent, so each fold keeps some descendants out.
        let cv = try #require(report.evaluation.crossValidation)
        #expect(cv.rows == 60 && cv.excludedDescendants >= 120, "\(cv.excludedDescendants) descendants kept out")
    }
}

@Suite struct AugmentationProfileTests {
    /// The official DA5401 metric set gets the da5401 profile; any other set trains on real rows.
    @Test func profileFollowsTheMetricSet() throws {
        let relations = try #require(try MetricRelations.shipped("relations-da5401"))
        let fx = try Fixture()
        try fx.write("metric_names.json", "[" + relations.names.sorted().map(JSONQuoting.quote).joined(separator: ",") + "]")
        try fx.write("train_data.json", "[]")
        try fx.write("test_data.json", "[]")
        let store = try fx.openStore()
        _ = try Ingest(store: store).run(folder: fx.folder, options: .init(datasetName: "official"))
        #expect(try store.read { try AugmentationProfile.detect($0, dataset: "official") }.0 == .da5401)
        #expect(AugmentationProfile.da5401.stages == Set(Augment.Stage.allCases))

        let other = try Fixture()
        let demo = try other.demoStore(train: 10, test: 2)
        #expect(try demo.read { try AugmentationProfile.detect($0, dataset: "demo") }.0 == .realOnly)
        #expect(AugmentationProfile.realOnly.stages.isEmpty)
    }
}

/// Progress a person can watch: training reports every boosting round and epoch against the
/// whole job's total (the CV folds and the final fit), never backwards.
@Suite struct TrainingProgressTests {
    final class Recorder: ProgressSink, @unchecked Sendable {
        let lock = NSLock()
        var steps: [(phase: String, done: Int, total: Int?)] = []
        var finished: [String] = []
        func note(_ message: String) {}
        func advance(phase: String, done: Int, total: Int?, unit: String) { lock.withLock { steps.append((phase, done, total)) } }
        func finish(phase: String) { lock.withLock { finished.append(phase) } }
    }

    @Test(arguments: [ModelKind.boosted, .seed])
    func everyStepAdvancesTheBar(model: ModelKind) throws {
        let fx = try Fixture()
        let (store, key) = try DamagedVectorTests.store(fx)
        var options = TrainModel.Options(dataset: "demo", encoderKey: key)
        options.model = model
        options.cvFolds = 2
        options.boosting.trees = 30
        options.network = [16, 8, 4]
        options.training.maxEpochs = 4
        options.training.earlyStoppingPatience = 100
        let recorder = Recorder()
        _ = try TrainModel(store: store, progress: recorder).run(options)
        let perFit = model == .boosted ? 30 : 4
        let total = 3 * perFit
        #expect(!recorder.steps.isEmpty && recorder.steps.allSatisfy { $0.total == total })
        let done = recorder.steps.map(\.done)
        #expect(zip(done, done.dropFirst()).allSatisfy { $0 <= $1 }, "never backwards: \(done)")
        #expect(done.last == total && Set(done).count >= total, "each of the \(total) steps is reported")
        #expect(recorder.finished == [recorder.steps[0].phase])
    }
}
