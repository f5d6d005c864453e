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
        /// Per generator: rows asked for, made, and not made (with the reasons). Rows made but
        /// already in the store count under `SkipReason.present`.
        public var tally: AugmentationTally = [:]
        /// Active synthetic rows that contradict a real label (by more than 1), after this run,
        /// and the worst of them.
        public var contradictions = 0
        public var worstContradictions: [(sample: Int64, metric: String, synthetic: Double, real: Double)] = []
    }

    let store: Store

    public init(store: Store) { self.store = store }

    /// Raised inside the transaction when a run would write nothing: it is rolled back, so a
    /// rerun with the same settings leaves no trace.
    private struct NothingNew: Error {}

    public func run(_ options: Options) throws -> Report {
        var report = Report()
        do {
            try store.write(recordingFailureOf: "augment", parameters: ["dataset": options.dataset]) { db in try generate(db, options, into: &report) }
        } catch is NothingNew {
            // Rolled back; the tally still says why nothing was written.
            report.runID = nil
            report.added = [:]
            report.retired = 0
        }
        // What the audit would warn about, said now: rows that contradict a real label.
        let found = try store.read { db in
            try SyntheticAudit.contradictions(db, dataset: DatasetResolver.require(db, options.dataset).id)
        }
        report.contradictions = found.count
        report.worstContradictions = Array(found.prefix(5))
        return report
    }

    /// Generates every stage's rows and writes them as they come (memory holds the real rows
    /// the generators draw from, never the synthetic ones).
    private func generate(_ db: Database, _ options: Options, into report: inout Report) throws {
        let datasetID = try DatasetResolver.require(db, options.dataset).id
        let metricIDs = try Metric.listedIDs(db, dataset: datasetID)
        let relations: MetricRelations?
        if let file = options.relationsFile {
            relations = try MetricRelations.load(file, metrics: Set(metricIDs.keys))
        } else {
            relations = try MetricRelations.builtIn(for: Set(metricIDs.keys))
        }
        report.relations = relations?.source
        let stored = try SyntheticSamples.parents(db, dataset: datasetID)  // sorted by id
        let parents = stored.map { ParentSample(id: $0.id, metric: $0.metric, score: $0.score, item: $0.item) }
        func parent(_ id: Int64) -> SyntheticSamples.Parent? {
            var lo = 0, hi = stored.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if stored[mid].id < id { lo = mid + 1 } else { hi = mid }
            }
            return lo < stored.count && stored[lo].id == id ? stored[lo] : nil
        }

        struct Parameters: Encodable {
            let dataset: String; let relations: String?; let stages: [String]; let seed: UInt64; let low_count: Int; let mid_count: Int
        }
        let runID = try RunLedger.begin(db, kind: "augment", parameters: Parameters(
            dataset: options.dataset, relations: relations?.source, stages: options.stages.map(\.rawValue).sorted(), seed: options.seed,
            low_count: options.lowCount, mid_count: options.midCount))
        report.runID = runID
        report.retired = try SyntheticSamples.retireOrphans(db, dataset: datasetID, run: runID)
        let writer = try SyntheticSamples.Writer(db, dataset: datasetID, run: runID)
        var added: [String: Int] = [:], present: [String: Int] = [:], tally = AugmentationTally()
        func write(_ spec: SyntheticSpec) throws {
            // A shuffle row takes its texts from its second parent, its metric from the first.
            let source = spec.generator == NegativeSampler.generator(.shuffle) ? spec.parents[1] : spec.parents[0]
            guard let t = parent(source), let metric = metricIDs[spec.metric] else { return }
            let recipe = SyntheticSamples.Recipe(
                key: spec.key, metric: metric, prompt: t.prompt, response: t.response, system: t.system, score: spec.score,
                digest: SHA256.digest(spec.key + "|\(spec.score)").hexString, generator: spec.generator, version: spec.version,
                parameters: spec.parameters, seed: spec.seed, parents: spec.parents)
            if try writer.insert(db, recipe) {
                added[spec.generator, default: 0] += 1
            } else {
                present[spec.generator, default: 0] += 1
            }
        }

        if let relations {
            if options.stages.contains(.opposite) {
                var opposite = options.opposite
                opposite.seed = options.seed
                for spec in opposite.generate(parents, relations: relations, tally: &tally) { try write(spec) }
            }
            if options.stages.contains(.substitutable) {
                var substitutable = SubstitutableMetricAugmenter()
                substitutable.maxScore = options.substituteMaxScore
                for spec in substitutable.generate(parents, relations: relations, tally: &tally) { try write(spec) }
            }
        } else if options.stages.contains(.opposite) || options.stages.contains(.substitutable) {
            report.skipped.append("no relations file fits this data set's metrics: stages 1-2 need one (--relations FILE; `fitstore relations suggest` proposes one)")
        }
        if options.stages.contains(.negative) {
            let encoderID = try options.encoderKey.flatMap { try Encoder.keyed(db, $0)?.id }
            let (vectors, _) = try MetricVectors.load(db, dataset: datasetID, encoder: encoderID)
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
            try sampler.generate(parents, metricsByDistance: byDistance, tally: &tally, emit: write)
        }
        for (generator, n) in present { tally[generator, default: .init()].skip(SkipReason.present, n) }
        report.tally = tally
        report.added = added
        guard !added.isEmpty || report.retired > 0 else { throw NothingNew() }
        try RunLedger.finish(db, run: runID, counts: report.added.merging(["retired": report.retired]) { $1 })
    }

    /// The generators that have active rows in a data set, by name.
    public func generators(dataset: String) throws -> [String] {
        try store.read { db in try SyntheticSamples.generators(db, dataset: DatasetResolver.require(db, dataset).id) }
    }

    /// The generators `--drop NAME` removes: NAME itself, or all three of stage 3 when NAME
    /// is the stage's name ("negative"), whose rows carry one generator per corruption.
    public static func generators(dropping name: String) -> [String] {
        name == Stage.negative.rawValue ? NegativeSampler.Corruption.allCases.map(NegativeSampler.generator) : [name]
    }

    /// Retires one generator's (or one stage's) active rows of a data set, as every removal
    /// in the store retires rather than deletes: the rows stay for lineage (a checkpoint
    /// trained on them can still be traced), and `augment` can write them again. An unknown
    /// name is an error that lists the generators present.
    public func drop(dataset: String, generator: String) throws -> (runID: Int64, removed: Int) {
        let generators = Self.generators(dropping: generator)
        return try store.write(recordingFailureOf: "augment-drop", parameters: ["dataset": dataset, "generator": generator]) { db in
            let datasetID = try DatasetResolver.require(db, dataset).id
            let count = try SyntheticSamples.count(db, dataset: datasetID, generators: generators)
            guard count > 0 else {
                throw PipelineError.unknownGenerator(name: generator, dataset: dataset,
                                                     present: try SyntheticSamples.generators(db, dataset: datasetID))
            }
            let runID = try RunLedger.begin(db, kind: "augment-drop", parameters: ["dataset": dataset, "generator": generator])
            let removed = try SyntheticSamples.retire(db, dataset: datasetID, generators: generators, run: runID)
            try RunLedger.finish(db, run: runID, counts: ["retired": removed])
            return (runID, removed)
        }
    }
}
