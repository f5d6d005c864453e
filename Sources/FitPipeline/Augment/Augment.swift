import FitAugment
import FitFormats
import FitStore
import Foundation
import GRDB

/// `fitstore augment`: writes the seed's synthetic rows into the store with their
/// provenance (generator, version, parameters, parents, seed, run), incrementally.
///
/// A synthetic row's key is a digest of its provenance, so a rerun with the same settings
/// adds nothing, new real rows get their children on the next run, and children of retired
/// parents are retired with them. One transaction per run.
public struct Augment {
    public enum Stage: String, CaseIterable, Sendable {
        case opposite = "opposite_metric"
        case substitutable = "substitutable_metric"
        case negative = "negative"
    }

    public struct Options: Sendable {
        public var dataset: String
        public var relationsFile: URL?
        public var stages: Set<Stage> = Set(Stage.allCases)
        public var seed: UInt64 = 5401
        /// Stage 3 sizes (the seed's defaults: 12,000 low-band and 5,000 mid-band rows).
        public var lowCount = 12_000
        public var midCount = 5_000
        /// Stage 1 transform s' = base + span (10 - s) / 10 + jitter U(0, 1).
        public var opposite = OppositeMetricAugmenter()
        /// Stage 2 expands rows scored at most this.
        public var substituteMaxScore = 5.0
        /// Stage 3 label bands and noise levels.
        public var lowBand: ClosedRange<Double> = 1...3
        public var midBand: ClosedRange<Double> = 4...7
        public var lowSigma = 0.05
        public var midSigma = 0.02
        /// Encoder whose metric vectors rank "unrelated" metrics when the data set has no
        /// given vectors.
        public var encoderKey: String?

        public init(dataset: String) { self.dataset = dataset }
    }

    public struct Report: Sendable {
        public var runID: Int64?
        public var relations: String?
        public var added: [String: Int] = [:]
        public var retired = 0
        public var skipped: [String] = []
    }

    let store: Store

    public init(store: Store) { self.store = store }

    public func run(_ options: Options) throws -> Report {
        var report = Report()
        try store.write { db in
            guard let datasetID = try Int64.fetchOne(db, sql: "SELECT id FROM dataset WHERE name = ?", arguments: [options.dataset]) else {
                throw StoreError.notFound("no data set named '\(options.dataset)'")
            }
            let metricRows = try Row.fetchAll(db, sql: "SELECT name, id FROM metric WHERE dataset_id = ? AND position IS NOT NULL", arguments: [datasetID])
            let metricIDs = Dictionary(uniqueKeysWithValues: metricRows.map { ($0[0] as String, $0[1] as Int64) })
            let relations: MetricRelations?
            if let file = options.relationsFile {
                relations = try MetricRelations.load(file, metrics: Set(metricIDs.keys))
            } else {
                relations = try MetricRelations.builtIn(for: Set(metricIDs.keys))
            }
            report.relations = relations?.source
            let parentRows = try Row.fetchAll(db, sql: """
                SELECT s.id, m.name, s.score, s.prompt_text_id, s.response_text_id, s.system_text_id
                  FROM sample s JOIN metric m ON m.id = s.metric_id
                 WHERE s.dataset_id = ? AND s.split = 'train' AND s.origin = 'real' AND s.retired_run_id IS NULL
                 ORDER BY s.id
                """, arguments: [datasetID])
            let parents = parentRows.map { row -> ParentSample in
                let item = "\((row[3] as Int64?).map(String.init) ?? "-"):\((row[4] as Int64?).map(String.init) ?? "-")"
                return ParentSample(id: row[0], metric: row[1], score: row[2], item: item)
            }
            let texts = Dictionary(uniqueKeysWithValues: parentRows.map { ($0[0] as Int64, ($0[3] as Int64?, $0[4] as Int64?, $0[5] as Int64?)) })

            var specs: [SyntheticSpec] = []
            if let relations {
                if options.stages.contains(.opposite) {
                    var opposite = options.opposite
                    opposite.seed = options.seed
                    specs += opposite.generate(parents, relations: relations)
                }
                if options.stages.contains(.substitutable) {
                    var substitutable = SubstitutableMetricAugmenter()
                    substitutable.maxScore = options.substituteMaxScore
                    specs += substitutable.generate(parents, relations: relations)
                }
            } else {
                if options.stages.contains(.opposite) || options.stages.contains(.substitutable) {
                    report.skipped.append("no relations file fits this data set's metrics: stages 1-2 need one (--relations FILE; `fitstore relations suggest` proposes one)")
                }
            }
            if options.stages.contains(.negative) {
                let encoderID = try options.encoderKey.flatMap { try Int64.fetchOne(db, sql: "SELECT id FROM encoder WHERE key = ?", arguments: [$0]) }
                let (vectors, _) = try MetricVectors.load(db, datasetID: datasetID, encoderID: encoderID)
                var byDistance: [String: [String]] = [:]
                let named: [(String, [Float])] = metricIDs.compactMap { name, id in vectors[id].map { (name, $0) } }
                for (a, va) in named {
                    var scored: [(name: String, cosine: Float)] = []
                    for (b, vb) in named where b != a { scored.append((b, VectorMath.cosine(va, vb) ?? 0)) }
                    scored.sort { $0.cosine != $1.cosine ? $0.cosine < $1.cosine : $0.name < $1.name }
                    byDistance[a] = scored.map(\.name)
                }
                if byDistance.isEmpty {
                    report.skipped.append("no metric vectors (given or embedded): stage 3 makes no metric-swap rows")
                }
                var sampler = NegativeSampler(seed: options.seed)
                sampler.bands = [
                    .init(name: "low", count: options.lowCount, low: options.lowBand.lowerBound, high: options.lowBand.upperBound,
                          sigma: options.lowSigma, farQuantiles: 0...0.25),
                    .init(name: "mid", count: options.midCount, low: options.midBand.lowerBound, high: options.midBand.upperBound,
                          sigma: options.midSigma, farQuantiles: 0.25...0.5),
                ]
                specs += sampler.generate(parents, metricsByDistance: byDistance)
            }
            let existing = Set(try String.fetchAll(db, sql: """
                SELECT key FROM sample WHERE dataset_id = ? AND origin = 'synthetic' AND retired_run_id IS NULL
                """, arguments: [datasetID]))
            let fresh = specs.filter { !existing.contains($0.key) && metricIDs[$0.metric] != nil }
            let orphaned = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM sample s
                 WHERE s.dataset_id = ? AND s.origin = 'synthetic' AND s.retired_run_id IS NULL
                   AND EXISTS (SELECT 1 FROM sample_parent sp JOIN sample p ON p.id = sp.parent_id
                                WHERE sp.sample_id = s.id AND p.retired_run_id IS NOT NULL)
                """, arguments: [datasetID]) ?? 0
            guard !fresh.isEmpty || orphaned > 0 else { return }

            struct Parameters: Encodable {
                let dataset: String; let relations: String?; let stages: [String]; let seed: UInt64; let low_count: Int; let mid_count: Int
            }
            let runID = try RunLedger.begin(db, kind: "augment", parameters: Parameters(
                dataset: options.dataset, relations: relations?.source, stages: options.stages.map(\.rawValue).sorted(), seed: options.seed,
                low_count: options.lowCount, mid_count: options.midCount))
            report.runID = runID
            try db.execute(sql: """
                UPDATE sample SET retired_run_id = ?
                 WHERE dataset_id = ? AND origin = 'synthetic' AND retired_run_id IS NULL
                   AND EXISTS (SELECT 1 FROM sample_parent sp JOIN sample p ON p.id = sp.parent_id
                                WHERE sp.sample_id = sample.id AND p.retired_run_id IS NOT NULL)
                """, arguments: [runID, datasetID])
            report.retired = db.changesCount
            let insert = try db.cachedStatement(sql: """
                INSERT INTO sample (dataset_id, key, split, origin, metric_id, prompt_text_id, response_text_id, system_text_id,
                                    score, digest, generator, generator_version, parameters, seed, run_id)
                VALUES (?, ?, 'train', 'synthetic', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let link = try db.cachedStatement(sql: "INSERT INTO sample_parent (sample_id, ordinal, parent_id) VALUES (?, ?, ?)")
            for spec in fresh {
                // A shuffle row takes its texts from its second parent, its metric from the first.
                let t = spec.generator == NegativeSampler.generator(.shuffle) ? texts[spec.parents[1]]! : texts[spec.parents[0]]!
                try insert.execute(arguments: [
                    datasetID, spec.key, metricIDs[spec.metric]!, t.0, t.1, t.2, spec.score,
                    Data(SHA256.digest(spec.key + "|\(spec.score)")), spec.generator, spec.version, spec.parameters,
                    Int64(bitPattern: spec.seed), runID,
                ])
                let id = db.lastInsertedRowID
                for (ordinal, parent) in spec.parents.enumerated() { try link.execute(arguments: [id, ordinal, parent]) }
                report.added[spec.generator, default: 0] += 1
            }
            try RunLedger.finish(db, run: runID, counts: report.added.merging(["retired": report.retired]) { $1 })
        }
        return report
    }

    /// The generators that have rows in a data set, by name.
    public func generators(dataset: String) throws -> [String] {
        try store.read { db in
            try String.fetchAll(db, sql: """
                SELECT DISTINCT s.generator FROM sample s JOIN dataset d ON d.id = s.dataset_id
                WHERE d.name = ? AND s.generator IS NOT NULL ORDER BY 1
                """, arguments: [dataset])
        }
    }

    /// The generators `--drop NAME` removes: NAME itself, or all three of stage 3 when NAME
    /// is the stage's name ("negative"), whose rows carry one generator per corruption.
    public static func generators(dropping name: String) -> [String] {
        name == Stage.negative.rawValue ? NegativeSampler.Corruption.allCases.map(NegativeSampler.generator) : [name]
    }

    /// Deletes one generator's (or one stage's) rows of a data set; their parent links go
    /// with them, and no other row is touched.
    public func drop(dataset: String, generator: String) throws -> (runID: Int64?, removed: Int) {
        let generators = Self.generators(dropping: generator)
        let placeholders = Array(repeating: "?", count: generators.count).joined(separator: ",")
        return try store.write { db in
            guard let datasetID = try Int64.fetchOne(db, sql: "SELECT id FROM dataset WHERE name = ?", arguments: [dataset]) else {
                throw StoreError.notFound("no data set named '\(dataset)'")
            }
            let arguments: StatementArguments = [datasetID] + StatementArguments(generators)
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sample WHERE dataset_id = ? AND generator IN (\(placeholders))",
                                         arguments: arguments) ?? 0
            guard count > 0 else { return (nil, 0) }
            let runID = try RunLedger.begin(db, kind: "augment-drop", parameters: ["dataset": dataset, "generator": generator])
            try db.execute(sql: "DELETE FROM sample WHERE dataset_id = ? AND generator IN (\(placeholders))", arguments: arguments)
            try RunLedger.finish(db, run: runID, counts: ["removed": count])
            return (runID, count)
        }
    }
}
