import GRDB

/// Reads for a long list of keys, a bounded number of keys per statement: SQLite caps the
/// host parameters of one statement, and memory then follows a chunk, not the whole list.
enum _KeyChunks {
    static let size = 500

    /// Runs `sql(placeholders)` ("?,?,…", one per key of the chunk) once per chunk of
    /// `keys`, with `leading` arguments then the chunk's keys, and hands every result row to
    /// `body`.
    static func forEachRow<Key: DatabaseValueConvertible>(_ db: Database, keys: [Key], leading: StatementArguments = [],
                                                          sql: (String) -> String, _ body: (Row) throws -> Void) throws {
        for start in stride(from: 0, to: keys.count, by: size) {
            let chunk = Array(keys[start..<min(keys.count, start + size)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let rows = try Row.fetchCursor(db, sql: sql(placeholders), arguments: leading + StatementArguments(chunk))
            while let row = try rows.next() { try body(row) }
        }
    }
}
