import Foundation
import GRDB

/// Who made a set of vectors: a model encoder (its identity is the model's digest and its
/// settings) or a data set's given metric vectors ('given:<data set>:<file sha256>').
public struct Encoder: Sendable, Equatable {
    public enum Kind: String, Sendable { case model, given }

    public let id: Int64
    public let key: String
    public let kind: Kind
    public let dims: Int

    init(row: Row) throws {
        id = row["id"]
        key = row["key"]
        dims = row["dims"]
        guard let kind = Kind(rawValue: row["kind"]) else {
            throw StoreError.damaged(table: "encoder", row: "\(row["id"] as Int64)", reason: "unknown kind '\(row["kind"] as String)'")
        }
        self.kind = kind
    }

    static let columns = "id, key, kind, dims"

    /// The encoder with that identity, if the store has one.
    public static func keyed(_ db: Database, _ key: String) throws -> Encoder? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM encoder WHERE key = ?", arguments: [key]).map(Encoder.init)
    }

    public static func fetch(_ db: Database, id: Int64) throws -> Encoder? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM encoder WHERE id = ?", arguments: [id]).map(Encoder.init)
    }

    /// The newest model encoder (what the report shows when no checkpoint names one).
    public static func newestModel(_ db: Database) throws -> Encoder? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM encoder WHERE kind = 'model' ORDER BY id DESC LIMIT 1").map(Encoder.init)
    }

    /// Registers an encoder (nothing when one with that key exists) and returns it.
    public static func register(_ db: Database, key: String, kind: Kind, dims: Int, config: some Encodable, run: Int64) throws -> Encoder {
        try db.execute(sql: """
            INSERT INTO encoder (key, kind, dims, config, run_id) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (key) DO NOTHING
            """, arguments: [key, kind.rawValue, dims, try JSONText.encode(config), run])
        guard let encoder = try keyed(db, key) else {
            throw StoreError.damaged(table: "encoder", row: key, reason: "registered but not found")
        }
        return encoder
    }

    /// Model encoders other than `keeping` that no checkpoint uses, with their vector counts:
    /// what `fitstore gc` may remove.
    public static func collectable(_ db: Database, keeping key: String) throws -> [(encoder: Encoder, vectors: Int)] {
        try Row.fetchAll(db, sql: """
            SELECT e.id, e.key, e.kind, e.dims, (SELECT COUNT(*) FROM text_embedding t WHERE t.encoder_id = e.id) AS vectors
              FROM encoder e
             WHERE e.kind = 'model' AND e.key <> ?
               AND NOT EXISTS (SELECT 1 FROM checkpoint c WHERE c.encoder_id = e.id)
             ORDER BY e.id
            """, arguments: [key]).map { (try Encoder(row: $0), $0["vectors"] as Int) }
    }

    /// Deletes the encoder and its text vectors.
    public func delete(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM text_embedding WHERE encoder_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM encoder WHERE id = ?", arguments: [id])
    }
}
