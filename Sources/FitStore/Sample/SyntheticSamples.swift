import Foundation
import GRDB

/// Synthetic rows: recipes written by a generator from parent rows, with their provenance
/// (generator, version, parameters, seed, parents in order, run). A row's key is a digest of
/// its provenance, so writing the same recipe twice is a no-op.
public enum SyntheticSamples {
    /// An active real train row, as the generators see it.
    public struct Parent: Sendable {
        public let id: Int64
        public let metric: String
        public let score: Double
        public let prompt: Int64?
        public let response: Int64?
        public let system: Int64?

        /// Its item: the prompt and response it judges.
        public var item: String { "\(prompt.map(String.init) ?? "-"):\(response.map(String.init) ?? "-")" }
    }

    /// The active real train rows of a data set, by id (read through a cursor; metric names
    /// shared between rows, so a million parents take tens of megabytes, not hundreds).
    public static func parents(_ db: Database, dataset: Int64) throws -> [Parent] {
        let names = Dictionary(uniqueKeysWithValues: try Metric.all(db, dataset: dataset).map { ($0.id, $0.name) })
        var parents: [Parent] = []
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT s.id, s.metric_id, s.score, s.prompt_text_id, s.response_text_id, s.system_text_id
              FROM sample s
             WHERE s.dataset_id = ? AND s.split = 'train' AND s.origin = 'real' AND s.retired_run_id IS NULL
             ORDER BY s.id
            """, arguments: [dataset])
        while let row = try cursor.next() {
            let metric: Int64 = try row.stored(in: "sample")[1]
            parents.append(Parent(id: try row.stored(in: "sample")[0], metric: names[metric] ?? "#\(metric)", score: try row.stored(in: "sample").score(2) ?? 0,
                                  prompt: try row.stored(in: "sample")[3], response: try row.stored(in: "sample")[4], system: try row.stored(in: "sample")[5]))
        }
        return parents
    }

    /// The keys of the active synthetic rows.
    public static func activeKeys(_ db: Database, dataset: Int64) throws -> Set<String> {
        Set(try String.fetchAll(db, sql: """
            SELECT key FROM sample WHERE dataset_id = ? AND origin = 'synthetic' AND retired_run_id IS NULL
            """, arguments: [dataset]))
    }

    static let orphanCondition = """
        dataset_id = ? AND origin = 'synthetic' AND retired_run_id IS NULL
        AND EXISTS (SELECT 1 FROM sample_parent sp JOIN sample p ON p.id = sp.parent_id
                     WHERE sp.sample_id = sample.id AND p.retired_run_id IS NOT NULL)
        """

    /// Active synthetic rows whose parent was retired.
    public static func orphanCount(_ db: Database, dataset: Int64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sample WHERE \(orphanCondition)", arguments: [dataset]) ?? 0
    }

    /// Retires them with `run` (children follow their parents); returns how many.
    public static func retireOrphans(_ db: Database, dataset: Int64, run: Int64) throws -> Int {
        try db.execute(sql: "UPDATE sample SET retired_run_id = ? WHERE \(orphanCondition)", arguments: [run, dataset])
        return db.changesCount
    }

    /// One recipe to write.
    public struct Recipe: Sendable {
        public let key: String
        public let metric: Int64
        public let prompt: Int64?
        public let response: Int64?
        public let system: Int64?
        public let score: Double
        public let digest: String
        public let generator: String
        public let version: Int
        public let parameters: String
        public let seed: UInt64
        public let parents: [Int64]

        public init(key: String, metric: Int64, prompt: Int64?, response: Int64?, system: Int64?, score: Double, digest: String,
                    generator: String, version: Int, parameters: String, seed: UInt64, parents: [Int64]) {
            self.key = key
            self.metric = metric
            self.prompt = prompt
            self.response = response
            self.system = system
            self.score = score
            self.digest = digest
            self.generator = generator
            self.version = version
            self.parameters = parameters
            self.seed = seed
            self.parents = parents
        }
    }

    /// Writes recipes as train rows of one run, each with its parent links in order; a
    /// recipe whose key an active row has already is left alone.
    public struct Writer {
        let insertStatement: Statement
        let linkStatement: Statement
        let dataset: Int64
        let run: Int64

        public init(_ db: Database, dataset: Int64, run: Int64) throws {
            insertStatement = try db.cachedStatement(sql: """
                INSERT INTO sample (dataset_id, key, split, origin, metric_id, prompt_text_id, response_text_id, system_text_id,
                                    score, digest, generator, generator_version, parameters, seed, run_id)
                VALUES (?, ?, 'train', 'synthetic', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (dataset_id, key) WHERE retired_run_id IS NULL DO NOTHING
                """)
            linkStatement = try db.cachedStatement(sql: "INSERT INTO sample_parent (sample_id, ordinal, parent_id) VALUES (?, ?, ?)")
            self.dataset = dataset
            self.run = run
        }

        /// True when the recipe was new and is now written.
        @discardableResult
        public func insert(_ db: Database, _ r: Recipe) throws -> Bool {
            try insertStatement.execute(arguments: [dataset, r.key, r.metric, r.prompt, r.response, r.system, r.score, r.digest,
                                                    r.generator, r.version, r.parameters, Int64(bitPattern: r.seed), run])
            guard db.changesCount > 0 else { return false }
            let id = db.lastInsertedRowID
            for (ordinal, parent) in r.parents.enumerated() { try linkStatement.execute(arguments: [id, ordinal, parent]) }
            return true
        }
    }

    /// Writes recipes as train rows of `run` (see `Writer`).
    public static func insert(_ db: Database, dataset: Int64, _ recipes: [Recipe], run: Int64) throws {
        let writer = try Writer(db, dataset: dataset, run: run)
        for r in recipes { try writer.insert(db, r) }
    }

    /// The generators with active rows in a data set, sorted.
    public static func generators(_ db: Database, dataset: Int64) throws -> [String] {
        try String.fetchAll(db, sql: """
            SELECT DISTINCT generator FROM sample
             WHERE dataset_id = ? AND generator IS NOT NULL AND retired_run_id IS NULL ORDER BY 1
            """, arguments: [dataset])
    }

    /// Every generator the store has rows of, active or retired (an as-of-run selection can
    /// take retired ones), sorted.
    public static func allGenerators(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT DISTINCT generator FROM sample WHERE generator IS NOT NULL ORDER BY 1")
    }

    /// Retires the active rows of these generators with `run` (removal keeps lineage, as
    /// every removal in the store does); returns how many.
    public static func retire(_ db: Database, dataset: Int64, generators: [String], run: Int64) throws -> Int {
        let placeholders = Array(repeating: "?", count: generators.count).joined(separator: ",")
        try db.execute(sql: """
            UPDATE sample SET retired_run_id = ?
             WHERE dataset_id = ? AND generator IN (\(placeholders)) AND retired_run_id IS NULL
            """, arguments: [run, dataset] + StatementArguments(generators))
        return db.changesCount
    }

    /// How many active rows these generators have.
    public static func count(_ db: Database, dataset: Int64, generators: [String]) throws -> Int {
        let placeholders = Array(repeating: "?", count: generators.count).joined(separator: ",")
        return try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM sample WHERE dataset_id = ? AND generator IN (\(placeholders)) AND retired_run_id IS NULL
            """, arguments: [dataset] + StatementArguments(generators)) ?? 0
    }

    /// The parents of these rows, in order (rows without parents absent). Read 500 ids a
    /// statement.
    public static func parentLinks(_ db: Database, children ids: [Int64]) throws -> [Int64: [Int64]] {
        var parents: [Int64: [Int64]] = [:]
        try _KeyChunks.forEachRow(db, keys: ids, sql: {
            "SELECT sample_id, parent_id FROM sample_parent WHERE sample_id IN (\($0)) ORDER BY sample_id, ordinal"
        }) { parents[try $0.stored(in: "sample")[0], default: []].append(try $0.stored(in: "sample")[1]) }
        return parents
    }
}
