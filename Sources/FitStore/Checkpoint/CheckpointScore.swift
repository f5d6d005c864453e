import Foundation
import GRDB

/// A checkpoint's test predictions scored against a labels file (`fitstore score`): one row
/// per checkpoint and labels content; scoring the same labels again replaces it.
public struct CheckpointScore: Sendable {
    public let id: Int64
    public let checkpoint: Int64
    public let run: Int64
    public let labelsPath: String
    public let labelsSHA256: String
    public let rows: Int
    public let rmse: Double
    public let mae: Double
    public let spearman: Double?
    public let perMetricMeanRMSE: Double
    public let constantMeanRMSE: Double
    /// JSON: per metric and per group (see `Score.Breakdown`).
    public let breakdown: String
    public let createdAt: String

    static let columns = """
        id, checkpoint_id, run_id, labels_path, labels_sha256, rows, rmse, mae, spearman, per_metric_mean_rmse, \
        constant_mean_rmse, breakdown, created_at
        """

    init(row: Row) throws {
        let r = row.stored(in: "checkpoint_score")
        id = try r["id"]
        checkpoint = try r["checkpoint_id"]
        run = try r["run_id"]
        labelsPath = try r["labels_path"]
        labelsSHA256 = try r["labels_sha256"]
        rows = try r["rows"]
        rmse = try r["rmse"]
        mae = try r["mae"]
        spearman = try r["spearman"]
        perMetricMeanRMSE = try r["per_metric_mean_rmse"]
        constantMeanRMSE = try r["constant_mean_rmse"]
        breakdown = try r["breakdown"]
        createdAt = try r["created_at"]
    }

    /// What a new score holds.
    public struct New: Sendable {
        public var checkpoint: Int64
        public var labelsPath: String
        public var labelsSHA256: String
        public var rows: Int
        public var rmse: Double
        public var mae: Double
        public var spearman: Double?
        public var perMetricMeanRMSE: Double
        public var constantMeanRMSE: Double
        public var breakdown: String

        public init(checkpoint: Int64, labelsPath: String, labelsSHA256: String, rows: Int, rmse: Double, mae: Double, spearman: Double?,
                    perMetricMeanRMSE: Double, constantMeanRMSE: Double, breakdown: String) {
            self.checkpoint = checkpoint
            self.labelsPath = labelsPath
            self.labelsSHA256 = labelsSHA256
            self.rows = rows
            self.rmse = rmse
            self.mae = mae
            self.spearman = spearman
            self.perMetricMeanRMSE = perMetricMeanRMSE
            self.constantMeanRMSE = constantMeanRMSE
            self.breakdown = breakdown
        }
    }

    /// Stores a score (replacing the checkpoint's earlier score of the same labels); returns its id.
    @discardableResult
    public static func upsert(_ db: Database, _ score: New, run: Int64) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO checkpoint_score (checkpoint_id, run_id, labels_path, labels_sha256, rows, rmse, mae, spearman,
                                          per_metric_mean_rmse, constant_mean_rmse, breakdown, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (checkpoint_id, labels_sha256) DO UPDATE SET
                run_id = excluded.run_id, labels_path = excluded.labels_path, rows = excluded.rows, rmse = excluded.rmse,
                mae = excluded.mae, spearman = excluded.spearman, per_metric_mean_rmse = excluded.per_metric_mean_rmse,
                constant_mean_rmse = excluded.constant_mean_rmse, breakdown = excluded.breakdown, created_at = excluded.created_at
            """, arguments: [score.checkpoint, run, score.labelsPath, score.labelsSHA256, score.rows, score.rmse, score.mae,
                             score.spearman, score.perMetricMeanRMSE, score.constantMeanRMSE, score.breakdown, Timestamp.now()])
        return try Int64.fetchOne(db, sql: "SELECT id FROM checkpoint_score WHERE checkpoint_id = ? AND labels_sha256 = ?",
                                  arguments: [score.checkpoint, score.labelsSHA256]) ?? db.lastInsertedRowID
    }

    /// The newest score of each of a data set's checkpoints, by checkpoint id.
    public static func latest(_ db: Database, dataset: Int64) throws -> [Int64: CheckpointScore] {
        var out: [Int64: CheckpointScore] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT \(ColumnList.qualified(columns, alias: "s"))
              FROM checkpoint_score s JOIN checkpoint c ON c.id = s.checkpoint_id
             WHERE c.dataset_id = ? ORDER BY s.created_at, s.id
            """, arguments: [dataset]) {
            let score = try CheckpointScore(row: row)
            out[score.checkpoint] = score
        }
        return out
    }

    public static func fetch(_ db: Database, id: Int64) throws -> CheckpointScore? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM checkpoint_score WHERE id = ?", arguments: [id]).map(CheckpointScore.init)
    }

    public static func ids(_ db: Database) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT id FROM checkpoint_score ORDER BY id")
    }

    /// Removes one score (`score --forget`): the only way a score leaves the store.
    public static func delete(_ db: Database, id: Int64) throws {
        try db.execute(sql: "DELETE FROM checkpoint_score WHERE id = ?", arguments: [id])
    }
}
