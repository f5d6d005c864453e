import Foundation
import GRDB

/// One choice between variants on the same folds, as stored: the candidates with their
/// fold-by-fold CV, the rule that decided, and which was kept.
public struct Comparison: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case systemPrompt = "system_prompt"
        case bag
        case knnBlend = "knn_blend"
        case tune
        case blend
        /// The boosted trees' settings `run` chose by nested CV (docs/trainer.md).
        case learner
        /// Whether the extra columns are offered to every tree or sampled like the vector
        /// dimensions (`run`, docs/trainer.md).
        case extrasInEveryTree = "extras_in_every_tree"
    }

    public struct Candidate: Sendable, Equatable {
        /// nil for a variant that is not a checkpoint of its own (the single model a bag was
        /// compared with), or whose checkpoint `gc --checkpoints` removed.
        public var checkpoint: Int64?
        public var label: String
        public var cvRMSE: Double
        public var foldRMSE: [Double]

        public init(checkpoint: Int64?, label: String, cvRMSE: Double, foldRMSE: [Double]) {
            self.checkpoint = checkpoint
            self.label = label
            self.cvRMSE = cvRMSE
            self.foldRMSE = foldRMSE
        }
    }

    public var id: Int64
    public var dataset: Int64
    public var run: Int64
    public var kind: Kind
    public var rule: String
    public var kept: Int
    public var meanGain: Double?
    public var standardError: Double?
    public var createdAt: String
    public var candidates: [Candidate]

    /// What a new comparison holds.
    public struct New: Sendable {
        public var kind: Kind
        public var rule: String
        public var kept: Int
        public var meanGain: Double?
        public var standardError: Double?
        public var candidates: [Candidate]

        public init(kind: Kind, rule: String, kept: Int, meanGain: Double?, standardError: Double?, candidates: [Candidate]) {
            self.kind = kind
            self.rule = rule
            self.kept = kept
            self.meanGain = meanGain
            self.standardError = standardError
            self.candidates = candidates
        }
    }

    /// Writes a comparison and its candidates; returns its id.
    public static func insert(_ db: Database, dataset: Int64, run: Int64, _ c: New) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO comparison (dataset_id, run_id, kind, rule, kept_position, mean_gain, standard_error, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [dataset, run, c.kind.rawValue, c.rule, c.kept, c.meanGain.flatMap { $0.isFinite ? $0 : nil },
                             c.standardError.flatMap { $0.isFinite ? $0 : nil }, Timestamp.now()])
        let id = db.lastInsertedRowID
        for (position, candidate) in c.candidates.enumerated() {
            try db.execute(sql: """
                INSERT INTO comparison_candidate (comparison_id, position, checkpoint_id, label, cv_rmse, fold_rmse)
                VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [id, position, candidate.checkpoint, candidate.label, candidate.cvRMSE,
                                 try JSONText.encode(candidate.foldRMSE.map { $0.isFinite ? $0 : -1 })])
        }
        return id
    }

    static let columns = "id, dataset_id, run_id, kind, rule, kept_position, mean_gain, standard_error, created_at"

    static func fetch(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> [Comparison] {
        try Row.fetchAll(db, sql: "SELECT \(columns) FROM comparison WHERE \(condition) ORDER BY id", arguments: arguments).map { row in
            let r = row.stored(in: "comparison")
            let kindText: String = try r["kind"]
            guard let kind = Kind(rawValue: kindText) else {
                throw StoreError.damaged(table: "comparison", row: r.label, reason: "its kind '\(kindText)' is not one fitstore writes")
            }
            let id: Int64 = try r["id"]
            let candidates = try Row.fetchAll(db, sql: """
                SELECT comparison_id, position, checkpoint_id, label, cv_rmse, fold_rmse FROM comparison_candidate
                 WHERE comparison_id = ? ORDER BY position
                """, arguments: [id]).map { row in
                let c = row.stored(in: "comparison_candidate")
                let folds: String = try c["fold_rmse"]
                guard let values = try? JSONDecoder().decode([Double].self, from: Data(folds.utf8)) else {
                    throw StoreError.damaged(table: "comparison_candidate", row: c.label, reason: "its fold_rmse is not a list of numbers")
                }
                return Candidate(checkpoint: try c["checkpoint_id"], label: try c["label"], cvRMSE: try c.finite("cv_rmse"), foldRMSE: values)
            }
            let kept: Int = try r["kept_position"]
            guard candidates.indices.contains(kept) else {
                throw StoreError.damaged(table: "comparison", row: r.label, reason: "it kept candidate \(kept) of \(candidates.count)")
            }
            return Comparison(id: id, dataset: try r["dataset_id"], run: try r["run_id"], kind: kind, rule: try r["rule"], kept: kept,
                              meanGain: try r["mean_gain"], standardError: try r["standard_error"], createdAt: try r["created_at"],
                              candidates: candidates)
        }
    }

    public static func all(_ db: Database, dataset: Int64) throws -> [Comparison] {
        try fetch(db, where: "dataset_id = ?", [dataset])
    }

    public static func fetch(_ db: Database, id: Int64) throws -> Comparison? {
        try fetch(db, where: "id = ?", [id]).first
    }

    /// The comparisons a checkpoint took part in.
    public static func involving(_ db: Database, checkpoint: Int64) throws -> [Comparison] {
        try fetch(db, where: "id IN (SELECT comparison_id FROM comparison_candidate WHERE checkpoint_id = ?)", [checkpoint])
    }
}
