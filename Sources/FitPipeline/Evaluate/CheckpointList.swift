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
        /// The checkpoint's CV RMSE, the one number shown wherever it appears: the RMSE of its
        /// stored out-of-fold predictions (`Evaluation.outOfFoldRMSE`).
        public var cvRMSE: Float?
        /// Whether it is the data set's chosen checkpoint, and what comparisons said of it.
        public var chosen = false
        public var comparisons: [String] = []
        public var test: (rmse: Double, rows: Int, labels: String)?
        public var seconds: Double?
        public var weightBytes: Int
        /// The settings, flattened to "path = value" (for comparisons).
        public var settings: [String: String]
        /// True when the model is the bag of its CV fold models.
        public var bagged = false
        /// Which rows each CV fold held out, as a digest (`OutOfFoldPredictions.foldDigest`;
        /// nil without out-of-fold predictions, or when they cannot be read): two CV RMSEs are
        /// comparable only when these are equal.
        public var folds: String?
        /// Why the checkpoint cannot be used, when its settings cannot be read (it is listed
        /// anyway, so that one damaged row does not hide the others).
        public var damage: String?
        /// The model as listings show it: "boosted (bag)" for a bag, "(damaged)" after a model
        /// whose settings cannot be read.
        public var modelLabel: String { model + (bagged ? " (bag)" : "") + (damage != nil ? " (damaged)" : "") }
        /// "chosen", "compared, not chosen", or empty.
        public var status: String {
            if chosen { return "chosen" }
            return comparisons.isEmpty ? "" : "compared, not chosen"
        }
    }

    let store: Store

    public init(store: Store) { self.store = store }

    public func entries(dataset: String) throws -> [Entry] {
        try store.read { db in
            let datasetID = try DatasetResolver.require(db, dataset).id
            let scores = try CheckpointScore.latest(db, dataset: datasetID)
            let chosen = try ChosenCheckpoint.current(db, dataset: datasetID)?.checkpoint
            var comparisonsOf: [Int64: [String]] = [:]
            for c in try FitStore.Comparison.all(db, dataset: datasetID) {
                for (position, candidate) in c.candidates.enumerated() {
                    guard let id = candidate.checkpoint else { continue }
                    comparisonsOf[id, default: []].append("\(position == c.kept ? "won" : "lost") comparison \(c.id) (\(c.kind.rawValue))")
                }
            }
            return try Checkpoint.listed(db, dataset: datasetID).map { item in
                let c = item.checkpoint
                let evaluation = try? TrainModel.evaluation(of: c)
                var settings: [String: String] = [:]
                if case .object(let object)? = try? JSONDocument.parse(Array(c.config.utf8), file: "checkpoint \(c.id) config") {
                    Self.flatten(.object(object), path: "", into: &settings)
                }
                // What every checkpoint shows; a trained model's settings add the rest.
                var entry = Entry(id: c.id, createdAt: c.createdAt, model: c.model, profile: nil, encoders: item.encoderName ?? "–",
                                  featureColumns: 0, synthetic: [], trainingDigest: c.trainingDigest, cv: evaluation?.crossValidation,
                                  test: scores[c.id].map { ($0.rmse, $0.rows, $0.labelsPath) }, seconds: item.seconds,
                                  weightBytes: item.weightBytes, settings: settings)
                entry.cvRMSE = evaluation?.outOfFoldRMSE
                // A damaged cv_prediction row leaves the folds unknown rather than hiding the list.
                entry.folds = (try? OutOfFoldPredictions.foldDigest(db, checkpoint: c.id)) ?? nil
                entry.chosen = c.id == chosen
                entry.comparisons = comparisonsOf[c.id] ?? []
                guard c.model != "blend" else { return entry }
                do {
                    let config = try TrainModel.config(of: c)
                    entry.profile = config.profile
                    entry.featureColumns = config.features.width
                    entry.synthetic = config.origins.filter { $0 != "real" }
                    entry.bagged = evaluation?.bagged == true
                } catch {
                    entry.damage = "\(error)"
                }
                return entry
            }
        }
    }

    /// Which checkpoints' CV RMSEs can be set side by side. CV numbers from other folds are not
    /// comparable: on mixed the default model's CV moved from 2.2516 to 2.3155 with the fold
    /// partition alone (`--seed`, docs/results.md), more than most differences between
    /// settings. So the reference is the chosen checkpoint's folds (without a chosen one with
    /// CV: the folds most checkpoints share, the newest's on a tie), "best" is the lowest CV
    /// among checkpoints in those folds (or whose folds are unknown: kept before fitstore stored
    /// out-of-fold predictions), and the rest are listed as on other folds.
    public struct Comparability: Sendable, Equatable {
        public var reference: String?
        public var best: Int64?
        public var otherFolds: Set<Int64>
    }

    public static func comparability(_ entries: [Entry]) -> Comparability {
        let withCV = entries.filter { $0.cvRMSE != nil }
        var reference = entries.first(where: \.chosen)?.folds
        if reference == nil {
            var count: [String: (n: Int, newest: Int64)] = [:]
            for e in withCV { if let f = e.folds { count[f] = ((count[f]?.n ?? 0) + 1, max(count[f]?.newest ?? e.id, e.id)) } }
            reference = count.max { ($0.value.n, $0.value.newest) < ($1.value.n, $1.value.newest) }?.key
        }
        let other = Set(withCV.filter { sameFolds($0.folds, reference) == false }.map(\.id))
        let best = withCV.filter { !other.contains($0.id) }
            .min { ($0.cvRMSE ?? .infinity, -$0.id) < ($1.cvRMSE ?? .infinity, -$1.id) }?.id
        return Comparability(reference: reference, best: best, otherFolds: other)
    }

    /// Whether two fold digests (`Entry.folds`) name the same folds: nil when either is
    /// unknown, which is never taken for "other folds" (a checkpoint kept before out-of-fold
    /// predictions were stored, or whose rows cannot be read).
    public static func sameFolds(_ a: String?, _ b: String?) -> Bool? {
        guard let a, let b else { return nil }
        return a == b
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
        let ma = Dictionary((ea.cv?.perMetric ?? []).map { ($0.metric, $0.rmse) }, uniquingKeysWith: { a, _ in a })
        let mb = Dictionary((eb.cv?.perMetric ?? []).map { ($0.metric, $0.rmse) }, uniquingKeysWith: { a, _ in a })
        let rows = Dictionary(((ea.cv?.perMetric ?? []) + (eb.cv?.perMetric ?? [])).map { ($0.metric, $0.rows) }, uniquingKeysWith: max)
        // By each metric's share of the two checkpoints' squared error: where they lose most first.
        let share = { (m: String) -> Double in
            Double(rows[m] ?? 0) * (Double(ma[m] ?? 0) * Double(ma[m] ?? 0) + Double(mb[m] ?? 0) * Double(mb[m] ?? 0))
        }
        let metrics = Set(ma.keys).union(mb.keys).sorted { (share($0), $1) > (share($1), $0) }
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
