import FitFormats
import Foundation
import GRDB

/// Content-addressed text rows: `id(for:)` returns the row of an identical body, inserting
/// it (stamped with the current run) the first time it is seen. A row's `sha256` is the
/// lowercase hex digest of the body's UTF-8 bytes.
public final class TextInterner {
    private let db: Database
    private let runID: Int64
    private var cache: [Data: Int64] = [:]
    public private(set) var inserted = 0

    public init(_ db: Database, runID: Int64) {
        self.db = db
        self.runID = runID
    }

    /// The raw sha256 of a body (what composite digests hash).
    public static func digest(_ body: String) -> Data { Data(SHA256.digest(body)) }

    public func id(for body: String) throws -> Int64 {
        try intern(body).id
    }

    /// The row id and the raw sha256 of `body`; callers reuse the digest to key composite
    /// content.
    public func intern(_ body: String) throws -> (id: Int64, digest: Data) {
        let digest = Self.digest(body)
        if let id = cache[digest] { return (id, digest) }
        let hex = [UInt8](digest).hexString
        let insert = try db.cachedStatement(sql: """
            INSERT INTO text (sha256, body, chars, bytes, run_id) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (sha256) DO NOTHING
            """)
        try insert.execute(arguments: [hex, body, body.unicodeScalars.count, body.utf8.count, runID])
        let id: Int64
        if db.changesCount > 0 {
            id = db.lastInsertedRowID
            inserted += 1
        } else {
            let select = try db.cachedStatement(sql: "SELECT id FROM text WHERE sha256 = ?")
            // The insert did nothing, so the row exists, in this same transaction.
            guard let existing = try Int64.fetchOne(select, arguments: [hex]) else {
                throw StoreError.damaged(table: "text", row: "sha256 \(hex)", reason: "the unique index holds the digest but no row has it")
            }
            id = existing
        }
        // Bound the cache: a streaming ingest of a huge file must not grow without limit.
        if cache.count > 200_000 { cache.removeAll(keepingCapacity: true) }
        cache[digest] = id
        return (id, digest)
    }
}
