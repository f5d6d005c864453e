import Foundation
import GRDB

/// A trained model as stored: its settings (`config`, JSON), the encoder its features came
/// from, a digest of the rows it saw, its history and evaluation (JSON), and its weights as
/// one flat buffer (a lossless vector blob).
public struct Checkpoint: Sendable {
    public let id: Int64
    public let run: Int64
    public let dataset: Int64
    public let model: String
    public let config: String
    public let encoder: Int64?
    public let trainingDigest: String
    public let history: String
    public let evaluation: String
    public let createdAt: String

    static let columns = "id, run_id, dataset_id, model, config, encoder_id, training_digest, history, evaluation, created_at"

    init(row: Row) throws {
        let r = row.stored(in: "checkpoint")
        id = try r["id"]
        run = try r["run_id"]
        dataset = try r["dataset_id"]
        model = try r["model"]
        config = try r["config"]
        encoder = try r["encoder_id"]
        trainingDigest = try r["training_digest"]
        history = try r["history"]
        evaluation = try r["evaluation"]
        createdAt = try r["created_at"]
    }

    public static func fetch(_ db: Database, id: Int64) throws -> Checkpoint? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM checkpoint WHERE id = ?", arguments: [id]).map(Checkpoint.init)
    }

    /// A data set's newest checkpoint (or the one with `id`, when it belongs to the data set).
    public static func latest(_ db: Database, dataset: Int64, id: Int64? = nil) throws -> Checkpoint? {
        try Row.fetchOne(db, sql: """
            SELECT \(columns) FROM checkpoint WHERE dataset_id = ? AND (? IS NULL OR id = ?) ORDER BY id DESC LIMIT 1
            """, arguments: [dataset, id, id]).map(Checkpoint.init)
    }

    /// A data set's newest checkpoint whose features came from exactly `encoders`, in that order.
    public static func latest(_ db: Database, dataset: Int64, encoders: [Int64]) throws -> Checkpoint? {
        try Row.fetchOne(db, sql: """
            SELECT \(columns) FROM checkpoint c
             WHERE c.dataset_id = ?
               AND (SELECT group_concat(encoder_id, ',') FROM (SELECT encoder_id FROM checkpoint_encoder
                     WHERE checkpoint_id = c.id ORDER BY position)) = ?
             ORDER BY c.id DESC LIMIT 1
            """, arguments: [dataset, encoders.map(String.init).joined(separator: ",")]).map(Checkpoint.init)
    }

    /// Every checkpoint of a data set whose features came from exactly `encoders`, in that
    /// order (or, `anyOrder`, from exactly those encoders in any order), oldest first.
    public static func all(_ db: Database, dataset: Int64, encoders: [Int64], anyOrder: Bool = false) throws -> [Checkpoint] {
        let order = anyOrder ? "encoder_id" : "position"
        let list = (anyOrder ? encoders.sorted() : encoders).map(String.init).joined(separator: ",")
        return try Row.fetchAll(db, sql: """
            SELECT \(columns) FROM checkpoint c
             WHERE c.dataset_id = ?
               AND (SELECT group_concat(encoder_id, ',') FROM (SELECT encoder_id FROM checkpoint_encoder
                     WHERE checkpoint_id = c.id ORDER BY \(order))) = ?
             ORDER BY c.id
            """, arguments: [dataset, list]).map(Checkpoint.init)
    }

    /// A checkpoint as a list of them shows it: with its encoders' names (joined by " + "), the size of its
    /// weights and the time its training run took.
    public struct Listed: Sendable {
        public let checkpoint: Checkpoint
        public let encoderName: String?
        public let weightBytes: Int
        public let seconds: Double?
    }

    /// Every checkpoint of a data set, oldest first (weights left in the store).
    public static func listed(_ db: Database, dataset: Int64) throws -> [Listed] {
        try Row.fetchAll(db, sql: """
            SELECT \(ColumnList.qualified(columns, alias: "c")), LENGTH(c.weights) AS weight_bytes,
                   (SELECT group_concat(name, ' + ') FROM (SELECT COALESCE(e.name, e.key) AS name FROM checkpoint_encoder ce
                      JOIN encoder e ON e.id = ce.encoder_id WHERE ce.checkpoint_id = c.id ORDER BY ce.position)) AS encoder_name,
                   (julianday(r.ended_at) - julianday(r.started_at)) * 86400.0 AS seconds
              FROM checkpoint c LEFT JOIN run r ON r.id = c.run_id
             WHERE c.dataset_id = ? ORDER BY c.id
            """, arguments: [dataset]).map {
            Listed(checkpoint: try Checkpoint(row: $0), encoderName: try $0.stored(in: "checkpoint")["encoder_name"], weightBytes: try $0.stored(in: "checkpoint")["weight_bytes"], seconds: try $0.stored(in: "checkpoint")["seconds"])
        }
    }

    /// The ids of a data set's checkpoints, oldest first.
    public static func ids(_ db: Database, dataset: Int64) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT id FROM checkpoint WHERE dataset_id = ? ORDER BY id", arguments: [dataset])
    }

    /// A checkpoint of the data set trained on exactly these rows with exactly these settings.
    public static func identical(_ db: Database, dataset: Int64, trainingDigest: String, config: String) throws -> Checkpoint? {
        try Row.fetchOne(db, sql: """
            SELECT \(columns) FROM checkpoint
             WHERE dataset_id = ? AND training_digest = ? AND config = ? ORDER BY id DESC LIMIT 1
            """, arguments: [dataset, trainingDigest, config]).map(Checkpoint.init)
    }

    /// The flat weight buffer, checked: a blob that is not a whole vector is "damaged".
    public func weights(_ db: Database) throws -> [Float] {
        guard let blob = try Data.fetchOne(db, sql: "SELECT weights FROM checkpoint WHERE id = ?", arguments: [id]) else {
            throw StoreError.damaged(table: "checkpoint", row: "\(id)", reason: "it has no weights")
        }
        do {
            return try VectorCodec.decode(blob)
        } catch let error as StoreError {
            if case .invalidVector(let reason) = error {
                throw StoreError.damaged(table: "checkpoint", row: "\(id)", reason: "its weights: \(reason)")
            }
            throw error
        }
    }

    /// Stores a new checkpoint whose features came from `encoders`, in column order (the
    /// first is also `checkpoint.encoder_id`); returns its id.
    public static func insert(_ db: Database, run: Int64, dataset: Int64, model: String, config: String, encoders: [Int64],
                              trainingDigest: String, history: String, evaluation: String, weights: [Float]) throws -> Int64 {
        try db.execute(sql: """
            INSERT INTO checkpoint (run_id, dataset_id, model, config, encoder_id, training_digest, history, evaluation, weights, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [run, dataset, model, config, encoders.first, trainingDigest, history, evaluation,
                             try VectorCodec.encode(weights, as: .lossless), Timestamp.now()])
        let id = db.lastInsertedRowID
        for (position, encoder) in encoders.enumerated() {
            try db.execute(sql: "INSERT INTO checkpoint_encoder (checkpoint_id, position, encoder_id) VALUES (?, ?, ?)",
                           arguments: [id, position, encoder])
        }
        return id
    }

    /// Deletes a checkpoint that nothing refers to (no blend lists it); its encoders, scores,
    /// predictions and out-of-fold predictions go with it.
    public static func delete(_ db: Database, id: Int64) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM blend_member WHERE member_id = ?)", arguments: [id]) != true else { return }
        try db.execute(sql: "DELETE FROM checkpoint WHERE id = ?", arguments: [id])
    }

    /// The bytes these checkpoints' rows hold: weights, out-of-fold predictions, predictions.
    public static func storedBytes(_ db: Database, ids: [Int64]) throws -> Int64 {
        var total: Int64 = 0
        for id in ids {
            // Text and blob lengths, and about 24 and 32 bytes a row for the two prediction tables.
            total += try Int64.fetchOne(db, sql: """
                SELECT COALESCE(LENGTH(weights) + LENGTH(config) + LENGTH(evaluation) + LENGTH(history), 0)
                     + (SELECT COUNT(*) FROM cv_prediction WHERE checkpoint_id = ?1) * 24
                     + (SELECT COUNT(*) FROM prediction WHERE checkpoint_id = ?1) * 32
                  FROM checkpoint WHERE id = ?1
                """, arguments: [id]) ?? 0
        }
        return total
    }

    /// Removes a checkpoint on request (`gc --checkpoints`) with its rows: members of blends
    /// first lose their blends. Nothing else removes checkpoints.
    public static func remove(_ db: Database, id: Int64) throws {
        try db.execute(sql: "DELETE FROM prediction WHERE checkpoint_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM checkpoint WHERE id = ?", arguments: [id])
    }

    /// Replaces a checkpoint's evaluation (JSON): what later comparisons learned about it.
    public static func updateEvaluation(_ db: Database, id: Int64, _ evaluation: String) throws {
        try db.execute(sql: "UPDATE checkpoint SET evaluation = ? WHERE id = ?", arguments: [evaluation, id])
    }

    /// The encoders this checkpoint's features came from, in column order.
    public func encoders(_ db: Database) throws -> [Encoder] {
        try Row.fetchAll(db, sql: """
            SELECT \(Encoder.qualifiedColumns("e")) FROM checkpoint_encoder ce JOIN encoder e ON e.id = ce.encoder_id
             WHERE ce.checkpoint_id = ? ORDER BY ce.position
            """, arguments: [id]).map { try Encoder(row: $0) }
    }

    /// The encoder of the data set's newest checkpoint, if any.
    public static func latestEncoder(_ db: Database, dataset: Int64) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT encoder_id FROM checkpoint WHERE dataset_id = ? ORDER BY id DESC LIMIT 1", arguments: [dataset])
    }
}
