import FitFormats
import FitStore
import Foundation
import GRDB

/// Writes choices: comparisons and the chosen checkpoint, together. A `choose` run, the
/// comparisons it made and the choice they lead to are one transaction, so a kill at any point
/// leaves either no decision or the whole one, and a rerun (whose checkpoints are found again,
/// identical) completes it. A comparison identical to the data set's latest of its kind (same
/// candidates, same decision) and a choice already in force are not written again: a rerun
/// with nothing new writes nothing.
public enum Choices {
    public struct Recorded: Sendable {
        /// The comparison written or found again for each one given, in order.
        public var comparisons: [Int64]
        /// The data set's choice afterwards (nil: none made and none before).
        public var chosen: ChosenCheckpoint?
        /// The choice it replaced, when it changed.
        public var replaced: ChosenCheckpoint?
    }

    /// Records `comparisons` and, when `choose` is given, makes that checkpoint the data set's
    /// choice (with the reason; linked to the last comparison when there is one).
    @discardableResult
    public static func record(store: Store, dataset: String, comparisons: [Comparison.New],
                              choose: (checkpoint: Int64, reason: String)?) throws -> Recorded {
        try store.write { db in
            let datasetID = try DatasetResolver.require(db, dataset).id
            let before = try ChosenCheckpoint.current(db, dataset: datasetID)
            let existing = try Comparison.all(db, dataset: datasetID)
            let pending = comparisons.map { new in (new, existing.last { same($0, new) }?.id) }
            let changesChoice = choose.map { $0.checkpoint != before?.checkpoint } ?? false
            guard changesChoice || pending.contains(where: { $0.1 == nil }) else {
                return Recorded(comparisons: pending.compactMap(\.1), chosen: before, replaced: nil)
            }
            struct Parameters: Encodable { let dataset: String; let comparisons: [String]; let checkpoint: Int64? }
            let run = try RunLedger.begin(db, kind: "choose", parameters: Parameters(
                dataset: dataset, comparisons: comparisons.map(\.kind.rawValue), checkpoint: choose?.checkpoint))
            var ids: [Int64] = []
            for (new, found) in pending { ids.append(try found ?? Comparison.insert(db, dataset: datasetID, run: run, new)) }
            KillPoint.reach("choices.writing")
            var chosen = before
            if let choose {
                chosen = try ChosenCheckpoint.choose(db, dataset: datasetID, checkpoint: choose.checkpoint, run: run,
                                                     comparison: ids.last, reason: choose.reason)
            }
            struct Counts: Encodable { let comparisons: Int; let chosen: Int64? }
            try RunLedger.finish(db, run: run, counts: Counts(comparisons: ids.count, chosen: chosen?.checkpoint))
            return Recorded(comparisons: ids, chosen: chosen, replaced: changesChoice ? before : nil)
        }
    }

    static func same(_ stored: Comparison, _ new: Comparison.New) -> Bool {
        stored.kind == new.kind && stored.kept == new.kept && stored.rule == new.rule
            && stored.candidates.map(\.checkpoint) == new.candidates.map(\.checkpoint)
            && stored.candidates.map(\.label) == new.candidates.map(\.label)
    }

    /// `fitstore promote`: makes `checkpoint` the data set's choice, by hand.
    public static func promote(store: Store, dataset: String, checkpoint: Int64, reason: String = "promoted by `fitstore promote`") throws -> Recorded {
        try store.read { db in
            let datasetID = try DatasetResolver.require(db, dataset).id
            guard let stored = try Checkpoint.fetch(db, id: checkpoint), stored.dataset == datasetID else {
                throw PipelineError.unknownCheckpoint(id: checkpoint, dataset: dataset, known: try Checkpoint.ids(db, dataset: datasetID))
            }
        }
        return try record(store: store, dataset: dataset, comparisons: [], choose: (checkpoint, reason))
    }

    /// The data set's chosen checkpoint id, if any.
    public static func chosen(store: Store, dataset: String) throws -> ChosenCheckpoint? {
        try store.read { db in try ChosenCheckpoint.current(db, dataset: try DatasetResolver.require(db, dataset).id) }
    }
}

extension Comparison.New {
    /// A comparison of a simpler variant (position 0) with a more complex one (1) under
    /// `NoiseRule`, on the per-fold RMSEs of the same folds.
    static func judged(kind: Comparison.Kind, simple: Comparison.Candidate, complex: Comparison.Candidate,
                       rule: String = NoiseRule.words, forceSimple reason: String? = nil) -> (Comparison.New, NoiseRule.Verdict) {
        let verdict = NoiseRule.judge(simple: simple.foldRMSE, complex: complex.foldRMSE)
        let keep = reason == nil && verdict.keepComplex
        return (Comparison.New(kind: kind, rule: reason.map { rule + "; " + $0 } ?? rule, kept: keep ? 1 : 0,
                               meanGain: verdict.meanGain, standardError: verdict.standardError, candidates: [simple, complex]), verdict)
    }
}
