import Foundation
import GRDB

/// Real rows: the records of a data set's train and test files, one row per record version.
/// A record is keyed by its split and position ('train:17'); a changed record retires its
/// row and gets a new one, so lineage survives.
public enum RealSamples {
    public enum Split: String, Sendable { case train, test }

    /// The active row of each position of a split: its id and content digest.
    public static func active(_ db: Database, dataset: Int64, split: Split) throws -> [Int: (id: Int64, digest: String)] {
        var active: [Int: (id: Int64, digest: String)] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT position, id, digest FROM sample
             WHERE dataset_id = ? AND split = ? AND origin = 'real' AND retired_run_id IS NULL
            """, arguments: [dataset, split.rawValue])
        while let row = try rows.next() { active[try row.stored(in: "sample")[0]] = (try row.stored(in: "sample")[1], try row.stored(in: "sample")[2]) }
        return active
    }

    /// An active real test row as scoring sees it: its record position (ID = position + 1 in
    /// the `ID,score` layout) and its metric's name.
    public struct TestRow: Sendable {
        public let sample: Int64
        public let position: Int
        public let metric: String
    }

    /// The data set's active real test rows, by position: each position a record index of
    /// test_data.json, each once.
    public static func testRows(_ db: Database, dataset: Int64) throws -> [TestRow] {
        var seen: Set<Int> = []
        return try Row.fetchAll(db, sql: """
            SELECT s.id, s.position, m.name FROM sample s JOIN metric m ON m.id = s.metric_id
             WHERE s.dataset_id = ? AND s.split = 'test' AND s.origin = 'real' AND s.retired_run_id IS NULL
             ORDER BY s.position
            """, arguments: [dataset]).map { row in
            let r = row.stored(in: "sample")
            let position = try r.whole("position", in: 0...Int(Int32.max))
            guard seen.insert(position).inserted else {
                throw StoreError.damaged(table: "sample", row: r.label, reason: "its position \(position) is another active test row's too")
            }
            return TestRow(sample: try r["id"], position: position, metric: try r["name"])
        }
    }

    /// The scores of the active real train rows with their metric's name (for the mean
    /// baselines of a test score).
    public static func trainScores(_ db: Database, dataset: Int64) throws -> [(metric: String, score: Double)] {
        try Row.fetchAll(db, sql: """
            SELECT s.id, m.name, s.score FROM sample s JOIN metric m ON m.id = s.metric_id
             WHERE s.dataset_id = ? AND s.split = 'train' AND s.origin = 'real' AND s.retired_run_id IS NULL
               AND s.score IS NOT NULL
            """, arguments: [dataset]).map { (try $0.stored(in: "sample")[1], try $0.stored(in: "sample").requiredScore(2)) }
    }

    /// The label and metric name of each of these real train rows (others are left out).
    public static func trainLabels(_ db: Database, ids: [Int64]) throws -> [Int64: (metric: String, score: Double)] {
        var out: [Int64: (String, Double)] = [:]
        try _KeyChunks.forEachRow(db, keys: ids, sql: { """
            SELECT s.id, m.name, s.score FROM sample s JOIN metric m ON m.id = s.metric_id
             WHERE s.id IN (\($0)) AND s.split = 'train' AND s.origin = 'real' AND s.score IS NOT NULL
            """ }) { out[try $0.stored(in: "sample")[0]] = (try $0.stored(in: "sample")[1], try $0.stored(in: "sample").requiredScore(2)) }
        return out
    }

    /// Whether some active real train row of the data set has a system prompt.
    public static func hasSystemPrompts(_ db: Database, dataset: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM sample WHERE dataset_id = ? AND split = 'train' AND origin = 'real'
                                                  AND retired_run_id IS NULL AND system_text_id IS NOT NULL)
            """, arguments: [dataset]) ?? false
    }

    /// Writes the rows of one ingest run: new record versions, and retirements.
    public struct Writer {
        let insertStatement: Statement
        let retireStatement: Statement
        let dataset: Int64
        let run: Int64

        public init(_ db: Database, dataset: Int64, run: Int64) throws {
            insertStatement = try db.cachedStatement(sql: """
                INSERT INTO sample (dataset_id, key, split, origin, position, source_file_id, metric_id,
                                    prompt_text_id, response_text_id, system_text_id, score, digest, run_id)
                VALUES (?, ?, ?, 'real', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            retireStatement = try db.cachedStatement(sql: "UPDATE sample SET retired_run_id = ? WHERE id = ?")
            self.dataset = dataset
            self.run = run
        }

        public func insert(split: Split, position: Int, sourceFile: Int64, metric: Int64, prompt: Int64,
                           response: Int64?, system: Int64?, score: Double?, digest: String) throws {
            try insertStatement.execute(arguments: [
                dataset, "\(split.rawValue):\(position)", split.rawValue, position, sourceFile, metric,
                prompt, response, system, score, digest, run,
            ])
        }

        public func retire(_ sample: Int64) throws {
            try retireStatement.execute(arguments: [run, sample])
        }
    }

    /// The item (its prompt and response texts, "p:r") of each real train row among `ids`:
    /// rows of one item share a cross-validation fold. Read 500 ids a statement, so memory
    /// follows the selection, not the data set.
    public static func trainItems(_ db: Database, ids: [Int64]) throws -> [Int64: String] {
        var items: [Int64: String] = [:]
        try _KeyChunks.forEachRow(db, keys: ids, sql: { """
            SELECT id, prompt_text_id, response_text_id FROM sample
             WHERE id IN (\($0)) AND split = 'train' AND origin = 'real'
            """ }) { row in items[try row.stored(in: "sample")[0]] = "\(try row.stored(in: "sample")[1] as Int64? ?? 0):\(try row.stored(in: "sample")[2] as Int64? ?? 0)" }
        return items
    }

    /// (item, metric name, score) of every active real train row: what metric relations are
    /// suggested from (metrics judged on the same items).
    public static func trainScoresByItem(_ db: Database, dataset: Int64) throws -> [(item: String, metric: String, score: Double)] {
        try Row.fetchAll(db, sql: """
            SELECT s.id, s.prompt_text_id || ':' || COALESCE(s.response_text_id, '') AS item, m.name, s.score
              FROM sample s JOIN metric m ON m.id = s.metric_id
             WHERE s.dataset_id = ? AND s.split = 'train' AND s.origin = 'real' AND s.retired_run_id IS NULL
            """, arguments: [dataset]).map { (try $0.stored(in: "sample")[1], try $0.stored(in: "sample")[2], try $0.stored(in: "sample").requiredScore(3)) }
    }

    /// Active real rows of a split that share their (metric, prompt, response) with another
    /// row of a different score: how many such rows, and the record positions of the first
    /// pair (the lowest-positioned group's first row and its first row with another score).
    /// Counted by SQLite's GROUP BY, which spills to disk: memory does not grow with the rows.
    public static func conflictingTriples(_ db: Database, dataset: Int64, split: Split) throws -> (records: Int, first: (Int, Int)?) {
        let groups = """
            SELECT metric_id, prompt_text_id, response_text_id, COUNT(*) AS n, MIN(position) AS first
              FROM sample
             WHERE dataset_id = ? AND split = ? AND origin = 'real' AND retired_run_id IS NULL AND score IS NOT NULL
             GROUP BY metric_id, prompt_text_id, response_text_id
            HAVING MIN(score) <> MAX(score)
            """
        guard let summary = try Row.fetchOne(db, sql: "SELECT COALESCE(SUM(n), 0), MIN(first) FROM (\(groups))",
                                             arguments: [dataset, split.rawValue]), let first: Int = summary[1] else {
            return (0, nil)
        }
        let other = try Int.fetchOne(db, sql: """
            SELECT MIN(b.position) FROM sample a JOIN sample b
                ON b.dataset_id = a.dataset_id AND b.split = a.split AND b.origin = 'real' AND b.retired_run_id IS NULL
               AND b.metric_id = a.metric_id AND b.prompt_text_id IS a.prompt_text_id AND b.response_text_id IS a.response_text_id
               AND b.score <> a.score
             WHERE a.dataset_id = ? AND a.split = ? AND a.origin = 'real' AND a.retired_run_id IS NULL AND a.position = ?
            """, arguments: [dataset, split.rawValue, first])
        return (summary[0], other.map { (first, $0) })
    }
}
