import Foundation
import GRDB

/// Which samples of a data set a read covers: a split, real rows or not, which synthetic
/// generators, and optionally the store as it was after run N.
public struct SampleSelection: Sendable, Codable, Equatable {
    public enum Split: String, Sendable, Codable, CaseIterable { case train, test, all }

    /// The synthetic generators a selection takes.
    public enum Generators: Sendable, Codable, Equatable {
        case none
        case all
        case only([String])
    }

    /// A seeded random subset of the selected rows, of at most `rows` rows.
    public struct Subset: Sendable, Codable, Equatable {
        public var rows: Int
        public var seed: UInt64
        public init(rows: Int, seed: UInt64) { self.rows = rows; self.seed = seed }
    }

    public var split: Split
    public var includeReal: Bool
    public var generators: Generators
    /// Only samples that existed after this run: written at or before it and not yet retired.
    public var asOfRun: Int64?
    /// Only a seeded random subset (the same rows for the same seed and store).
    public var subset: Subset?

    public init(split: Split, includeReal: Bool = true, generators: Generators = .none, asOfRun: Int64? = nil, subset: Subset? = nil) {
        self.split = split
        self.includeReal = includeReal
        self.generators = generators
        self.asOfRun = asOfRun
        self.subset = subset
    }

    /// The SQL condition on `sample s` and its arguments (the data set id comes first).
    func condition(dataset: Int64) -> (sql: String, arguments: StatementArguments) {
        let (base, arguments) = baseCondition(dataset: dataset, alias: "s")
        guard let subset else { return (base, StatementArguments(arguments)) }
        // The subset: the selected ids ordered by a seeded multiplicative hash.
        let (inner, innerArguments) = baseCondition(dataset: dataset, alias: "u")
        let sql = base + """
             AND s.id IN (SELECT u.id FROM sample u WHERE \(inner)
                           ORDER BY (u.id * 2654435761 + ?) % 4294967311 LIMIT ?)
            """
        return (sql, StatementArguments(arguments + innerArguments + [Int64(subset.seed % (1 << 31)), subset.rows]))
    }

    private func baseCondition(dataset: Int64, alias a: String) -> (String, [any DatabaseValueConvertible]) {
        var clauses = ["\(a).dataset_id = ?"]
        var arguments: [any DatabaseValueConvertible] = [dataset]
        if split != .all {
            clauses.append("\(a).split = ?")
            arguments.append(split.rawValue)
        }
        if let asOfRun {
            clauses.append("\(a).run_id <= ? AND (\(a).retired_run_id IS NULL OR \(a).retired_run_id > ?)")
            arguments += [asOfRun, asOfRun]
        } else {
            clauses.append("\(a).retired_run_id IS NULL")
        }
        var origins: [String] = []
        if includeReal { origins.append("\(a).origin = 'real'") }
        switch generators {
        case .none: break
        case .all: origins.append("\(a).origin = 'synthetic'")
        case .only(let names) where !names.isEmpty:
            origins.append("\(a).generator IN (\(names.map { _ in "?" }.joined(separator: ",")))")
            arguments += names.sorted()
        case .only: break
        }
        clauses.append(origins.isEmpty ? "0" : "(" + origins.joined(separator: " OR ") + ")")
        return (clauses.joined(separator: " AND "), arguments)
    }

    /// How many samples the selection holds.
    public func count(_ db: Database, dataset: Int64) throws -> Int {
        let (condition, arguments) = condition(dataset: dataset)
        return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sample s WHERE \(condition)", arguments: arguments) ?? 0
    }

    /// The distinct metrics of the selection's samples.
    public func metricIDs(_ db: Database, dataset: Int64) throws -> [Int64] {
        let (condition, arguments) = condition(dataset: dataset)
        return try Int64.fetchAll(db, sql: "SELECT DISTINCT s.metric_id FROM sample s WHERE \(condition) ORDER BY 1", arguments: arguments)
    }

    /// The synthetic generators of the selection's samples, sorted.
    public func generatorNames(_ db: Database, dataset: Int64) throws -> [String] {
        let (condition, arguments) = condition(dataset: dataset)
        return try String.fetchAll(db, sql: """
            SELECT DISTINCT s.generator FROM sample s WHERE \(condition) AND s.generator IS NOT NULL ORDER BY 1
            """, arguments: arguments)
    }

    /// Samples whose prompt, or response when they have one, lacks a vector under
    /// `encoder`: how many, and the first one's key.
    public func missingVectors(_ db: Database, dataset: Int64, encoder: Int64) throws -> (count: Int, first: String?) {
        let (condition, arguments) = condition(dataset: dataset)
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*), MIN(s.key) FROM sample s
              LEFT JOIN text_embedding pe ON pe.text_id = s.prompt_text_id AND pe.encoder_id = ?
              LEFT JOIN text_embedding re ON re.text_id = s.response_text_id AND re.encoder_id = ?
             WHERE \(condition) AND (pe.text_id IS NULL OR (s.response_text_id IS NOT NULL AND re.text_id IS NULL))
            """, arguments: [encoder, encoder] + arguments)?.stored(in: "sample")
        return (try row?[0] ?? 0, try row?[1])
    }

    /// Samples whose system prompt lacks a vector under `encoder` (samples without a system
    /// prompt need none): how many, and the first one's key.
    public func missingSystemVectors(_ db: Database, dataset: Int64, encoder: Int64) throws -> (count: Int, first: String?) {
        let (condition, arguments) = condition(dataset: dataset)
        let row = try Row.fetchOne(db, sql: """
            SELECT COUNT(*), MIN(s.key) FROM sample s
              LEFT JOIN text_embedding se ON se.text_id = s.system_text_id AND se.encoder_id = ?
             WHERE \(condition) AND s.system_text_id IS NOT NULL AND se.text_id IS NULL
            """, arguments: [encoder] + arguments)?.stored(in: "sample")
        return (try row?[0] ?? 0, try row?[1])
    }

    /// A stored feature row, before its vectors are decoded.
    public struct FeatureRow {
        public let sample: Int64
        public let position: Int?
        public let metric: Int64
        public let score: Double?
        public let split: String
        /// nil for real rows.
        public let generator: String?
        public let seed: Int64?
        /// The noise level of a noise recipe (its parameters' "sigma").
        public let sigma: Double?
        /// The prompt's vector blob under each encoder, in the order asked for.
        public let prompts: [Data]
        /// The response's vector blob under each encoder (nil: the sample has no response).
        public let responses: [Data?]
        /// The system prompt's vector blob under each encoder, when asked for (nil: none).
        public let systems: [Data?]
        public let promptText: Int64?
        public let responseText: Int64?
        public let promptChars: Int
        public let responseChars: Int
        public let systemText: Int64?
    }

    /// The selection's samples in id order with their prompt and response vectors under each
    /// of `encoders`, one at a time (a cursor: memory does not grow with the row count). A
    /// sample whose prompt lacks a vector under any of them is left out (`missingVectors`
    /// finds those first).
    public func forEachFeatureRow(_ db: Database, dataset: Int64, encoders: [Int64], system: Bool = false,
                                  _ body: (FeatureRow) throws -> Void) throws {
        let (condition, arguments) = condition(dataset: dataset)
        let joins = encoders.indices.map { i in """
              JOIN text_embedding pe\(i) ON pe\(i).text_id = s.prompt_text_id AND pe\(i).encoder_id = ?
              LEFT JOIN text_embedding re\(i) ON re\(i).text_id = s.response_text_id AND re\(i).encoder_id = ?
            """ + (system ? "\n  LEFT JOIN text_embedding se\(i) ON se\(i).text_id = s.system_text_id AND se\(i).encoder_id = ?" : "")
        }.joined(separator: "\n")
        let perEncoder = system ? 3 : 2
        let vectors = encoders.indices.map { "pe\($0).vector, re\($0).vector" + (system ? ", se\($0).vector" : "") }.joined(separator: ", ")
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT s.id, s.position, s.metric_id, s.score, s.split,
                   s.generator, s.seed, json_extract(s.parameters, '$.sigma') AS sigma,
                   s.prompt_text_id, s.response_text_id,
                   COALESCE((SELECT chars FROM text WHERE id = s.prompt_text_id), 0) AS pc,
                   COALESCE((SELECT chars FROM text WHERE id = s.response_text_id), 0) AS rc,
                   s.system_text_id,
                   \(vectors)
              FROM sample s
            \(joins)
             WHERE \(condition)
             ORDER BY s.id
            """, arguments: StatementArguments(encoders.flatMap { Array(repeating: $0, count: perEncoder) }) + arguments)
        while let next = try cursor.next() {
            let row = next.stored(in: "sample")
            // A train row without a score would become a NaN label (or a silent 0) downstream.
            let split: String = try row[4]
            let score = split == "train" ? try row.requiredScore(3) : try row.score(3)
            let prompts: [Data] = try encoders.indices.map { try row[13 + perEncoder * $0] }
            let responses: [Data?] = try encoders.indices.map { try row[14 + perEncoder * $0] }
            let systems: [Data?] = system ? try encoders.indices.map { try row[15 + perEncoder * $0] } : []
            try body(FeatureRow(sample: try row[0], position: try row[1], metric: try row[2], score: score, split: split,
                                generator: try row[5], seed: try row[6], sigma: try row[7], prompts: prompts, responses: responses,
                                systems: systems, promptText: try row[8], responseText: try row[9], promptChars: try row[10],
                                responseChars: try row[11], systemText: try row[12]))
        }
    }
}
