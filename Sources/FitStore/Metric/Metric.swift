import GRDB

/// An evaluation metric of a data set. Metrics are never deleted (samples point at them): a
/// metric no longer listed in metric_names.json keeps its row with `position` NULL.
public struct Metric: Sendable, Equatable {
    public let id: Int64
    public let name: String
    /// Index in metric_names.json (the row of the given .npy); nil when no longer listed.
    public let position: Int?
    /// The part before the first '/'.
    public let major: String

    init(row: Row) throws {
        let r = row.stored(in: "metric")
        id = try r["id"]
        name = try r["name"]
        position = try r["position"]
        major = try r["major"]
    }

    /// Every metric of a data set, listed or not, by id.
    public static func all(_ db: Database, dataset: Int64) throws -> [Metric] {
        try Row.fetchAll(db, sql: "SELECT id, name, position, major FROM metric WHERE dataset_id = ? ORDER BY id",
                         arguments: [dataset]).map(Metric.init)
    }

    /// The listed metrics (those of the current metric_names.json) by name.
    public static func listedIDs(_ db: Database, dataset: Int64) throws -> [String: Int64] {
        Dictionary(uniqueKeysWithValues: try all(db, dataset: dataset).filter { $0.position != nil }.map { ($0.name, $0.id) })
    }

    /// How many metrics metric_names.json lists.
    public static func listedCount(_ db: Database, dataset: Int64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM metric WHERE dataset_id = ? AND position IS NOT NULL", arguments: [dataset]) ?? 0
    }

    /// A new metric at `position`, its name interned as a text.
    public static func insert(_ db: Database, dataset: Int64, name: String, position: Int, nameText: Int64, run: Int64) throws {
        let parts = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let minor = parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil
        try db.execute(sql: """
            INSERT INTO metric (dataset_id, name, major, minor, position, name_text_id, run_id, updated_run_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [dataset, name, String(parts[0]), minor, position, nameText, run, run])
    }

    /// Moves a metric to another position of metric_names.json, or (nil) unlists it.
    public static func setPosition(_ db: Database, metric: Int64, position: Int?, run: Int64) throws {
        try db.execute(sql: "UPDATE metric SET position = ?, updated_run_id = ? WHERE id = ?", arguments: [position, run, metric])
    }

    /// Points a metric at a new definition text (nil: none); false when it already had it.
    public static func setDefinition(_ db: Database, dataset: Int64, name: String, text: Int64?, run: Int64) throws -> Bool {
        try db.execute(sql: """
            UPDATE metric SET definition_text_id = ?, updated_run_id = ?
             WHERE dataset_id = ? AND name = ? AND definition_text_id IS NOT ?
            """, arguments: [text, run, dataset, name, text])
        return db.changesCount > 0
    }
}
