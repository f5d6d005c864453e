import FitFormats
import GRDB

/// What a checkpoint's cross-validation predicted for each real training row, from the model
/// of the fold that held the row out: the material of a blend's weights and its honest CV.
public enum OutOfFoldPredictions {
    public struct Entry: Sendable {
        public let sample: Int64
        public let fold: Int
        public let score: Double
        public init(sample: Int64, fold: Int, score: Double) {
            self.sample = sample
            self.fold = fold
            self.score = score
        }
    }

    public static func insert(_ db: Database, checkpoint: Int64, _ entries: [Entry]) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO cv_prediction (checkpoint_id, sample_id, fold, score) VALUES (?, ?, ?, ?)")
        for e in entries { try statement.execute(arguments: [checkpoint, e.sample, e.fold, e.score]) }
    }

    /// Whether a checkpoint kept any.
    public static func exist(_ db: Database, checkpoint: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM cv_prediction WHERE checkpoint_id = ?)", arguments: [checkpoint]) ?? false
    }

    /// Which fold held out each row, as one digest per checkpoint (nil: it kept no out-of-fold
    /// predictions). Equal digests mean the same rows in the same folds, so the two CV RMSEs
    /// are paired and may be set side by side (`blend` asks the same of its members, row by
    /// row). Another --seed, --cv-folds or --cv-groups deals other folds, and the partition
    /// alone moves a CV RMSE by about 1% (docs/results.md): such numbers are not comparable.
    public static func foldDigest(_ db: Database, checkpoint: Int64) throws -> String? {
        var hash = SHA256()
        var rowsRead = 0
        // The primary key (checkpoint_id, sample_id) gives the rows in sample order.
        let rows = try Row.fetchCursor(db, sql: "SELECT sample_id, fold FROM cv_prediction WHERE checkpoint_id = ? ORDER BY sample_id",
                                       arguments: [checkpoint])
        while let row = try rows.next() {
            let stored = row.stored(in: "cv_prediction")
            let (sample, fold): (Int64, Int64) = (try stored[0], try stored[1])
            // Two updates hash the same 16 bytes one update of the pair would, with no
            // allocation per row (every checkpoint listing digests every checkpoint's rows).
            withUnsafeBytes(of: sample) { hash.update($0) }
            withUnsafeBytes(of: fold) { hash.update($0) }
            rowsRead += 1
        }
        return rowsRead == 0 ? nil : String(hash.finalize().hexString.prefix(16))
    }

    /// A checkpoint's out-of-fold predictions, by sample (empty: it kept none).
    public static func fetch(_ db: Database, checkpoint: Int64) throws -> [Int64: Entry] {
        var out: [Int64: Entry] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT sample_id, fold, score FROM cv_prediction WHERE checkpoint_id = ?", arguments: [checkpoint])
        while let row = try rows.next() {
            let e = Entry(sample: try row.stored(in: "cv_prediction")[0], fold: try row.stored(in: "cv_prediction")[1], score: try row.stored(in: "cv_prediction")[2])
            out[e.sample] = e
        }
        return out
    }
}

/// The members of a blend checkpoint and their weights, in order.
public enum BlendMembers {
    public static func insert(_ db: Database, blend: Int64, _ members: [(checkpoint: Int64, weight: Double)]) throws {
        for (position, m) in members.enumerated() {
            try db.execute(sql: "INSERT INTO blend_member (blend_id, position, member_id, weight) VALUES (?, ?, ?, ?)",
                           arguments: [blend, position, m.checkpoint, m.weight])
        }
    }

    public static func fetch(_ db: Database, blend: Int64) throws -> [(checkpoint: Int64, weight: Double)] {
        try Row.fetchAll(db, sql: "SELECT member_id, weight FROM blend_member WHERE blend_id = ? ORDER BY position", arguments: [blend])
            .map { (try $0.stored(in: "cv_prediction")[0], try $0.stored(in: "cv_prediction")[1]) }
    }
}
