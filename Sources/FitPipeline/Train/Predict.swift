import FitStore
import FitTrain
import Foundation
import GRDB

/// `fitstore predict`: scores the test samples with a checkpoint, stores the predictions and
/// writes the `ID,score` submission (every test ID once, finite, clipped to [0, 10]).
public struct Predict {
    public struct Report: Sendable {
        public var checkpointID: Int64
        public var rows: Int
        public var mean: Float
        public var standardDeviation: Float
        /// Counts per integer bin 0...10.
        public var histogram: [Int]
        public var outPath: String
        /// False when the store was opened read-only: the file is written, the store is not.
        public var stored = true
        /// The records came from a file (`--input`), not from the store: nothing is stored.
        public var fromInput = false
    }

    let store: Store

    public init(store: Store) { self.store = store }

    /// A data set's checkpoint: `id`, or the newest.
    /// Checkpoint `id` of the data set, else the data set's chosen checkpoint (the one `run`
    /// chose or `promote` named), else, for a store whose data set has checkpoints but no
    /// choice (none is made outside `run`, `train`, `promote`), its newest.
    public static func checkpoint(_ db: Database, dataset: String, id: Int64? = nil) throws -> Checkpoint {
        let datasetID = try DatasetResolver.require(db, dataset).id
        if id == nil, let chosen = try ChosenCheckpoint.current(db, dataset: datasetID), let stored = try Checkpoint.fetch(db, id: chosen.checkpoint) {
            return stored
        }
        guard let stored = try Checkpoint.latest(db, dataset: datasetID, id: id) else {
            if let id { throw PipelineError.unknownCheckpoint(id: id, dataset: dataset, known: try Checkpoint.ids(db, dataset: datasetID)) }
            throw PipelineError.noCheckpoint(dataset: dataset)
        }
        return stored
    }

    /// A checkpoint of the data set trained on exactly these encoders' vectors: the chosen
    /// one when it is, else the one with the lowest CV RMSE (ties: the newest).
    public static func checkpoint(_ db: Database, dataset: String, encoderKeys: [String]) throws -> Checkpoint {
        let datasetID = try DatasetResolver.require(db, dataset).id
        var ids: [Int64] = []
        for key in encoderKeys {
            guard let encoder = try Encoder.keyed(db, key) else { throw PipelineError.noVectors(encoder: key) }
            ids.append(encoder.id)
        }
        let candidates = try Checkpoint.all(db, dataset: datasetID, encoders: ids)
        guard !candidates.isEmpty else {
            // The same encoders in another order make other feature columns: say so.
            if try Checkpoint.all(db, dataset: datasetID, encoders: ids, anyOrder: true).first != nil {
                throw PipelineError.encoderOrder(dataset: dataset, encoders: encoderKeys)
            }
            throw PipelineError.noCheckpointForEncoders(dataset: dataset, encoders: encoderKeys)
        }
        if let chosen = try ChosenCheckpoint.current(db, dataset: datasetID), let match = candidates.first(where: { $0.id == chosen.checkpoint }) {
            return match
        }
        let cv = { (c: Checkpoint) -> Float in
            (try? TrainModel.evaluation(of: c))?.outOfFoldRMSE ?? .infinity
        }
        return candidates.min { (cv($0), -$0.id) < (cv($1), -$1.id) } ?? candidates[candidates.count - 1]
    }

    /// A checkpoint's scores of the data set's test rows, computed (nothing is written).
    public struct Scores: Sendable {
        public var checkpointID: Int64
        public var sampleIDs: [Int64]
        public var positions: [Int?]
        public var scores: [Float]
    }

    /// Scores the test rows with checkpoint `checkpoint`, else the newest one trained on
    /// `encoderKeys` (when given), else the newest.
    /// With `input`, the records of that file (not in the store) instead of the test rows.
    public func scores(dataset: String, checkpoint: Int64?, encoderKeys: [String]? = nil, input: URL? = nil) throws -> Scores {
        try scores(dataset: dataset, checkpoint: checkpoint, encoderKeys: encoderKeys, input: input, depth: 0)
    }

    private func scores(dataset: String, checkpoint: Int64?, encoderKeys: [String]?, input: URL?, depth: Int) throws -> Scores {
        let stored = try store.read { db in
            try checkpoint == nil && encoderKeys != nil
                ? Self.checkpoint(db, dataset: dataset, encoderKeys: encoderKeys ?? [])
                : Self.checkpoint(db, dataset: dataset, id: checkpoint)
        }
        if stored.model == "blend" {
            // A blend: the weighted sum of its members' predictions (members may be blends).
            guard depth < 16 else { throw PipelineError.checkpointDamaged(id: stored.id, reason: "its blend members nest more than 16 deep") }
            let members = try store.read { try Blend.members($0, blend: stored) }
            var combined: Scores?
            for member in members {
                let s = try scores(dataset: dataset, checkpoint: member.checkpoint, encoderKeys: nil, input: input, depth: depth + 1)
                if var c = combined {
                    guard c.sampleIDs == s.sampleIDs else {
                        throw PipelineError.checkpointDamaged(id: stored.id, reason: "its members predict different test rows")
                    }
                    for i in c.scores.indices { c.scores[i] += Float(member.weight) * s.scores[i] }
                    combined = c
                } else {
                    combined = Scores(checkpointID: stored.id, sampleIDs: s.sampleIDs, positions: s.positions,
                                      scores: s.scores.map { Float(member.weight) * $0 })
                }
            }
            guard var result = combined else { throw PipelineError.checkpointDamaged(id: stored.id, reason: "it is a blend without members") }
            result.scores = result.scores.map { min(10, max(0, $0)) }
            return result
        }
        let (model, config, checkpointID) = try store.read { db -> (TrainedModel, TrainModel.Config, Int64) in
            let (m, c) = try TrainModel.loadModel(db, checkpoint: stored)
            return (m, c, stored.id)
        }
        let features: FeatureMatrix
        if let input {
            features = try InputFeatures(store: store, threads: ProcessInfo.processInfo.activeProcessorCount)
                .load(dataset: dataset, layout: config.features, url: input).matrix
        } else {
            features = try store.read {
                try FeatureMatrix.load($0, dataset: dataset, selection: .test, encoderKeys: config.features.encoderKeys,
                                       extras: !(config.features.extras ?? []).isEmpty, system: (config.features.systemDims ?? 0) > 0,
                                       interactions: !(config.features.interactions ?? []).isEmpty,
                                       omitted: config.features.omitted)
            }
        }
        guard features.width == model.inputs else {
            throw PipelineError.featureWidthMismatch(checkpoint: checkpointID, expected: model.inputs, got: features.width)
        }
        // The model reads rows * width values: a layout that promises more than the vectors give is refused here.
        guard features.values.count == features.rows * features.width else {
            throw PipelineError.checkpointDamaged(id: checkpointID, reason: "its feature layout (\(features.width) columns) does not match the vectors the store gives")
        }
        let scores = model.predict(x: features.values, rows: Array(0..<features.rows))
        return Scores(checkpointID: checkpointID, sampleIDs: features.sampleIDs, positions: features.positions, scores: scores)
    }

    /// Scores the records of `input` (a DA5401 test-layout file, not in the store) and writes
    /// `ID,score` with ID = 1-based record position in that file. Nothing is stored.
    public func run(dataset: String, checkpoint: Int64?, encoderKeys: [String]? = nil, input: URL, out: URL) throws -> Report {
        let computed = try scores(dataset: dataset, checkpoint: checkpoint, encoderKeys: encoderKeys, input: input)
        var lines = ["ID,score"]
        for (position, score) in zip(computed.positions, computed.scores) {
            lines.append("\((position ?? 0) + 1),\(String(format: "%.4f", min(10, max(0, score))))")
        }
        let staged = try OutputFile(out, store: store.path)
        try staged.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        try staged.commit()
        var report = Self.report(checkpoint: computed.checkpointID, scores: computed.scores, out: out, stored: false)
        report.fromInput = true
        return report
    }

    /// Predicts with checkpoint `checkpoint`, else the newest one trained on `encoderKeys`
    /// (when given), else the newest; writes the submission and stores the predictions.
    public func run(dataset: String, checkpoint: Int64?, encoderKeys: [String]? = nil, out: URL) throws -> Report {
        let computed = try scores(dataset: dataset, checkpoint: checkpoint, encoderKeys: encoderKeys)
        let (checkpointID, scores) = (computed.checkpointID, computed.scores)
        let features = (positions: computed.positions, sampleIDs: computed.sampleIDs)
        // ID = 1-based record position in test_data.json.
        var lines = ["ID,score"]
        for (position, score) in zip(features.positions, scores).sorted(by: { ($0.0 ?? 0) < ($1.0 ?? 0) }) {
            lines.append("\((position ?? 0) + 1),\(String(format: "%.4f", score))")
        }
        // The run begins (once the path is known to be writable); the file is written under a
        // temporary name; the predictions are stored; the file takes its name; the run is
        // 'succeeded'. A failure anywhere marks the run failed with its cause (a full disk
        // included); a kill anywhere leaves it 'running' until the next writer marks it
        // interrupted: no run is 'succeeded' without its file in place, and predictions once
        // committed stay.
        let staged = try OutputFile(out, store: store.path)
        let text = Data((lines.joined(separator: "\n") + "\n").utf8)
        guard store.access == .readWrite else {
            try staged.write(text)
            try staged.commit()
            return Self.report(checkpoint: checkpointID, scores: scores, out: out, stored: false)
        }
        let parameters = ["dataset": dataset, "checkpoint": "\(checkpointID)", "out": out.path]
        let runID = try store.write(recordingFailureOf: "predict", parameters: parameters) {
            try RunLedger.begin($0, kind: "predict", parameters: parameters)
        }
        try store.failingRun(runID) {
            try staged.write(text)
            KillPoint.reach("predict.written")
            try store.write { try Predictions.upsert($0, checkpoint: checkpointID, Array(zip(features.sampleIDs, scores)), run: runID) }
            KillPoint.reach("predict.stored")
            try staged.commit()
            KillPoint.reach("predict.renamed")
            try store.write { try RunLedger.finish($0, run: runID, counts: ["predictions": scores.count]) }
        }
        return Self.report(checkpoint: checkpointID, scores: scores, out: out, stored: true)
    }

    static func report(checkpoint: Int64, scores: [Float], out: URL, stored: Bool) -> Report {
        let mean = scores.reduce(0, +) / Float(max(1, scores.count))
        let sd = (scores.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(max(1, scores.count))).squareRoot()
        var histogram = [Int](repeating: 0, count: 11)
        for s in scores { histogram[ScoreBin.of(s)] += 1 }
        return Report(checkpointID: checkpoint, rows: scores.count, mean: mean, standardDeviation: sd, histogram: histogram,
                      outPath: out.path, stored: stored)
    }
}
