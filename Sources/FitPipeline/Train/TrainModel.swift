import FitAugment
import FitFormats
import FitStore
import FitTrain
import Foundation
import GRDB

/// `fitstore train`: fits a model on a data set's training rows, evaluates it by K-fold
/// cross-validation on the real rows (grouped by item, synthetic descendants of held-out rows
/// kept out), and stores the checkpoint (weights, configuration, encoder, training-set digest,
/// history, evaluation against baselines), linked to its run.
public struct TrainModel {
    public struct Options: Sendable {
        public var dataset: String
        public var encoderKey: String
        public var model: ModelKind = .boosted
        public var network: [Int] = [1024, 512, 256]
        public var dropout: Float = 0.2
        public var training = TrainingOptions()
        public var boosting = BoostingOptions()
        /// Synthetic generators whose rows join the real ones in training (none: real only).
        public var syntheticGenerators: Set<String> = []
        /// The extra features (cosines, lengths); nil: on for boosted trees, off for the seed's
        /// model (whose input is the three vectors).
        public var extras: Bool?
        /// Vector blocks left out, for ablations.
        public var omitted: Set<FeatureSelection.VectorBlock> = []
        /// Folds of the cross-validation on real rows (0: none).
        public var cvFolds = 5
        /// The augmentation profile in force, recorded with the checkpoint (see `run`).
        public var profile = "custom"

        public init(dataset: String, encoderKey: String) {
            self.dataset = dataset
            self.encoderKey = encoderKey
        }

        var usesExtras: Bool { extras ?? (model == .boosted) }
    }

    /// What the checkpoint's evaluation column holds.
    public struct Evaluation: Codable, Sendable {
        /// The seed's random validation split (seed model only; it mixes synthetic rows).
        public var validationRows: Int?
        public var validationRMSE: Float?
        public var constantMeanRMSE: Float?
        public var perMetricMeanRMSE: Float?
        public var bestEpoch: Int?
        /// K-fold CV on real rows: the honest number.
        public var crossValidation: CrossValidation.Result?
    }

    public struct Report: Sendable {
        public var runID: Int64
        public var checkpointID: Int64
        public var model: ModelKind
        public var profile: String
        public var trainRows: Int
        public var syntheticRows: Int
        public var evaluation: Evaluation
        public var seconds: Double
        /// True when an identical checkpoint (same rows, same settings) was found and reused.
        public var reused = false
    }

    struct Config: Codable {
        let model: String
        let profile: String?
        let features: FeatureMatrix.Layout
        let origins: [String]
        let cv_folds: Int?
        // seed model
        let network: ResidualMLP.Config?
        let training: TrainingOptions?
        let parameter_count: Int?
        let state_count: Int?
        let parameter_layout: ParameterLayout?
        let state_layout: ParameterLayout?
        // boosted trees
        let boosting: BoostingOptions?
    }

    let store: Store
    let progress: any ProgressSink

    public init(store: Store, progress: any ProgressSink = SilentProgress()) {
        self.store = store
        self.progress = progress
    }

    public func run(_ options: Options) throws -> Report {
        let started = Date()
        let (features, lineage, metricNames) = try store.read { db in
            let f = try FeatureMatrix.load(db, dataset: options.dataset, selection: .train, encoderKey: options.encoderKey,
                                           syntheticGenerators: options.syntheticGenerators, extras: options.usesExtras,
                                           omitted: options.omitted)
            return (f, try Lineage.load(db, sampleIDs: f.sampleIDs), try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: """
                SELECT m.id, m.name FROM metric m JOIN dataset d ON d.id = m.dataset_id WHERE d.name = ?
                """, arguments: [options.dataset]).map { ($0[0] as Int64, $0[1] as String) }))
        }
        guard features.rows >= 10 else {
            throw StoreError.notFound("data set '\(options.dataset)' has \(features.rows) training rows; training needs at least 10")
        }
        let y = features.targets.map { $0! }
        var hasher = SHA256()
        FeatureMatrix.digest(&hasher, ids: features.sampleIDs, origins: features.generators)
        let trainingDigest = hasher.finalize().hexString
        let mlpConfig = ResidualMLP.Config(inputs: features.width, widths: options.network, dropout: options.dropout)
        let layouts = options.model == .seed ? ResidualMLP(config: mlpConfig, seed: 0) : nil
        let config = Config(model: options.model.rawValue, profile: options.profile, features: features.layout,
                            origins: ["real"] + options.syntheticGenerators.sorted(), cv_folds: options.cvFolds,
                            network: layouts.map { _ in mlpConfig }, training: layouts.map { _ in options.training },
                            parameter_count: layouts?.parameters.count, state_count: layouts?.state.count,
                            parameter_layout: layouts?.layout, state_layout: layouts?.stateLayout,
                            boosting: options.model == .boosted ? options.boosting : nil)
        let configText = try JSONText.encode(config)
        let syntheticRows = features.generators.filter { $0 != "real" }.count
        // Training is deterministic: the same rows and settings give the same checkpoint, so an
        // identical one already in the store is reused instead of recomputed.
        if let reused = try store.read({ db in
            try Row.fetchOne(db, sql: """
                SELECT c.id, c.run_id, c.evaluation FROM checkpoint c JOIN dataset d ON d.id = c.dataset_id
                 WHERE d.name = ? AND c.training_digest = ? AND c.config = ? ORDER BY c.id DESC LIMIT 1
                """, arguments: [options.dataset, trainingDigest, configText])
        }) {
            let evaluation = try JSONDecoder().decode(Evaluation.self, from: Data((reused["evaluation"] as String).utf8))
            return Report(runID: reused["run_id"], checkpointID: reused["id"], model: options.model, profile: options.profile,
                          trainRows: features.rows, syntheticRows: syntheticRows, evaluation: evaluation,
                          seconds: Date().timeIntervalSince(started), reused: true)
        }
        let runID = try store.write { db in
            try RunLedger.begin(db, kind: "train", parameters: ["dataset": options.dataset, "encoder": options.encoderKey,
                                                                 "model": options.model.rawValue, "profile": options.profile,
                                                                 "synthetic": options.syntheticGenerators.sorted().joined(separator: ",")])
        }
        // 1. Cross-validation on real rows.
        var foldHistory: [EpochRecord]?
        let cv = CrossValidation(folds: options.cvFolds, seed: options.training.seed).run(
            y: y, metrics: features.metricIDs, metricNames: metricNames, items: lineage.items(features), ancestors: lineage.ancestors(features),
            fit: { fold, rows in
                let (model, history) = fit(options, features: features, y: y, rows: rows, validation: fold == 0 ? nil : [], quiet: true)
                if fold == 0 { foldHistory = history }
                return { model.predict(x: features.values, rows: $0) }
            },
            foldDone: { fold, rmse in progress.note(String(format: "CV fold %d of %d: RMSE %.4f", fold + 1, options.cvFolds, rmse)) })
        // 2. The model itself, on every row.
        let all = Array(0..<features.rows)
        var evaluation = Evaluation(crossValidation: cv)
        let model: TrainedModel
        var history: [EpochRecord]
        switch options.model {
        case .seed:
            let fitted = fitSeed(options, features: features, y: y, rows: all, quiet: false)
            model = .seed(fitted.model)
            history = fitted.result.history
            let baselines = Self.baselines(y: y, metrics: features.metricIDs, train: fitted.train, validation: fitted.validation)
            evaluation.validationRows = fitted.validation.count
            evaluation.validationRMSE = fitted.result.bestValidationRMSE
            evaluation.constantMeanRMSE = baselines.constant
            evaluation.perMetricMeanRMSE = baselines.perMetric
            evaluation.bestEpoch = fitted.result.bestEpoch
        case .boosted:
            let (fitted, finalHistory) = fit(options, features: features, y: y, rows: all, validation: [], quiet: false)
            model = fitted
            // The stored history is CV fold 1's: its rounds carry a held-out RMSE.
            history = foldHistory ?? finalHistory
        }
        let checkpointID: Int64 = try store.write { db in
            let datasetID = try Int64.fetchOne(db, sql: "SELECT id FROM dataset WHERE name = ?", arguments: [options.dataset])!
            let encoderID = try Int64.fetchOne(db, sql: "SELECT id FROM encoder WHERE key = ?", arguments: [options.encoderKey])
            try db.execute(sql: """
                INSERT INTO checkpoint (run_id, dataset_id, model, config, encoder_id, training_digest, history, evaluation, weights, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [runID, datasetID, options.model.rawValue, configText, encoderID, trainingDigest,
                                 try JSONText.encode(history), try JSONText.encode(evaluation),
                                 VectorCodec.encode(model.flat, as: .lossless), Timestamp.now()])
            let id = db.lastInsertedRowID
            struct Counts: Encodable { let train_rows: Int; let synthetic_rows: Int; let epochs: Int; let checkpoint: Int64; let cv_rmse: Float? }
            try RunLedger.finish(db, run: runID, counts: Counts(train_rows: features.rows, synthetic_rows: syntheticRows,
                                                                 epochs: history.count, checkpoint: id, cv_rmse: cv?.rmse))
            return id
        }
        return Report(runID: runID, checkpointID: checkpointID, model: options.model, profile: options.profile,
                      trainRows: features.rows, syntheticRows: syntheticRows, evaluation: evaluation,
                      seconds: Date().timeIntervalSince(started), reused: false)
    }

    /// Fits the chosen model on `rows`. `validation` nil: the seed model takes its own random
    /// split of `rows` for early stopping; boosted trees then hold out nothing.
    private func fit(_ options: Options, features: FeatureMatrix, y: [Float], rows: [Int], validation: [Int]?,
                     quiet: Bool) -> (TrainedModel, [EpochRecord]) {
        switch options.model {
        case .seed:
            let fitted = fitSeed(options, features: features, y: y, rows: rows, quiet: quiet)
            return (.seed(fitted.model), fitted.result.history)
        case .boosted:
            // Fold 1 of CV keeps a held-out tenth for the history chart's validation curve.
            var train = rows, held: [Int] = []
            if validation == nil {
                held = stride(from: 0, to: rows.count, by: 10).map { rows[$0] }
                let heldSet = Set(held)
                train = rows.filter { !heldSet.contains($0) }
            }
            let (trees, history) = BoostedTreesTrainer(options: options.boosting).fit(
                x: features.values, width: features.width, y: y, train: train, validation: held) { record in
                if !quiet, (record.epoch + 1) % 100 == 0 {
                    progress.note(String(format: "round %4d  train MSE %.4f", record.epoch + 1, record.trainLoss))
                }
            }
            return (.boosted(trees), history)
        }
    }

    /// The seed's MLP on `rows`, with the seed's own random validation split of them for
    /// early stopping; per-epoch progress unless `quiet`.
    private func fitSeed(_ options: Options, features: FeatureMatrix, y: [Float], rows: [Int], quiet: Bool)
        -> (model: ResidualMLP, result: Trainer.Result, train: [Int], validation: [Int]) {
        let trainer = Trainer(options: options.training)
        let (t, v) = trainer.split(rows: rows.count)
        let (train, validation) = (t.map { rows[$0] }, v.map { rows[$0] })
        let mlp = ResidualMLP(config: .init(inputs: features.width, widths: options.network, dropout: options.dropout),
                              seed: options.training.seed)
        let result = trainer.fit(mlp, x: features.values, y: y, train: train, validation: validation) { record in
            if !quiet {
                progress.note(String(format: "epoch %3d  train MSE %.4f  validation RMSE %.4f  lr %.2e",
                                     record.epoch + 1, record.trainLoss, record.validationRMSE, record.learningRate))
            }
        }
        return (mlp, result, train, validation)
    }

    static func baselines(y: [Float], metrics: [Int64], train: [Int], validation: [Int]) -> (constant: Float, perMetric: Float) {
        let b = MeanBaselines(y: y, metrics: metrics, rows: train)
        func rmse(_ predict: (Int) -> Float) -> Float {
            (validation.map { let e = predict($0) - y[$0]; return e * e }.reduce(0, +) / Float(max(1, validation.count))).squareRoot()
        }
        return (rmse { _ in b.mean }, rmse { b.perMetric(metrics[$0]) })
    }

    /// Rebuilds the model of a stored checkpoint.
    static func loadModel(_ db: Database, checkpoint id: Int64) throws -> (TrainedModel, Config) {
        guard let row = try Row.fetchOne(db, sql: "SELECT config, weights FROM checkpoint WHERE id = ?", arguments: [id]) else {
            throw StoreError.notFound("no checkpoint \(id)")
        }
        let config = try JSONDecoder().decode(Config.self, from: Data((row["config"] as String).utf8))
        let weights = try VectorCodec.decode(row["weights"] as Data)
        let l = config.features
        let inputs = l.promptDims + l.responseDims + l.metricDims + (l.extras?.count ?? 0)
        switch ModelKind(rawValue: config.model) {
        case .boosted:
            do {
                return (.boosted(try BoostedTrees(flat: weights, inputs: inputs)), config)
            } catch {
                throw StoreError.notFound("checkpoint \(id): \(error)")
            }
        case .seed:
            guard let network = config.network, let parameters = config.parameter_count, let state = config.state_count else {
                throw StoreError.notFound("checkpoint \(id) lacks its network configuration")
            }
            let model = ResidualMLP(config: network, seed: 0)
            guard weights.count == parameters + state, parameters == model.parameters.count else {
                throw StoreError.notFound("checkpoint \(id) holds \(weights.count) values; its configuration needs \(model.parameters.count + model.state.count)")
            }
            model.parameters = Array(weights[0..<parameters])
            model.state = Array(weights[parameters...])
            return (.seed(model), config)
        case nil:
            throw StoreError.notFound("checkpoint \(id) is of an unknown model '\(config.model)'")
        }
    }
}

/// Which item each training row belongs to, and which real rows each synthetic row descends
/// from: what grouped cross-validation needs.
struct Lineage {
    var itemOfSample: [Int64: String] = [:]
    var parents: [Int64: [Int64]] = [:]

    static func load(_ db: Database, sampleIDs: [Int64]) throws -> Lineage {
        var l = Lineage()
        let wanted = Set(sampleIDs)
        guard let first = sampleIDs.first,
              let datasetID = try Int64.fetchOne(db, sql: "SELECT dataset_id FROM sample WHERE id = ?", arguments: [first]) else { return l }
        // The data set's train rows only; the set filter keeps the selection's rows.
        for row in try Row.fetchAll(db, sql: """
            SELECT id, prompt_text_id, response_text_id FROM sample WHERE dataset_id = ? AND split = 'train' AND origin = 'real'
            """, arguments: [datasetID]) {
            let id: Int64 = row[0]
            guard wanted.contains(id) else { continue }
            l.itemOfSample[id] = "\(row[1] as Int64? ?? 0):\(row[2] as Int64? ?? 0)"
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT p.sample_id, p.parent_id FROM sample_parent p JOIN sample s ON s.id = p.sample_id
             WHERE s.dataset_id = ? ORDER BY p.sample_id, p.ordinal
            """, arguments: [datasetID]) {
            l.parents[row[0], default: []].append(row[1])
        }
        return l
    }

    func items(_ f: FeatureMatrix) -> [String?] { f.sampleIDs.map { itemOfSample[$0] } }

    /// Row indices of the real ancestors of each synthetic row (following synthetic parents).
    func ancestors(_ f: FeatureMatrix) -> [[Int]] {
        let rowOf = Dictionary(uniqueKeysWithValues: f.sampleIDs.enumerated().map { ($1, $0) })
        func roots(_ id: Int64, depth: Int) -> [Int64] {
            if itemOfSample[id] != nil || depth > 16 { return [id] }
            return (parents[id] ?? []).flatMap { roots($0, depth: depth + 1) }
        }
        return f.sampleIDs.map { id in
            itemOfSample[id] != nil ? [] : (parents[id] ?? []).flatMap { roots($0, depth: 0) }.compactMap { rowOf[$0] }
        }
    }
}
