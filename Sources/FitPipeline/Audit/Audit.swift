import FitStore
import Foundation

/// `fitstore audit`: what the synthetic data is and whether its provenance holds together.
public struct Audit {
    public struct Report: Sendable {
        public var dataset: String
        /// Active rows per generator ("real" for real rows).
        public var rowsPerGenerator: [(generator: String, rows: Int)] = []
        /// Integer-bin score histograms (0...10) per generator.
        public var histograms: [String: [Int]] = [:]
        public var metricsWithRealRows = 0
        public var metricsWithAnyTrainRows = 0
        public var metricsListed = 0
        /// Per metric: train rows before augmentation (real) and after (real + synthetic).
        public var perMetric: [(metric: String, real: Int, withSynthetic: Int)] = []
        // Integrity: any of these non-zero fails the audit.
        public var withoutParents = 0
        public var withRetiredParents = 0
        public var missingProvenance = 0
        public var cycles = 0
        public var duplicateKeys = 0
        // Warnings.
        /// The worst 20 contradictions, and how many there are in all.
        public var contradictions: [(sample: Int64, metric: String, synthetic: Double, real: Double)] = []
        public var contradictionCount = 0
        public var duplicateContent = 0

        public var integrityFailures: [String] {
            var out: [String] = []
            if withoutParents > 0 { out.append("\(withoutParents) synthetic row(s) without parents") }
            if withRetiredParents > 0 { out.append("\(withRetiredParents) active synthetic row(s) whose parent was retired (run `fitstore augment`)") }
            if missingProvenance > 0 { out.append("\(missingProvenance) synthetic row(s) missing generator, version or parameters") }
            if cycles > 0 { out.append("\(cycles) synthetic row(s) in a provenance cycle") }
            if duplicateKeys > 0 { out.append("\(duplicateKeys) duplicated active key(s)") }
            return out
        }
    }

    let store: Store

    public init(store: Store) { self.store = store }

    public func run(dataset: String) throws -> Report {
        try store.read { db in
            let id = try DatasetResolver.require(db, dataset).id
            let a = try SyntheticAudit.load(db, dataset: id)
            var r = Report(dataset: dataset)
            r.rowsPerGenerator = a.rowsPerGenerator
            r.histograms = a.histograms
            r.metricsWithRealRows = a.metricsWithRealRows
            r.metricsWithAnyTrainRows = a.metricsWithAnyTrainRows
            r.metricsListed = a.metricsListed
            r.perMetric = a.perMetric
            r.withoutParents = a.withoutParents
            r.withRetiredParents = a.withRetiredParents
            r.missingProvenance = a.missingProvenance
            r.cycles = a.cycles
            r.duplicateKeys = a.duplicateKeys
            r.contradictionCount = a.contradictions.count
            r.contradictions = Array(a.contradictions.prefix(20))
            r.duplicateContent = a.duplicateContent
            return r
        }
    }
}
