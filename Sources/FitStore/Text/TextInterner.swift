import FitFormats
import Foundation
import GRDB

/// Content-addressed text rows: `id(for:)` returns the row of an identical body, inserting
/// it (stamped with the current run) the first time it is seen.
public final class TextInterner {
    private let db: Database
    private let runID: Int64
    private var cache: [Data: Int64] = [:]
    public private(set) var inserted = 0

    public init(_ db: Database, runID: Int64) {
        self.db = db
        self.runID = runID
    }

    public static func digest(_ body: String) -> Data { Data(SHA256.digest(body)) }

    public func id(for body: String) throws -> Int64 {
        try intern(body).id
    }

    /// The row id and the sha256 of `body`; callers reuse the digest to key composite content.
    public func intern(_ body: String) throws -> (id: Int64, digest: Data) {
        let digest = Self.digest(body)
        if let id = cache[digest] { return (id, digest) }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO text (sha256, body, chars, bytes, run_id) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (sha256) DO NOTHING
            """)
        try insert.execute(arguments: [digest, body, body.unicodeScalars.count, body.utf8.count, runID])
        let id: Int64
        if db.changesCount > 0 {
            id = db.lastInsertedRowID
            inserted += 1
        } else {
            let select = try db.cachedStatement(sql: "SELECT id FROM text WHERE sha256 = ?")
            guard let existing = try Int64.fetchOne(select, arguments: [digest]) else {
                throw StoreError.notFound("text row vanished during insert")
            }
            id = existing
        }
        // Bound the cache: a streaming ingest of a huge file must not grow without limit.
        if cache.count > 200_000 { cache.removeAll(keepingCapacity: true) }
        cache[digest] = id
        return (id, digest)
    }
}
