import Foundation
import GRDB

/// Who made a set of vectors: an encoder of texts (its key is the identity of its vectors:
/// model digest and settings, or 'imported:<name>') or a data set's given metric vectors
/// ('given:<data set>:<file sha256>'). Encoders of texts have a name the user types.
public struct Encoder: Sendable, Equatable {
    /// `model`: vectors of texts (made here or imported); `given`: a data set's metric vectors.
    public enum Kind: String, Sendable { case model, given }
    /// Where the vectors come from.
    public enum Source: String, Sendable { case builtin, folder, imported, given }

    public let id: Int64
    public let key: String
    public let kind: Kind
    public let source: Source
    public let name: String?
    public let dims: Int
    public let config: String

    init(row: Row) throws {
        let r = row.stored(in: "encoder")
        id = try r["id"]
        key = try r["key"]
        dims = try r["dims"]
        name = try r["name"]
        config = try r["config"]
        let kindText: String = try r["kind"], sourceText: String = try r["source"]
        guard let kind = Kind(rawValue: kindText), let source = Source(rawValue: sourceText) else {
            throw StoreError.damaged(table: "encoder", row: r.label, reason: "unknown kind '\(kindText)' or source '\(sourceText)'")
        }
        self.kind = kind
        self.source = source
    }

    static let columns = "id, key, kind, source, name, dims, config"

    /// What a message calls it: its name, else its key.
    public var displayName: String { name ?? key }

    /// The columns, each prefixed with a table alias.
    static func qualifiedColumns(_ alias: String) -> String { ColumnList.qualified(columns, alias: alias) }

    /// The encoder the user calls `name`.
    public static func named(_ db: Database, _ name: String) throws -> Encoder? {
        try Row.fetchOne(db, sql: "SELECT \(columns) FROM encoder WHERE name = ?", arguments: [name]).map(Encoder.init)
    }

    /// Every encoder of texts with how many of the texts in use have its vector, and how many
    /// texts are in use.
    public static func textEncoders(_ db: Database) throws -> (encoders: [(encoder: Encoder, covered: Int)], inUse: Int) {
        let inUse = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM text_use WHERE uses > 0") ?? 0
        let rows = try Row.fetchAll(db, sql: """
            SELECT \(qualifiedColumns("e")),
                   (SELECT COUNT(*) FROM text_embedding t WHERE t.encoder_id = e.id
                       AND t.text_id IN (SELECT text_id FROM text_use WHERE uses > 0)) AS covered
              FROM encoder e WHERE e.kind = 'model' ORDER BY e.id
            """)
        return (try rows.map { (try Encoder(row: $0), try $0.stored(in: "encoder")["covered"] as Int) }, inUse)
    }

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

    /// Registers an encoder (nothing when one with that key exists) and returns it. A name
    /// already taken by another encoder is not given (the new one stays unnamed).
    public static func register(_ db: Database, key: String, kind: Kind, source: Source, name: String? = nil, dims: Int,
                                config: some Encodable, run: Int64) throws -> Encoder {
        let free = try name.map { try named(db, $0) == nil } ?? false
        try db.execute(sql: """
            INSERT INTO encoder (key, kind, source, name, dims, config, run_id) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key) DO NOTHING
            """, arguments: [key, kind.rawValue, source.rawValue, free ? name : nil, dims, try JSONText.encode(config), run])
        // An encoder registered before encoders had names gets its name now.
        if free, let name {
            try db.execute(sql: "UPDATE encoder SET name = ? WHERE key = ? AND name IS NULL", arguments: [name, key])
        }
        guard let encoder = try keyed(db, key) else {
            throw StoreError.damaged(table: "encoder", row: key, reason: "registered but not found")
        }
        return encoder
    }

    /// What `fitstore gc` may remove: built-in encoders other than `keeping` (the model's other
    /// prefixes, length policies and arithmetic versions), and the encoders named in
    /// `named` (whatever their source), that no checkpoint uses, with their vector counts.
    /// An imported or folder encoder is removed only when named.
    public static func collectable(_ db: Database, keeping key: String, named: [String] = []) throws -> [(encoder: Encoder, vectors: Int)] {
        let placeholders = Array(repeating: "?", count: named.count).joined(separator: ",")
        let byName = named.isEmpty ? "0" : "e.name IN (\(placeholders))"
        return try Row.fetchAll(db, sql: """
            SELECT \(qualifiedColumns("e")),
                   (SELECT COUNT(*) FROM text_embedding t WHERE t.encoder_id = e.id) AS vectors
              FROM encoder e
             WHERE e.kind = 'model' AND e.key <> ? AND (e.source = 'builtin' OR \(byName))
               AND NOT EXISTS (SELECT 1 FROM checkpoint c WHERE c.encoder_id = e.id)
               AND NOT EXISTS (SELECT 1 FROM checkpoint_encoder ce WHERE ce.encoder_id = e.id)
             ORDER BY e.id
            """, arguments: [key] + StatementArguments(named)).map { (try Encoder(row: $0), try $0.stored(in: "encoder")["vectors"] as Int) }
    }

    /// The checkpoints whose features came (in part) from this encoder, oldest first.
    public func checkpoints(_ db: Database) throws -> [Int64] {
        try Int64.fetchAll(db, sql: """
            SELECT checkpoint_id FROM checkpoint_encoder WHERE encoder_id = ?
            UNION SELECT id FROM checkpoint WHERE encoder_id = ? ORDER BY 1
            """, arguments: [id, id])
    }

    /// Deletes the encoder and its text vectors.
    public func delete(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM text_embedding WHERE encoder_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM encoder WHERE id = ?", arguments: [id])
    }
}
