import GRDB

/// Counts that `fitstore stats` prints.
public struct StoreStats: Sendable {
    public struct SplitCount: Sendable { public let dataset: String; public let split: String; public let origin: String; public let samples: Int; public let scored: Int }
    public struct MetricCount: Sendable { public let dataset: String; public let metric: String; public let train: Int; public let test: Int; public let synthetic: Int; public let meanScore: Double? }

    public var schemaVersion: Int
    public var datasets: Int
    public var runs: Int
    public var splits: [SplitCount]
    public var metrics: [MetricCount]
    /// Text references from active samples and metrics, and the distinct texts behind them.
    public var textReferences: Int
    public var distinctTexts: Int
    public var storedTexts: Int
    public var textVectors: Int
    public var metricVectors: Int

    public var dedupRatio: Double { distinctTexts == 0 ? 1 : Double(textReferences) / Double(distinctTexts) }

    /// Read from the counts the triggers of migration 7 keep (`sample_tally`, `text_use`):
    /// a few hundred rows whatever the store's size.
    public static func load(_ db: Database) throws -> StoreStats {
        let splits = try Row.fetchAll(db, sql: """
            SELECT d.name, t.split, t.origin, SUM(t.samples), SUM(t.scored)
              FROM sample_tally t JOIN dataset d ON d.id = t.dataset_id
             GROUP BY d.name, t.split, t.origin HAVING SUM(t.samples) > 0 ORDER BY d.name, t.split, t.origin
            """).map { SplitCount(dataset: try $0.stored(in: "sample")[0], split: try $0.stored(in: "sample")[1], origin: try $0.stored(in: "sample")[2], samples: try $0.stored(in: "sample")[3], scored: try $0.stored(in: "sample")[4]) }
        let metrics = try Row.fetchAll(db, sql: """
            SELECT d.name, m.name,
                   COALESCE(SUM(CASE WHEN t.split = 'train' AND t.origin = 'real' THEN t.samples END), 0) AS train,
                   COALESCE(SUM(CASE WHEN t.split = 'test' THEN t.samples END), 0),
                   COALESCE(SUM(CASE WHEN t.origin = 'synthetic' THEN t.samples END), 0),
                   SUM(CASE WHEN t.origin = 'real' THEN t.score_sum END) / NULLIF(SUM(CASE WHEN t.origin = 'real' THEN t.scored END), 0)
              FROM metric m JOIN dataset d ON d.id = m.dataset_id
              LEFT JOIN sample_tally t ON t.metric_id = m.id
             GROUP BY m.id ORDER BY d.name, train DESC, m.name
            """).map { MetricCount(dataset: try $0.stored(in: "sample")[0], metric: try $0.stored(in: "sample")[1], train: try $0.stored(in: "sample")[2], test: try $0.stored(in: "sample")[3], synthetic: try $0.stored(in: "sample")[4], meanScore: try $0.stored(in: "sample")[5]) }
        let texts = try Row.fetchOne(db, sql: """
            SELECT COALESCE(SUM(uses), 0), COUNT(CASE WHEN uses > 0 THEN 1 END), (SELECT COUNT(*) FROM text) FROM text_use
            """)?.stored(in: "text_use")
        return StoreStats(
            schemaVersion: try Migrator.currentVersion(db),
            datasets: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dataset") ?? 0,
            runs: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run") ?? 0,
            splits: splits, metrics: metrics,
            textReferences: try texts?[0] ?? 0,
            distinctTexts: try texts?[1] ?? 0,
            storedTexts: try texts?[2] ?? 0,
            textVectors: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM text_embedding") ?? 0,
            metricVectors: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM metric_embedding") ?? 0)
    }
}
