import GRDB

/// Reading texts by id.
public enum Texts {
    /// The bodies of these texts, by id (read 500 ids a statement).
    public static func bodies(_ db: Database, ids: [Int64]) throws -> [Int64: String] {
        var out: [Int64: String] = [:]
        try _KeyChunks.forEachRow(db, keys: ids, sql: { "SELECT id, body FROM text WHERE id IN (\($0))" }) { out[try $0.stored(in: "text")[0]] = try $0.stored(in: "text")[1] }
        return out
    }

    /// The ids of the texts with these sha256 digests (hex), by digest; unknown ones absent.
    public static func ids(_ db: Database, sha256s: [String]) throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        try _KeyChunks.forEachRow(db, keys: sha256s, sql: { "SELECT sha256, id FROM text WHERE sha256 IN (\($0))" }) { out[try $0.stored(in: "text")[0]] = try $0.stored(in: "text")[1] }
        return out
    }
}
