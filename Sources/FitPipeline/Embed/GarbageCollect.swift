import FitStore
import Foundation
import GRDB

/// `fitstore gc`: drops vectors of built-in encoders other than the one to keep (and of
/// encoders named for removal) that no checkpoint uses, then compacts the file when it has
/// free pages (also when nothing was left to delete).
public struct GarbageCollect {
    public struct Report: Sendable {
        public var encoders: [(key: String, vectors: Int)] = []
        /// Encoders named for removal that stay, because checkpoints use them.
        public var kept: [(name: String, checkpoints: [Int64])] = []
        public var runID: Int64?
        /// File size before and after compaction (nil when the file had no free pages).
        public var compacted: (before: Int64, after: Int64)?
        /// Why the file was not compacted now although it has free pages (another program
        /// was reading it); a later `gc` compacts it.
        public var compactionDeferred: String?
    }

    let store: Store

    public init(store: Store) { self.store = store }

    public func run(keeping key: String, removing named: [String] = [], dryRun: Bool) throws -> Report {
        var report = Report()
        // The run is finished only after the compaction: a gc whose compaction fails is not
        // 'succeeded' (the removal, committed, stays and says so).
        try store.write(recordingFailureOf: "gc", parameters: ["keep": key]) { db in
            let known = Set(try Encoder.textEncoders(db).encoders.compactMap(\.encoder.name))
            if let unknown = named.first(where: { !known.contains($0) }) {
                throw PipelineError.unknownEncoder(name: unknown, known: known.sorted())
            }
            for name in named {
                guard let encoder = try Encoder.named(db, name) else { continue }
                let users = try encoder.checkpoints(db)
                if !users.isEmpty { report.kept.append((name, users)) }
            }
            let collectable = try Encoder.collectable(db, keeping: key, named: named)
            report.encoders = collectable.map { ($0.encoder.key, $0.vectors) }
            guard !dryRun, !collectable.isEmpty else { return }
            struct Parameters: Encodable { let keep: String }
            let runID = try RunLedger.begin(db, kind: "gc", parameters: Parameters(keep: key))
            report.runID = runID
            for (encoder, _) in collectable { try encoder.delete(db) }
        }
        guard !dryRun else { return report }
        let compactAndFinish = {
            KillPoint.reach("gc.removed")
            if try store.freePages() > 0 { (report.compacted, report.compactionDeferred) = try compact() }
            if let runID = report.runID {
                struct Counts: Encodable { let encoders: Int; let vectors: Int; let compacted_bytes: Int64? }
                try store.write {
                    try RunLedger.finish($0, run: runID, counts: Counts(encoders: report.encoders.count, vectors: report.encoders.reduce(0) { $0 + $1.vectors },
                                                                         compacted_bytes: report.compacted.map { $0.before - $0.after }),
                                         message: report.compactionDeferred)
                }
            }
        }
        if let runID = report.runID { try store.failingRun(runID, compactAndFinish) } else { try compactAndFinish() }
        return report
    }

    /// `gc --checkpoints`: what was (or would be) removed.
    public struct CheckpointsReport: Sendable {
        public var removed: [Int64] = []
        /// The bytes their rows held (weights, out-of-fold predictions, predictions).
        public var bytes: Int64 = 0
        public var kept: Int = 0
        public var compacted: (before: Int64, after: Int64)?
        public var compactionDeferred: String?
    }

    /// Removes the data set's checkpoints that are not needed: every one but those ever
    /// chosen (the history of choices names them) and the members, at any depth, of the blends
    /// kept. Comparisons keep their numbers and labels (their candidate loses the link).
    /// Only on request: nothing is removed to make a choice.
    public func removeCheckpoints(dataset: String, dryRun: Bool) throws -> CheckpointsReport {
        var report = CheckpointsReport()
        try store.write(recordingFailureOf: "gc-checkpoints", parameters: ["dataset": dataset]) { db in
            let datasetID = try DatasetResolver.require(db, dataset).id
            var keep = try ChosenCheckpoint.everChosen(db, dataset: datasetID)
            var frontier = Array(keep)
            while let next = frontier.popLast() {
                for m in try BlendMembers.fetch(db, blend: next) where keep.insert(m.checkpoint).inserted { frontier.append(m.checkpoint) }
            }
            let all = try Checkpoint.ids(db, dataset: datasetID)
            report.removed = all.filter { !keep.contains($0) }
            report.kept = all.count - report.removed.count
            report.bytes = try Checkpoint.storedBytes(db, ids: report.removed)
            guard !dryRun, !report.removed.isEmpty else { return }
            let run = try RunLedger.begin(db, kind: "gc-checkpoints", parameters: ["dataset": dataset])
            // Blends first, so no member is still listed by a blend being removed.
            for id in report.removed.sorted(by: >) { try Checkpoint.remove(db, id: id) }
            try RunLedger.finish(db, run: run, counts: ["checkpoints": report.removed.count, "bytes": Int(report.bytes)])
        }
        guard !dryRun, !report.removed.isEmpty else { return report }
        (report.compacted, report.compactionDeferred) = try compact()
        return report
    }

    /// Compacts the file: its size before and after, or why it was not compacted now (a
    /// reader holds an old snapshot, and compaction would have to wait for it).
    func compact() throws -> (compacted: (before: Int64, after: Int64)?, deferred: String?) {
        let before = try store.fileSize()
        do {
            try store.vacuum()
            return ((before, try store.fileSize()), nil)
        } catch let error as DatabaseError where error.resultCode.primaryResultCode == .SQLITE_BUSY {
            return (nil, "another program is reading the store, so its file was not compacted now: run `fitstore gc` again when it is done")
        }
    }
}
