import FitAugment
import FitFormats
import FitStore
import FitTrain
import Foundation
import GRDB

/// `fitstore train`: fits the seed's residual MLP on a data set's training rows and stores
/// the checkpoint (weights, configuration, encoder, training-set digest, per-epoch history,
/// evaluation against baselines), linked to its run.
public struct TrainModel {
    public struct Options: Sendable {
        public var dataset: String
        public var encoderKey: String
        public var network: [Int] = [1024, 512, 256]
        public var dropout: Float = 0.2
        public var training = TrainingOptions()
        /// Synthetic generators whose rows join the real ones in training (none: real only).
        public var syntheticGenerators: Set<String> = []

        public init(dataset: String, encoderKey: String) {
            self.dataset = dataset
            self.encoderKey = encoderKey
        }
    }

    public struct Evaluation: Codable, Sendable {
        public var validationRows: Int
        public var validationRMSE: Float
        public var constantMeanRMSE: Float
        public var perMetricMeanRMSE: Float
        public var bestEpoch: Int
    }

    public struct Report: Sendable {
        public var runID: Int64
        public var checkpointID: Int64
        public var trainRows: Int
        public var evaluation: Evaluation
        public var seconds: Double
        /// True when an identical checkpoint (same rows, same settings) was found and reused.
        public var reused = false
    }

    struct Config: Codable {
        let model: String
        let network: ResidualMLP.Config
        let training: TrainingOptions
        let features: FeatureMatrix.Layout
        let parameter_count: Int
        let state_count: Int
        let parameter_layout: ParameterLayout
        let state_layout: ParameterLayout
        let origins: [String]
    }

    let store: Store
    let progress: any ProgressSink

    public init(store: Store, progress: any ProgressSink = SilentProgress()) {
        self.store = store
        self.progress = progress
    }

    public func run(_ options: Options) throws -> Report {
        let started = Date()
        let features = try store.read {
            try FeatureMatrix.load($0, dataset: options.dataset, selection: .train, encoderKey: options.encoderKey,
                                   syntheticGenerators: options.syntheticGenerators)
        }
        guard features.rows >= 10 else {
            throw StoreError.notFound("data set '\(options.dataset)' has \(features.rows) training rows; training needs at least 10")
        }
        let y = features.targets.map { $0! }
        let trainer = Trainer(options: options.training)
        let (train, validation) = trainer.split(rows: features.rows)
        let model = ResidualMLP(config: .init(inputs: features.width, widths: options.network, dropout: options.dropout),
                                seed: options.training.seed)
        var hasher = SHA256()
        for (id, generator) in zip(features.sampleIDs, features.generators) { hasher.update("\(id) \(generator)\n") }
        let trainingDigest = hasher.finalize().hexString
        let config = Config(model: "seed", network: model.config, training: options.training, features: features.layout,
                            parameter_count: model.parameters.count, state_count: model.state.count,
                            parameter_layout: model.layout, state_layout: model.stateLayout,
                            origins: ["real"] + options.syntheticGenerators.sorted())
        let configText = try JSONText.encode(config)
        // Training is deterministic: the same rows and settings give the same checkpoint, so an
        // identical one already in the store is reused instead of recomputed.
        if let reused = try store.read({ db in
            try Row.fetchOne(db, sql: """
                SELECT c.id, c.run_id, c.evaluation FROM checkpoint c JOIN dataset d ON d.id = c.dataset_id
                 WHERE d.name = ? AND c.training_digest = ? AND c.config = ? ORDER BY c.id DESC LIMIT 1
                """, arguments: [options.dataset, trainingDigest, configText])
        }) {
            let evaluation = try JSONDecoder().decode(Evaluation.self, from: Data((reused["evaluation"] as String).utf8))
            return Report(runID: reused["run_id"], checkpointID: reused["id"], trainRows: features.rows - evaluation.validationRows,
                          evaluation: evaluation, seconds: Date().timeIntervalSince(started), reused: true)
        }
        let runID = try store.write { db in
            try RunLedger.begin(db, kind: "train", parameters: ["dataset": options.dataset, "encoder": options.encoderKey, "model": "seed",
                                                                 "synthetic": options.syntheticGenerators.sorted().joined(separator: ",")])
        }
        let result = trainer.fit(model, x: features.values, y: y, train: train, validation: validation) { record in
            progress.note(String(format: "epoch %3d  train MSE %.4f  validation RMSE %.4f  lr %.2e",
                                 record.epoch + 1, record.trainLoss, record.validationRMSE, record.learningRate))
        }
        // Baselines on the same validation rows: the training mean, and each metric's mean.
        let trainMean = train.map { y[$0] }.reduce(0, +) / Float(train.count)
        var sums: [Int64: (Float, Int)] = [:]
        for r in train { let m = features.metricIDs[r]; let s = sums[m] ?? (0, 0); sums[m] = (s.0 + y[r], s.1 + 1) }
        func rmse(_ predict: (Int) -> Float) -> Float {
            (validation.map { let e = predict($0) - y[$0]; return e * e }.reduce(0, +) / Float(max(1, validation.count))).squareRoot()
        }
        let evaluation = Evaluation(
            validationRows: validation.count, validationRMSE: result.bestValidationRMSE,
            constantMeanRMSE: rmse { _ in trainMean },
            perMetricMeanRMSE: rmse { r in sums[features.metricIDs[r]].map { $0.0 / Float($0.1) } ?? trainMean },
            bestEpoch: result.bestEpoch)
        let checkpointID: Int64 = try store.write { db in
            let datasetID = try Int64.fetchOne(db, sql: "SELECT id FROM dataset WHERE name = ?", arguments: [options.dataset])!
            let encoderID = try Int64.fetchOne(db, sql: "SELECT id FROM encoder WHERE key = ?", arguments: [options.encoderKey])
            try db.execute(sql: """
                INSERT INTO checkpoint (run_id, dataset_id, model, config, encoder_id, training_digest, history, evaluation, weights, created_at)
                VALUES (?, ?, 'seed', ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [runID, datasetID, configText, encoderID, trainingDigest,
                                 try JSONText.encode(result.history), try JSONText.encode(evaluation),
                                 VectorCodec.encode(model.parameters + model.state, as: .lossless), Timestamp.now()])
            let id = db.lastInsertedRowID
            struct Counts: Encodable { let train_rows: Int; let validation_rows: Int; let epochs: Int; let checkpoint: Int64 }
            try RunLedger.finish(db, run: runID, counts: Counts(train_rows: train.count, validation_rows: validation.count,
                                                                 epochs: result.history.count, checkpoint: id))
            return id
        }
        return Report(runID: runID, checkpointID: checkpointID, trainRows: train.count, evaluation: evaluation,
                      seconds: Date().timeIntervalSince(started), reused: false)
    }

    /// Rebuilds the model of a stored checkpoint.
    static func loadModel(_ db: Database, checkpoint id: Int64) throws -> (ResidualMLP, Config) {
        guard let row = try Row.fetchOne(db, sql: "SELECT config, weights FROM checkpoint WHERE id = ?", arguments: [id]) else {
            throw StoreError.notFound("no checkpoint \(id)")
        }
        let config = try JSONDecoder().decode(Config.self, from: Data((row["config"] as String).utf8))
        let model = ResidualMLP(config: config.network, seed: 0)
        let weights = try VectorCodec.decode(row["weights"] as Data)
        guard weights.count == config.parameter_count + config.state_count, config.parameter_count == model.parameters.count else {
            throw StoreError.notFound("checkpoint \(id) holds \(weights.count) values; its configuration needs \(model.parameters.count + model.state.count)")
        }
        model.parameters = Array(weights[0..<config.parameter_count])
        model.state = Array(weights[config.parameter_count...])
        return (model, config)
    }
}
