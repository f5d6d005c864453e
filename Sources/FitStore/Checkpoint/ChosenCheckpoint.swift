import Foundation
import GRDB

/// A data set's chosen checkpoint: the one `predict`, `score` and `report` use unless told
/// otherwise. Every choice is kept (`history`); the current one is the newest.
public struct ChosenCheckpoint: Sendable, Equatable {
    public let id: Int64
    public let dataset: Int64
    public let checkpoint: Int64
    /// The run that chose it (nil: chosen by migration 13, from the newest checkpoint then).
    public let run: Int64?
    public let comparison: Int64?
    public let reason: String
    public let chosenAt: String

    static let columns = "id, dataset_id, checkpoint_id, run_id, comparison_id, reason, chosen_at"

    init(row: Row) throws {
        let r = row.stored(in: "chosen_checkpoint")
        id = try r["id"]
        dataset = try r["dataset_id"]
        checkpoint = try r["checkpoint_id"]
        run = try r["run_id"]
        comparison = try r["comparison_id"]
        reason = try r["reason"]
        chosenAt = try r["chosen_at"]
    }

    /// The data set's current choice, if it has one.
    public static func current(_ db: Database, dataset: Int64) throws -> ChosenCheckpoint? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM chosen_checkpoint WHERE dataset_id = ? ORDER BY id DESC LIMIT 1",
                         arguments: [dataset]).map(ChosenCheckpoint.init)
    }

    /// Every choice of the data set, oldest first.
    public static func history(_ db: Database, dataset: Int64) throws -> [ChosenCheckpoint] {
        try Row.fetchAll(db, sql: "SELECT \(columns) FROM chosen_checkpoint WHERE dataset_id = ? ORDER BY id",
                         arguments: [dataset]).map(ChosenCheckpoint.init)
    }

    /// Makes `checkpoint` the data set's choice (a no-op when it already is); returns the
    /// choice in force afterwards.
    @discardableResult
    public static func choose(_ db: Database, dataset: Int64, checkpoint: Int64, run: Int64?, comparison: Int64?,
                              reason: String) throws -> ChosenCheckpoint {
        if let current = try current(db, dataset: dataset), current.checkpoint == checkpoint { return current }
        try db.execute(sql: """
            INSERT INTO chosen_checkpoint (dataset_id, checkpoint_id, run_id, comparison_id, reason, chosen_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [dataset, checkpoint, run, comparison, reason, Timestamp.now()])
        return try current(db, dataset: dataset) ?? { throw StoreError.damaged(table: "chosen_checkpoint", row: "new", reason: "it was not written") }()
    }

    /// Checkpoints ever chosen for the data set (kept by `gc --checkpoints`: the history names them).
    public static func everChosen(_ db: Database, dataset: Int64) throws -> Set<Int64> {
        Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT checkpoint_id FROM chosen_checkpoint WHERE dataset_id = ?", arguments: [dataset]))
    }
}
