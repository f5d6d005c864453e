import Foundation
import GRDB

/// Vectors of texts under one encoder: which texts in use still lack one, and writing them.
public struct TextVectors {
    public let encoder: Int64

    public init(encoder: Int64) { self.encoder = encoder }

    /// The texts in use (of active samples and of metrics) without a vector under `key`,
    /// shortest first: their count and UTF-8 bytes. An unknown key lacks them all.
    public static func missingTotals(_ db: Database, key: String) throws -> (texts: Int, bytes: Int) {
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*), COALESCE(SUM(t.bytes), 0) FROM text t
             WHERE t.id IN (SELECT text_id FROM text_use WHERE uses > 0)
               AND NOT EXISTS (SELECT 1 FROM text_embedding e
                                WHERE e.text_id = t.id AND e.encoder_id = (SELECT id FROM encoder WHERE key = ?))
            """, arguments: [key])?.stored(in: "text")
        return (try row?[0] ?? 0, try row?[1] ?? 0)
    }

    /// Up to `limit` of those texts, shortest first: (text id, body).
    public static func missing(_ db: Database, key: String, limit: Int) throws -> [(id: Int64, body: String)] {
        try Row.fetchAll(db, sql: """
            SELECT t.id, t.body FROM text t
             WHERE t.id IN (SELECT text_id FROM text_use WHERE uses > 0)
               AND NOT EXISTS (SELECT 1 FROM text_embedding e
                                WHERE e.text_id = t.id AND e.encoder_id = (SELECT id FROM encoder WHERE key = ?))
             ORDER BY t.bytes, t.id
             LIMIT ?
            """, arguments: [key, limit]).map { (try $0.stored(in: "text_embedding")[0], try $0.stored(in: "text_embedding")[1]) }
    }

    /// Every text in use without a vector under `key` (all of them for an unknown key), in
    /// id order, one at a time: (id, sha256 hex, body).
    public static func forEachMissing(_ db: Database, key: String, _ body: (Int64, String, String) throws -> Void) throws {
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT t.id, t.sha256, t.body FROM text t
             WHERE t.id IN (SELECT text_id FROM text_use WHERE uses > 0)
               AND NOT EXISTS (SELECT 1 FROM text_embedding e
                                WHERE e.text_id = t.id AND e.encoder_id = (SELECT id FROM encoder WHERE key = ?))
             ORDER BY t.id
            """, arguments: [key])
        while let row = try cursor.next() { try body(try row.stored(in: "text_embedding")[0], try row.stored(in: "text_embedding")[1], try row.stored(in: "text_embedding")[2]) }
    }

    /// Stores vectors (a text that has one already keeps it) stamped with `run`; returns how
    /// many were new.
    @discardableResult
    public func insert(_ db: Database, _ vectors: [(text: Int64, vector: [Float])], run: Int64,
                       as encoding: VectorEncoding = .compact) throws -> Int {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO text_embedding (text_id, encoder_id, vector, run_id) VALUES (?, ?, ?, ?)
            ON CONFLICT (text_id, encoder_id) DO NOTHING
            """)
        var added = 0
        for (text, vector) in vectors {
            try insert.execute(arguments: [text, encoder, try VectorCodec.encode(vector, as: encoding), run])
            added += db.changesCount
        }
        return added
    }

    /// The stored vector blobs of these texts under this encoder, by text id (texts without
    /// one are absent; read 500 ids a statement).
    public func blobs(_ db: Database, texts ids: [Int64]) throws -> [Int64: Data] {
        var out: [Int64: Data] = [:]
        try _KeyChunks.forEachRow(db, keys: ids, leading: [encoder], sql: {
            "SELECT text_id, vector FROM text_embedding WHERE encoder_id = ? AND text_id IN (\($0))"
        }) { out[try $0.stored(in: "text_embedding")[0]] = try $0.stored(in: "text_embedding")[1] }
        return out
    }

    /// The dimension of this encoder's stored vectors (from one of them), nil without any.
    public func dims(_ db: Database) throws -> Int? {
        guard let row = try Row.fetchOne(db, sql: "SELECT text_id, vector FROM text_embedding WHERE encoder_id = ? LIMIT 1",
                                         arguments: [encoder]) else { return nil }
        return try StoredVector.dims(try row.stored(in: "text_embedding")[1], table: "text_embedding", row: "text \(try row.stored(in: "text_embedding")[0] as Int64), encoder \(encoder)")
    }
}
