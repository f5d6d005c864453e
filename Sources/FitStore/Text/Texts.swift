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

    /// The ids of the texts with these sha256 digests (hex), by digest; unknown ones absent.
    public static func ids(_ db: Database, sha256s: [String]) throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        for start in stride(from: 0, to: sha256s.count, by: 500) {
            let chunk = Array(sha256s[start..<min(sha256s.count, start + 500)])
            let placeholders = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            for row in try Row.fetchAll(db, sql: "SELECT sha256, id FROM text WHERE sha256 IN (\(placeholders))", arguments: StatementArguments(chunk)) {
                out[row[0]] = row[1]
            }
        }
        return out
    }
}
