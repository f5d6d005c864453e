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

    public static func load(_ db: Database) throws -> StoreStats {
        let splits = try Row.fetchAll(db, sql: """
            SELECT d.name, s.split, s.origin, COUNT(*), COUNT(s.score)
              FROM sample s JOIN dataset d ON d.id = s.dataset_id
             WHERE s.retired_run_id IS NULL
             GROUP BY d.name, s.split, s.origin ORDER BY d.name, s.split, s.origin
            """).map { SplitCount(dataset: $0[0], split: $0[1], origin: $0[2], samples: $0[3], scored: $0[4]) }
        let metrics = try Row.fetchAll(db, sql: """
            SELECT d.name, m.name,
                   COUNT(CASE WHEN s.split = 'train' AND s.origin = 'real' THEN 1 END),
                   COUNT(CASE WHEN s.split = 'test' THEN 1 END),
                   COUNT(CASE WHEN s.origin = 'synthetic' THEN 1 END),
                   AVG(CASE WHEN s.origin = 'real' THEN s.score END)
              FROM metric m JOIN dataset d ON d.id = m.dataset_id
              LEFT JOIN sample s ON s.metric_id = m.id AND s.retired_run_id IS NULL
             GROUP BY m.id ORDER BY d.name, 3 DESC, m.name
            """).map { MetricCount(dataset: $0[0], metric: $0[1], train: $0[2], test: $0[3], synthetic: $0[4], meanScore: $0[5]) }
        let references = try Int.fetchOne(db, sql: """
            SELECT (SELECT COUNT(prompt_text_id) + COUNT(response_text_id) + COUNT(system_text_id)
                      FROM sample WHERE retired_run_id IS NULL)
                 + (SELECT COUNT(name_text_id) + COUNT(definition_text_id) FROM metric)
            """) ?? 0
        return StoreStats(
            schemaVersion: try Migrator.currentVersion(db),
            datasets: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dataset") ?? 0,
            runs: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run") ?? 0,
            splits: splits, metrics: metrics,
            textReferences: references,
            distinctTexts: try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT text_id) FROM text_in_use") ?? 0,
            storedTexts: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM text") ?? 0,
            textVectors: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM text_embedding") ?? 0,
            metricVectors: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM metric_embedding") ?? 0)
    }
}
