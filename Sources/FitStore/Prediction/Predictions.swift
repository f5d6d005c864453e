import GRDB

/// Scores a checkpoint gave samples; one per (checkpoint, sample), the newest run's.
public enum Predictions {
    public static func upsert(_ db: Database, checkpoint: Int64, _ scores: [(sample: Int64, score: Float)], run: Int64) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO prediction (checkpoint_id, sample_id, score, run_id) VALUES (?, ?, ?, ?)
            ON CONFLICT (checkpoint_id, sample_id) DO UPDATE SET score = excluded.score, run_id = excluded.run_id
            """)
        for (sample, score) in scores { try insert.execute(arguments: [checkpoint, sample, Double(score), run]) }
    }

    /// The scores of the data set's newest checkpoint that has predictions (or of `checkpoint`).
    public static func latestScores(_ db: Database, dataset: Int64, checkpoint: Int64? = nil) throws -> [Double] {
        try Row.fetchAll(db, sql: """
            SELECT p.checkpoint_id, p.sample_id, p.score FROM prediction p WHERE p.checkpoint_id = (
              SELECT c.id FROM checkpoint c WHERE c.dataset_id = ? AND (? IS NULL OR c.id = ?)
                 AND EXISTS (SELECT 1 FROM prediction q WHERE q.checkpoint_id = c.id) ORDER BY c.id DESC LIMIT 1)
            """, arguments: [dataset, checkpoint, checkpoint]).map { try $0.stored(in: "prediction").finite("score") }
    }

    /// A checkpoint's stored score of each sample it predicted.
    public static func scores(_ db: Database, checkpoint: Int64) throws -> [Int64: Double] {
        var out: [Int64: Double] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT sample_id, score FROM prediction WHERE checkpoint_id = ?", arguments: [checkpoint])
        while let row = try rows.next() {
            let r = row.stored(in: "prediction")
            out[try r["sample_id"]] = try r.finite("score")
        }
        return out
    }
}
