import GRDB

/// What `fitstore audit` reads: the synthetic data of a data set per generator, and whether
/// its provenance holds together (integrity) or contradicts real labels (warnings). Real rows
/// are the generator "real".
public struct SyntheticAudit: Sendable {
    /// Active rows per generator.
    public var rowsPerGenerator: [(generator: String, rows: Int)] = []
    /// Integer-bin score histograms (0...10) of train rows per generator.
    public var histograms: [String: [Int]] = [:]
    public var metricsWithRealRows = 0
    public var metricsWithAnyTrainRows = 0
    public var metricsListed = 0
    /// Per listed metric: train rows before augmentation (real) and after (real + synthetic).
    public var perMetric: [(metric: String, real: Int, withSynthetic: Int)] = []
    public var withoutParents = 0
    public var withRetiredParents = 0
    public var missingProvenance = 0
    public var cycles = 0
    public var duplicateKeys = 0
    /// Synthetic rows whose score differs by more than 1 from a real label of the same
    /// (metric, prompt, response), worst first.
    public var contradictions: [(sample: Int64, metric: String, synthetic: Double, real: Double)] = []
    public var duplicateContent = 0

    /// Active synthetic rows whose score differs by more than 1 from a real label of the same
    /// (metric, prompt, response), worst first (noise copies, near their parent by design,
    /// left out).
    public static func contradictions(_ db: Database, dataset id: Int64) throws -> [(sample: Int64, metric: String, synthetic: Double, real: Double)] {
        try Row.fetchAll(db, sql: """
            SELECT s.id, m.name, s.score, real.score FROM sample s
              JOIN sample real ON real.dataset_id = s.dataset_id AND real.origin = 'real' AND real.split = 'train'
                              AND real.retired_run_id IS NULL AND real.metric_id = s.metric_id
                              AND real.prompt_text_id IS s.prompt_text_id AND real.response_text_id IS s.response_text_id
              JOIN metric m ON m.id = s.metric_id
             WHERE s.dataset_id = ? AND s.retired_run_id IS NULL AND s.origin = 'synthetic' AND ABS(s.score - real.score) > 1
               AND COALESCE(s.generator, '') <> 'negative_noise'
             ORDER BY ABS(s.score - real.score) DESC, s.id
            """, arguments: [id]).map { (try $0.stored(in: "sample")[0], try $0.stored(in: "sample")[1], try $0.stored(in: "sample").requiredScore(2),
                     try $0.stored(in: "sample").requiredScore(3)) }
    }

    public static func load(_ db: Database, dataset id: Int64) throws -> SyntheticAudit {
        var r = SyntheticAudit()
        let active = "s.dataset_id = \(id) AND s.retired_run_id IS NULL"
        r.rowsPerGenerator = try Row.fetchAll(db, sql: """
            SELECT COALESCE(s.generator, 'real'), COUNT(*) FROM sample s WHERE \(active) GROUP BY 1 ORDER BY 1
            """).map { (try $0.stored(in: "sample")[0], try $0.stored(in: "sample")[1]) }
        // Every score read through the checks first: the histogram's SQL would round a damaged one silently.
        for row in try Row.fetchAll(db, sql: """
            SELECT s.id, s.score FROM sample s WHERE \(active) AND s.split = 'train'
               AND (s.score IS NULL OR typeof(s.score) NOT IN ('real', 'integer') OR s.score < 0 OR s.score > 10) LIMIT 1
            """) {
            _ = try row.stored(in: "sample").requiredScore(1)
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT COALESCE(s.generator, 'real') AS generator, CAST(ROUND(s.score) AS INTEGER) AS bin, COUNT(*) AS n FROM sample s
             WHERE \(active) AND s.split = 'train' GROUP BY 1, 2
            """) {
            let stored = row.stored(in: "sample")
            r.histograms[try stored[0], default: [Int](repeating: 0, count: 11)][min(10, max(0, try stored[1] as Int))] += try stored[2] as Int
        }
        r.metricsListed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM metric WHERE dataset_id = ? AND position IS NOT NULL", arguments: [id]) ?? 0
        r.metricsWithRealRows = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT s.metric_id) FROM sample s WHERE \(active) AND s.split = 'train' AND s.origin = 'real'") ?? 0
        r.metricsWithAnyTrainRows = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT s.metric_id) FROM sample s WHERE \(active) AND s.split = 'train'") ?? 0
        r.perMetric = try Row.fetchAll(db, sql: """
            SELECT m.name,
                   COUNT(CASE WHEN s.origin = 'real' THEN 1 END),
                   COUNT(s.id)
              FROM metric m LEFT JOIN sample s ON s.metric_id = m.id AND s.retired_run_id IS NULL AND s.split = 'train'
             WHERE m.dataset_id = \(id) AND m.position IS NOT NULL
             GROUP BY m.id ORDER BY COUNT(s.id) - COUNT(CASE WHEN s.origin = 'real' THEN 1 END) DESC, m.name
            """).map { (try $0.stored(in: "sample")[0], try $0.stored(in: "sample")[1], try $0.stored(in: "sample")[2]) }
        r.withoutParents = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM sample s WHERE \(active) AND s.origin = 'synthetic'
               AND NOT EXISTS (SELECT 1 FROM sample_parent sp WHERE sp.sample_id = s.id)
            """) ?? 0
        r.withRetiredParents = try Int.fetchOne(db, sql: """
            SELECT COUNT(DISTINCT s.id) FROM sample s JOIN sample_parent sp ON sp.sample_id = s.id JOIN sample p ON p.id = sp.parent_id
             WHERE \(active) AND s.origin = 'synthetic' AND p.retired_run_id IS NOT NULL
            """) ?? 0
        r.missingProvenance = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM sample s WHERE \(active) AND s.origin = 'synthetic'
               AND (s.generator IS NULL OR s.generator_version IS NULL OR s.parameters IS NULL)
            """) ?? 0
        // A row that reaches itself by following parent links.
        r.cycles = try Int.fetchOne(db, sql: """
            WITH RECURSIVE walk(start, node, depth) AS (
                SELECT sp.sample_id, sp.parent_id, 1 FROM sample_parent sp JOIN sample s ON s.id = sp.sample_id WHERE s.dataset_id = \(id)
                UNION
                SELECT w.start, sp.parent_id, w.depth + 1 FROM walk w JOIN sample_parent sp ON sp.sample_id = w.node WHERE w.depth < 64)
            SELECT COUNT(DISTINCT start) FROM walk WHERE node = start
            """) ?? 0
        r.duplicateKeys = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM (SELECT key FROM sample s WHERE \(active) GROUP BY key HAVING COUNT(*) > 1)
            """) ?? 0
        r.contradictions = try contradictions(db, dataset: id)
        r.duplicateContent = try Int.fetchOne(db, sql: """
            SELECT COALESCE(SUM(n - 1), 0) FROM (
                SELECT COUNT(*) AS n FROM sample s
                 WHERE \(active) AND s.split = 'train' AND COALESCE(s.generator, '') <> 'negative_noise'
                 GROUP BY s.metric_id, s.prompt_text_id, s.response_text_id, s.system_text_id HAVING COUNT(*) > 1)
            """) ?? 0
        return r
    }
}
