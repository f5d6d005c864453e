@testable import FitPipeline
import FitFormats
@testable import FitStore
import Foundation
import GRDB
import Testing

/// No stored value traps (issue #22 item 3). Schema CHECKs and NOT NULL can be bypassed (by
/// `PRAGMA ignore_check_constraints`, a writable schema, another program), so every column of
/// every table a reader touches gets NULL, text, a huge number and a negative number in turn,
/// on a copy of a complete store, and every pipeline step that a command runs then reads it.
/// Each step either works or throws an error; none may trap. Steps run in this process: a
/// trap ends the whole test run, which names the last case it printed.
@Suite(.serialized) struct StoredRowFuzzTests {
    /// A store with every kind of row: a data set with given metric vectors, imported text
    /// vectors, synthetic rows with parents, two checkpoints with CV predictions, a blend,
    /// predictions and a stored score.
    static func completeStore(_ fx: Fixture) throws -> (store: Store, demo: URL, labels: URL, input: URL) {
        let demo = fx.root.appendingPathComponent("demo")
        try DemoDataset(trainCount: 40, testCount: 10).write(to: demo)
        try NpyMatrix(rows: DemoCorpus.metrics.count, columns: 8,
                      values: (0..<(DemoCorpus.metrics.count * 8)).map { Float(($0 * 13) % 11) / 11 - 0.3 })
            .write(to: demo.appendingPathComponent("metric_name_embeddings.npy"))
        let store = try fx.openStore()
        _ = try Ingest(store: store).run(folder: demo, options: .init(datasetName: "demo"))
        _ = try fx.importVectors(store)
        try Fixture.addNegatives(store, encoderKey: "imported:v", low: 6, mid: 4)
        var options = TrainModel.Options(dataset: "demo", encoderKey: "imported:v")
        options.cvFolds = 2
        options.boosting.trees = 5
        options.syntheticGenerators = ["negative_shuffle", "negative_noise", "negative_metric_swap"]
        let first = try TrainModel(store: store).run(options)
        options.model = .knn
        options.syntheticGenerators = []
        let second = try TrainModel(store: store).run(options)
        let blend = try Blend(store: store).run(dataset: "demo", members: [first.checkpointID, second.checkpointID], weighting: .fit)
        _ = try Predict(store: store).run(dataset: "demo", checkpoint: blend.checkpointID, out: fx.root.appendingPathComponent("s.csv"))
        let labels = demo.appendingPathComponent("test_labels.csv")
        _ = try Score(store: store).run(dataset: "demo", checkpoint: first.checkpointID, labels: try LabelsFile(path: labels.path), groups: nil)
        let input = fx.root.appendingPathComponent("input.json")
        try FileManager.default.copyItem(at: demo.appendingPathComponent("test_data.json"), to: input)
        try store.checkpoint()
        return (store, demo, labels, input)
    }

    /// Every step a command runs that reads stored rows, on `store`. Errors are the point of
    /// the exercise (they must be thrown, not trapped): each is caught and counted.
    static func readEverything(_ store: Store, demo: URL, labels: URL, input: URL, scratch: URL) -> [String] {
        var errors: [String] = []
        func attempt(_ name: String, _ body: () throws -> Void) {
            do { try body() } catch { errors.append("\(name): \(error)") }
        }
        let checkpoints = (try? store.read { try Int64.fetchAll($0, sql: "SELECT id FROM checkpoint ORDER BY id") }) ?? []
        attempt("stats") { _ = try store.read { try StoreStats.load($0) } }
        attempt("audit") { _ = try Audit(store: store).run(dataset: "demo") }
        attempt("relations") { _ = try RelationsSuggest(store: store).suggest(dataset: "demo", encoderKey: "imported:v") }
        attempt("relations given") { _ = try RelationsSuggest(store: store).suggest(dataset: "demo", encoderKey: nil) }
        attempt("opposites") { _ = try RelationsSuggest(store: store).suggestOpposites(dataset: "demo", minimumItems: 2, maximumCorrelation: 1) }
        attempt("export") {
            var selection = FeatureSelection(dataset: "demo", split: .all, encoderKeys: ["imported:v"], includeReal: true, asOfRun: nil, extras: true)
            selection.generators = .all
            _ = try Export(store: store).run(selection, to: scratch.appendingPathComponent("export"), cvFolds: 2)
        }
        attempt("report") { _ = try HTMLReport(store: store).write(dataset: "demo", to: scratch.appendingPathComponent("r.html")) }
        attempt("checkpoints") { _ = try CheckpointList(store: store).entries(dataset: "demo") }
        for id in checkpoints {
            attempt("predict \(id)") { _ = try Predict(store: store).run(dataset: "demo", checkpoint: id, out: scratch.appendingPathComponent("p.csv")) }
            attempt("predict input \(id)") {
                _ = try Predict(store: store).run(dataset: "demo", checkpoint: id, input: input, out: scratch.appendingPathComponent("q.csv"))
            }
            attempt("score \(id)") {
                _ = try Score(store: store).run(dataset: "demo", checkpoint: id, labels: try LabelsFile(path: labels.path), groups: nil)
            }
        }
        if checkpoints.count >= 2 {
            attempt("compare") { _ = try CheckpointList(store: store).compare(dataset: "demo", checkpoints[0], checkpoints[1]) }
            attempt("blend") { _ = try Blend(store: store).run(dataset: "demo", members: Array(checkpoints.prefix(2)), weighting: .mean) }
        }
        attempt("train") {
            var options = TrainModel.Options(dataset: "demo", encoderKey: "imported:v")
            options.cvFolds = 2
            options.boosting.trees = 3
            options.syntheticGenerators = ["negative_noise"]
            _ = try TrainModel(store: store).run(options)
        }
        attempt("augment") { try Fixture.addNegatives(store, encoderKey: "imported:v", low: 2, mid: 2) }
        attempt("texts") { _ = try TextList(store: store).writeMissing(encoder: "v", builtInKey: { "unused" }, to: scratch.appendingPathComponent("t.jsonl")) }
        attempt("encoders") { _ = try store.read { try Encoder.textEncoders($0) } }
        attempt("gc") { _ = try GarbageCollect(store: store).run(keeping: "imported:v", dryRun: true) }
        attempt("ingest") { _ = try Ingest(store: store).run(folder: demo, options: .init(datasetName: "demo")) }
        return errors
    }

    /// The columns of each table, with whether each is declared NOT NULL.
    static func columns(_ store: Store) throws -> [(table: String, column: String, notNull: Bool)] {
        try store.read { db in
            let tables = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migration' ORDER BY name
                """)
            return try tables.flatMap { table in
                try Row.fetchAll(db, sql: "SELECT name, \"notnull\" FROM pragma_table_info(?)", arguments: [table]).map {
                    (table, $0["name"] as String, ($0["notnull"] as Int) != 0)
                }
            }
        }
    }

    static let values: [(String, DatabaseValue)] = [
        ("NULL", .null), ("text", "abc".databaseValue), ("huge", (1e300).databaseValue), ("negative", (-1).databaseValue),
    ]

    /// Writes `value` into `column` of every row of `table` in the store at `path`, bypassing
    /// CHECK and NOT NULL constraints and foreign keys; false when SQLite itself cannot hold it
    /// there (an INTEGER PRIMARY KEY, a UNIQUE clash), which no store can then contain.
    static func tamper(path: String, table: String, column: String, notNull: Bool, value: DatabaseValue) throws -> Bool {
        var config = Configuration()
        config.foreignKeysEnabled = false
        let queue = try DatabaseQueue(path: path, configuration: config)
        defer { try? queue.close() }
        if notNull && value.isNull {
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA writable_schema = ON")
                try db.execute(sql: "UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', '') WHERE type = 'table' AND name = ?", arguments: [table])
                let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
                try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
                try db.execute(sql: "PRAGMA writable_schema = OFF")
            }
        }
        return try queue.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA ignore_check_constraints = ON")
            for scope in ["", " WHERE rowid = (SELECT MIN(rowid) FROM \"\(table)\")"] {
                do {
                    try db.execute(sql: "UPDATE \"\(table)\" SET \"\(column)\" = ?" + scope, arguments: [value])
                    return try db.changesCount > 0
                } catch {
                    continue
                }
            }
            return false
        }
    }

    @Test func everyColumnOfEveryTableIsReadWithoutATrap() throws {
        let fx = try Fixture()
        let (store, demo, labels, input) = try Self.completeStore(fx)
        let base = URL(fileURLWithPath: store.path)
        let columns = try Self.columns(store)
        #expect(columns.count > 100)
        var cases = 0, refused = 0
        for (table, column, notNull) in columns {
            for (label, value) in Self.values {
                let scratch = fx.root.appendingPathComponent("case-\(table)-\(column)-\(label)")
                try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: scratch) }
                let copy = scratch.appendingPathComponent("fitstore.sqlite")
                try FileManager.default.copyItem(at: base, to: copy)
                guard try Self.tamper(path: copy.path, table: table, column: column, notNull: notNull, value: value) else { continue }
                // Printed first: if a step traps, the run's last line names the case.
                print("row fuzz: \(table).\(column) = \(label)")
                cases += 1
                let tampered: Store
                do {
                    tampered = try Store(path: copy.path)
                } catch {
                    refused += 1
                    continue
                }
                let errors = Self.readEverything(tampered, demo: demo, labels: labels, input: input, scratch: scratch)
                if !errors.isEmpty { refused += 1 }
            }
        }
        print("row fuzz: \(cases) cases, \(refused) with at least one refusal")
        #expect(cases > 300)
    }
}

extension StoredRowFuzzTests {
    /// The JSON a reader decodes (a checkpoint's settings and evaluation, an encoder's
    /// settings, a synthetic row's parameters): every value in it, at every path, replaced by
    /// null, text, a huge, a negative and a too-large whole number in turn.
    @Test func everyValueOfStoredJSONIsReadWithoutATrap() throws {
        let fx = try Fixture()
        let (store, demo, labels, input) = try Self.completeStore(fx)
        let base = URL(fileURLWithPath: store.path)
        let columns = [("checkpoint", "config"), ("checkpoint", "evaluation"), ("checkpoint", "history"), ("encoder", "config"),
                       ("sample", "parameters"), ("run", "parameters")]
        let paths: [(String, String, String)] = try store.read { db in
            try columns.flatMap { table, column in
                // Leaves and containers, but of each array only its first element: the readers
                // treat elements alike, and every element would make thousands of cases.
                try String.fetchAll(db, sql: """
                    SELECT DISTINCT j.fullkey FROM "\(table)" t, json_tree(t."\(column)") j
                     WHERE json_valid(t."\(column)") AND j.fullkey <> '$' AND j.fullkey NOT GLOB '*[[][1-9]*'
                     ORDER BY 1
                    """).map { (table, column, $0) }
            }
        }
        #expect(paths.count > 50)
        let values = ["null", "'abc'", "1e300", "-1", "999999"]
        var cases = 0
        for (table, column, path) in paths {
            for value in values {
                let scratch = fx.root.appendingPathComponent("json-\(cases)")
                try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: scratch) }
                let copy = scratch.appendingPathComponent("fitstore.sqlite")
                try FileManager.default.copyItem(at: base, to: copy)
                let queue = try DatabaseQueue(path: copy.path)
                try queue.write { db in
                    try db.execute(sql: "UPDATE \"\(table)\" SET \"\(column)\" = json_replace(\"\(column)\", ?, \(value == "null" ? "json('null')" : value)) WHERE json_valid(\"\(column)\")",
                                   arguments: [path])
                }
                try queue.close()
                print("json fuzz: \(table).\(column) \(path) = \(value)")
                cases += 1
                guard let tampered = try? Store(path: copy.path) else { continue }
                _ = Self.readEverything(tampered, demo: demo, labels: labels, input: input, scratch: scratch)
            }
        }
        print("json fuzz: \(cases) cases")
    }
}
