import FitFormats
import FitStore
import Foundation
import GRDB

/// `fitstore checkpoints`: every checkpoint of a data set as a competitor compares them (model,
/// encoders, feature columns, synthetic generators, CV RMSE, test RMSE where scored, training
/// time, size), and what differs between two of them.
public struct CheckpointList {
    public struct Entry: Sendable {
        public var id: Int64
        public var createdAt: String
        public var model: String
        public var profile: String?
        public var encoders: String
        public var featureColumns: Int
        public var synthetic: [String]
        public var trainingDigest: String
        public var cv: CrossValidation.Result?
        public var test: (rmse: Double, rows: Int, labels: String)?
        public var seconds: Double?
        public var weightBytes: Int
        /// The settings, flattened to "path = value" (for comparisons).
        public var settings: [String: String]
        /// True when the model is the bag of its CV fold models.
        public var bagged = false
        /// Why the checkpoint cannot be used, when its settings cannot be read (it is listed
        /// anyway, so that one damaged row does not hide the others).
        public var damage: String?
        /// The model as listings show it: "boosted (bag)" for a bag, "(damaged)" after a model
        /// whose settings cannot be read.
        public var modelLabel: String { model + (bagged ? " (bag)" : "") + (damage != nil ? " (damaged)" : "") }
    }

    let store: Store

    public init(store: Store) { self.store = store }

    public func entries(dataset: String) throws -> [Entry] {
        try store.read { db in
            let datasetID = try DatasetResolver.require(db, dataset).id
            let scores = try CheckpointScore.latest(db, dataset: datasetID)
            return try Checkpoint.listed(db, dataset: datasetID).map { item in
                let c = item.checkpoint
                let evaluation = try? JSONDecoder().decode(TrainModel.Evaluation.self, from: Data(c.evaluation.utf8))
                var settings: [String: String] = [:]
                if case .object(let object)? = try? JSONDocument.parse(Array(c.config.utf8), file: "checkpoint \(c.id) config") {
                    Self.flatten(.object(object), path: "", into: &settings)
                }
                // What every checkpoint shows; a trained model's settings add the rest.
                var entry = Entry(id: c.id, createdAt: c.createdAt, model: c.model, profile: nil, encoders: item.encoderName ?? "–",
                                  featureColumns: 0, synthetic: [], trainingDigest: c.trainingDigest, cv: evaluation?.crossValidation,
                                  test: scores[c.id].map { ($0.rmse, $0.rows, $0.labelsPath) }, seconds: item.seconds,
                                  weightBytes: item.weightBytes, settings: settings)
                guard c.model != "blend" else { return entry }
                do {
                    let config = try JSONDecoder().decode(TrainModel.Config.self, from: Data(c.config.utf8))
                    entry.profile = config.profile
                    entry.featureColumns = config.features.width
                    entry.synthetic = config.origins.filter { $0 != "real" }
                    entry.bagged = evaluation?.bagged == true
                } catch {
                    entry.damage = "checkpoint \(c.id)'s config is not one fitstore wrote: \(DecodingWords.sentence(error))"
                }
                return entry
            }
        }
    }

    /// What differs between two checkpoints: settings, training rows, and CV per metric.
    public struct Comparison: Sendable {
        public var a: Entry
        public var b: Entry
        /// Setting paths whose values differ (nil: absent on that side).
        public var settings: [(path: String, a: String?, b: String?)]
        public var sameRows: Bool
        /// Per metric: rows, CV RMSE of a and of b (metrics in either).
        public var perMetric: [(metric: String, a: Float?, b: Float?)]
    }

    public func compare(dataset: String, _ a: Int64, _ b: Int64) throws -> Comparison {
        let all = try entries(dataset: dataset)
        let known = all.map(\.id)
        guard let ea = all.first(where: { $0.id == a }) else { throw PipelineError.unknownCheckpoint(id: a, dataset: dataset, known: known) }
        guard let eb = all.first(where: { $0.id == b }) else { throw PipelineError.unknownCheckpoint(id: b, dataset: dataset, known: known) }
        let paths = Set(ea.settings.keys).union(eb.settings.keys).sorted()
        let settings = paths.compactMap { p -> (String, String?, String?)? in
            ea.settings[p] == eb.settings[p] ? nil : (p, ea.settings[p], eb.settings[p])
        }
        let ma = Dictionary(uniqueKeysWithValues: (ea.cv?.perMetric ?? []).map { ($0.metric, $0.rmse) })
        let mb = Dictionary(uniqueKeysWithValues: (eb.cv?.perMetric ?? []).map { ($0.metric, $0.rmse) })
        let metrics = Set(ma.keys).union(mb.keys).sorted {
            abs((ma[$0] ?? 0) - (mb[$0] ?? 0)) > abs((ma[$1] ?? 0) - (mb[$1] ?? 0))
        }
        return Comparison(a: ea, b: eb, settings: settings, sameRows: ea.trainingDigest == eb.trainingDigest,
                          perMetric: metrics.map { ($0, ma[$0], mb[$0]) })
    }

    /// Leaves of a JSON value as "a.b[2].c" = value; long arrays (parameter layouts) as one summary.
    static func flatten(_ value: JSONValue, path: String, into out: inout [String: String]) {
        switch value {
        case .object(let o):
            for (k, v) in zip(o.keys, o.values) { flatten(v, path: path.isEmpty ? k : path + "." + k, into: &out) }
        case .array(let items):
            if items.count > 8 {
                out[path] = "[\(items.count) items]"
            } else {
                for (i, v) in items.enumerated() { flatten(v, path: "\(path)[\(i)]", into: &out) }
            }
        case .null: out[path] = "null"
        case .bool(let b): out[path] = "\(b)"
        case .number(let n): out[path] = n
        case .string(let s): out[path] = s
        }
    }
}
