import FitFormats
import FitStore
import Foundation
import GRDB

/// `fitstore blend A B ...`: a checkpoint whose prediction is a weighted sum of earlier
/// checkpoints' predictions. The weights are fitted (non-negative least squares) or equal,
/// on the members' out-of-fold predictions, so nothing is trained again; and the blend's own
/// CV is honest: for each fold, weights fitted on the other folds' out-of-fold predictions
/// predict the fold's rows. A blend is stored like any checkpoint (model 'blend', its members
/// in `blend_member`, its out-of-fold predictions in `cv_prediction`), so `predict`,
/// `score`, `checkpoints` and a later blend treat it like the others.
public struct Blend {
    public enum Weighting: String, Sendable, CaseIterable, Codable {
        /// Non-negative least squares on the out-of-fold predictions.
        case fit
        /// Every member the same weight.
        case mean
    }

    /// What a blend checkpoint's config holds.
    struct Config: Codable {
        let model: String
        let members: [Int64]
        let weights: [Double]
        let weighting: Weighting
        let folds_from: Int64
    }

    public struct Report: Sendable {
        public var checkpointID: Int64
        public var members: [(checkpoint: Int64, weight: Double, cvRMSE: Float?)]
        public var evaluation: CrossValidation.Result
        public var reused: Bool
        /// Each member's per-fold RMSE on the blend's folds (from its out-of-fold predictions).
        public var memberFoldRMSE: [[Double]] = []
        /// The member with the lowest CV, and the blend judged against it (`NoiseRule`).
        public var bestMember: Int64 = 0
        public var verdict = NoiseRule.Verdict(meanGain: 0, standardError: .infinity, keepComplex: false)
        /// Members whose fitted weight is below `weightFloor`: a blend that gives a member so
        /// little is the blend of the others (of two members: the other member).
        public var belowFloor: [Int64] = []
        /// The comparison of the best member (0) with the blend (1), as `Choices` records it.
        public var comparison: Comparison.New?

        /// Whether the blend is kept over its best member: it beats its noise, and no member's
        /// weight is below the floor.
        public var beatsBestMember: Bool { verdict.keepComplex && belowFloor.isEmpty }
    }

    /// The smallest weight a fitted blend may give a member and still be a blend of it.
    public static let weightFloor = 0.05

    let store: Store

    public init(store: Store) { self.store = store }

    public func run(dataset: String, members ids: [Int64], weighting: Weighting) throws -> Report {
        guard Set(ids).count == ids.count, ids.count >= 2 else {
            throw PipelineError.badBlend(reason: "give at least two different checkpoints (got \(ids.map(String.init).joined(separator: ", ")))")
        }
        let (datasetID, members, outOfFold, labels) = try store.read { db in
            let datasetID = try DatasetResolver.require(db, dataset).id
            var members: [Checkpoint] = []
            var outOfFold: [[Int64: OutOfFoldPredictions.Entry]] = []
            for id in ids {
                guard let c = try Checkpoint.fetch(db, id: id), c.dataset == datasetID else {
                    throw PipelineError.unknownCheckpoint(id: id, dataset: dataset, known: try Checkpoint.ids(db, dataset: datasetID))
                }
                let oof = try OutOfFoldPredictions.fetch(db, checkpoint: id)
                guard !oof.isEmpty else {
                    throw PipelineError.badBlend(reason: "checkpoint \(id) kept no out-of-fold predictions (trained with --cv-folds 0, or "
                                                 + "before fitstore kept them): train it again, then blend")
                }
                members.append(c)
                outOfFold.append(oof)
            }
            let labels = try RealSamples.trainLabels(db, ids: Array(outOfFold[0].keys))
            return (datasetID, members, outOfFold, labels)
        }
        // The members must have predicted the same rows out of fold.
        let rows = outOfFold[0].keys.filter { labels[$0] != nil }.sorted()
        for (i, oof) in outOfFold.enumerated().dropFirst() where Set(oof.keys) != Set(outOfFold[0].keys) {
            throw PipelineError.badBlend(reason: "checkpoints \(ids[0]) and \(ids[i]) were cross-validated on different rows "
                                         + "(\(outOfFold[0].count) and \(oof.count) real rows): blend checkpoints trained on the same data")
        }
        // ... in the same folds: weights fitted without a fold are honest only if no member saw
        // that fold's rows (or, through wider CV groups, their versions) in training.
        for (i, oof) in outOfFold.enumerated().dropFirst() where rows.contains(where: { oof[$0]?.fold != outOfFold[0][$0]?.fold }) {
            throw PipelineError.badBlend(reason: "checkpoints \(ids[0]) and \(ids[i]) were cross-validated in different folds "
                                         + "(another --cv-groups or --seed): train them with the same folds, then blend")
        }
        guard rows.count >= 2 else { throw PipelineError.badBlend(reason: "the members' out-of-fold predictions cover \(rows.count) labelled rows") }
        let y = rows.map { labels[$0]?.score ?? 0 }
        let metric = rows.map { labels[$0]?.metric ?? "" }
        let p = outOfFold.map { oof in rows.map { oof[$0]?.score ?? 0 } }
        // The first member's folds: each row is predicted by weights fitted without its fold.
        let fold = rows.map { outOfFold[0][$0]?.fold ?? 0 }
        let folds = (fold.max() ?? 0) + 1
        var blended = [Double](repeating: 0, count: rows.count)
        var constant = blended, perMetricMean = blended
        var foldRMSE: [Float] = []
        for f in 0..<folds {
            let train = rows.indices.filter { fold[$0] != f }, test = rows.indices.filter { fold[$0] == f }
            guard !test.isEmpty else { continue }
            let w = Self.weights(p, y, rows: train, weighting: weighting)
            for r in test { blended[r] = min(10, max(0, zip(w, p).reduce(0) { $0 + $1.0 * $1.1[r] })) }
            let baselines = MeanBaselines(y: y, metrics: metric, rows: train)
            for r in test {
                constant[r] = baselines.mean
                perMetricMean[r] = baselines.perMetric(metric[r])
            }
            foldRMSE.append(Float(Self.rmse(blended, y, test)))
        }
        let weights = Self.weights(p, y, rows: Array(rows.indices), weighting: weighting)
        let all = Array(rows.indices)
        let perMetric = Dictionary(grouping: all, by: { metric[$0] }).map { name, r in
            CrossValidation.MetricResult(metric: name, rows: r.count, rmse: Float(Self.rmse(blended, y, r)),
                                         perMetricMeanRMSE: Float(Self.rmse(perMetricMean, y, r)))
        }.sorted { ($0.rows, $1.metric) > ($1.rows, $0.metric) }
        var evaluation = CrossValidation.Result(
            folds: folds, rows: rows.count, rmse: Float(Self.rmse(blended, y, all)), constantMeanRMSE: Float(Self.rmse(constant, y, all)),
            perMetricMeanRMSE: Float(Self.rmse(perMetricMean, y, all)), foldRMSE: foldRMSE, excludedDescendants: 0,
            grouping: "the folds of checkpoint \(ids[0]); weights fitted without the held-out fold", perMetric: perMetric)
        evaluation.heldOut = all.map { ($0, fold[$0], Float(blended[$0])) }

        let config = Config(model: "blend", members: ids, weights: weights, weighting: weighting, folds_from: ids[0])
        let configText = try JSONText.encode(config)
        var hasher = SHA256()
        hasher.update("blend \(weighting.rawValue)\n")
        for m in members { hasher.update("\(m.id) \(m.trainingDigest)\n") }
        let digest = hasher.finalize().hexString
        // Each member's RMSE on the out-of-fold predictions the weights are fitted on.
        let memberCV: [Float?] = members.map { (try? TrainModel.evaluation(of: $0))?.outOfFoldRMSE }
        // Each member on the blend's folds, and the blend against the best of them.
        let memberFolds = p.map { predictions in (0..<folds).map { f in Self.rmse(predictions, y, rows.indices.filter { fold[$0] == f }) } }
        let memberOverall = p.map { Self.rmse($0, y, all) }
        let best = memberOverall.indices.min { (memberCV[$0].map(Double.init) ?? memberOverall[$0], $0) < (memberCV[$1].map(Double.init) ?? memberOverall[$1], $1) } ?? 0
        let belowFloor = weighting == .fit ? zip(ids, weights).filter { $0.1 < Self.weightFloor }.map(\.0) : []
        let report = { (id: Int64, reused: Bool) -> Report in
            var r = Report(checkpointID: id, members: zip(ids, zip(weights, memberCV)).map { ($0, $1.0, $1.1) }, evaluation: evaluation, reused: reused)
            r.memberFoldRMSE = memberFolds
            r.bestMember = ids[best]
            r.belowFloor = belowFloor
            let floorReason = belowFloor.isEmpty ? nil
                : "the weight of checkpoint\(belowFloor.count > 1 ? "s" : "") \(belowFloor.map(String.init).joined(separator: ", ")) is below the floor \(Self.weightFloor)"
            let (comparison, verdict) = Comparison.New.judged(
                kind: .blend,
                simple: Comparison.Candidate(checkpoint: ids[best], label: "checkpoint \(ids[best]), the best member",
                                             cvRMSE: Double(memberCV[best] ?? Float(memberOverall[best])), foldRMSE: memberFolds[best]),
                complex: Comparison.Candidate(checkpoint: id, label: "blend of \(ids.map(String.init).joined(separator: " + "))",
                                              cvRMSE: Double(evaluation.rmse), foldRMSE: evaluation.foldRMSE.map(Double.init)),
                forceSimple: floorReason)
            r.verdict = verdict
            r.comparison = comparison
            return r
        }
        if let same = try store.read({ try Checkpoint.identical($0, dataset: datasetID, trainingDigest: digest, config: configText) }) {
            return report(same.id, true)
        }
        let id = try store.write(recordingFailureOf: "blend", parameters: ["dataset": dataset]) { db -> Int64 in
            let runID = try RunLedger.begin(db, kind: "blend", parameters: ["dataset": dataset, "members": ids.map(String.init).joined(separator: ","),
                                                                           "weighting": weighting.rawValue])
            var encoders: [Int64] = []
            for m in members {
                for e in try m.encoders(db) where !encoders.contains(e.id) { encoders.append(e.id) }
            }
            let id = try Checkpoint.insert(db, run: runID, dataset: datasetID, model: "blend", config: configText, encoders: encoders,
                                           trainingDigest: digest, history: "[]",
                                           evaluation: try JSONText.encode(TrainModel.Evaluation(crossValidation: evaluation)),
                                           weights: weights.map { Float($0) })
            try BlendMembers.insert(db, blend: id, Array(zip(ids, weights)))
            try OutOfFoldPredictions.insert(db, checkpoint: id, all.map { .init(sample: rows[$0], fold: fold[$0], score: blended[$0]) })
            try RunLedger.finish(db, run: runID, counts: ["checkpoint": id])
            return id
        }
        return report(id, false)
    }

    /// The members' weights on `rows`: equal, or non-negative least squares (coordinate
    /// descent on the normal equations, from equal weights, to convergence: deterministic).
    static func weights(_ p: [[Double]], _ y: [Double], rows: [Int], weighting: Weighting) -> [Double] {
        let m = p.count
        var w = [Double](repeating: 1 / Double(m), count: m)
        guard weighting == .fit, !rows.isEmpty else { return w }
        var gram = [[Double]](repeating: [Double](repeating: 0, count: m), count: m), b = [Double](repeating: 0, count: m)
        for i in 0..<m {
            for r in rows { b[i] += p[i][r] * y[r] }
            for j in 0..<m { for r in rows { gram[i][j] += p[i][r] * p[j][r] } }
        }
        for _ in 0..<10_000 {
            var change = 0.0
            for j in 0..<m where gram[j][j] > 0 {
                var s = b[j]
                for k in 0..<m where k != j { s -= gram[j][k] * w[k] }
                let next = max(0, s / gram[j][j])
                change = max(change, abs(next - w[j]))
                w[j] = next
            }
            if change < 1e-12 { break }
        }
        return w
    }

    static func rmse(_ predicted: [Double], _ y: [Double], _ rows: [Int]) -> Double {
        guard !rows.isEmpty else { return .nan }
        return (rows.map { (predicted[$0] - y[$0]) * (predicted[$0] - y[$0]) }.reduce(0, +) / Double(rows.count)).squareRoot()
    }

    /// A blend's members and weights, read from its checkpoint.
    static func members(_ db: Database, blend: Checkpoint) throws -> [(checkpoint: Int64, weight: Double)] {
        let members = try BlendMembers.fetch(db, blend: blend.id)
        guard members.count >= 2, members.allSatisfy({ $0.weight.isFinite && $0.weight >= 0 && $0.checkpoint != blend.id }) else {
            throw PipelineError.checkpointDamaged(id: blend.id, reason: "it is a blend without two valid members")
        }
        return members
    }
}
