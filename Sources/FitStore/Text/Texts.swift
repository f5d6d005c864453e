import GRDB

/// Reading texts by id.
public enum Texts {
    /// The bodies of these texts, by id (read 500 ids a statement).
    public static func bodies(_ db: Database, ids: [Int64]) throws -> [Int64: String] {
        var out: [Int64: String] = [:]
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = Array(ids[start..<min(ids.count, start + 500)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            for row in try Row.fetchAll(db, sql: "SELECT id, body FROM text WHERE id IN (\(placeholders))", arguments: StatementArguments(chunk)) {
                out[row[0]] = row[1]
            }
        }
        return out
    }
}
