import FitStore
import Foundation
import GRDB
import Testing

/// The schema a database engineer would sign: each rule of the schema review, checked on a
/// fresh store.
@Suite struct SchemaReviewTests {
    /// Every foreign key's child column(s) lead some index, so deleting or retiring a parent
    /// and the per-run counts of `run_summary` never scan the child table.
    @Test func everyForeignKeyChildColumnIsIndexed() throws {
        let store = try TemporaryStore().open()
        let unindexed: [String] = try store.read { db in
            var out: [String] = []
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            for table in tables {
                // The leading columns of every index, and of the primary key.
                var leads: [[String]] = []
                for index in try Row.fetchAll(db, sql: "SELECT name FROM pragma_index_list(?)", arguments: [table]) {
                    leads.append(try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
                                                     arguments: [index["name"] as String]))
                }
                let pk = try Row.fetchAll(db, sql: "SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", arguments: [table])
                leads.append(pk.map { $0["name"] as String })
                var keys: [Int: [String]] = [:]
                for fk in try Row.fetchAll(db, sql: "SELECT id, seq, \"from\" FROM pragma_foreign_key_list(?) ORDER BY id, seq", arguments: [table]) {
                    keys[fk["id"], default: []].append(fk["from"])
                }
                for columns in keys.values where !leads.contains(where: { $0.starts(with: columns) }) {
                    out.append("\(table)(\(columns.joined(separator: ", ")))")
                }
            }
            return out.sorted()
        }
        #expect(unindexed.isEmpty, "foreign keys without an index on their child columns: \(unindexed)")
    }

    /// `run_summary`'s per-run counts are index searches, not scans.
    @Test func runSummaryUsesIndexes() throws {
        let store = try TemporaryStore().open()
        let details = try store.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM run_summary").map { $0["detail"] as String }
        }
        // The one scan allowed is of `run` itself: the view has a row per run.
        let scans = details.filter { $0.hasPrefix("SCAN") && !$0.hasPrefix("SCAN r") }
        #expect(scans.isEmpty, "\(details)")
    }

    static func seed(_ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO run (id, kind, code_version, started_at) VALUES (1, 'ingest', 't', '2026-01-01T00:00:00.000Z');
            INSERT INTO dataset (id, name, created_run_id) VALUES (1, 'a', 1), (2, 'b', 1);
            INSERT INTO text (id, sha256, body, chars, bytes, run_id) VALUES (1, printf('%064d', 1), 'm', 1, 1, 1);
            INSERT INTO metric (id, dataset_id, name, major, position, name_text_id, run_id, updated_run_id)
                 VALUES (1, 1, 'm', 'm', 0, 1, 1, 1), (2, 2, 'm', 'm', 0, 1, 1, 1);
            """)
    }

    /// A sample's metric belongs to the sample's own data set.
    @Test func aSampleCannotTakeAnotherDataSetsMetric() throws {
        let store = try TemporaryStore().open()
        try store.write(Self.seed)
        let insert = "INSERT INTO sample (dataset_id, key, split, origin, metric_id, prompt_text_id, score, digest, run_id) VALUES (1, ?, 'train', 'real', ?, 1, 5, printf('%064d', 0), 1)"
        try store.write { try $0.execute(sql: insert, arguments: ["train:0", 1]) }
        #expect(throws: DatabaseError.self) { try store.write { try $0.execute(sql: insert, arguments: ["train:1", 2]) } }
    }

    /// Digests are lowercase hex text wherever they are stored.
    @Test func digestsAreHexEverywhere() throws {
        let store = try TemporaryStore().open()
        let columns: [(String, String)] = try store.read { db in
            var out: [(String, String)] = []
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
                for column in try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_info(?)", arguments: [table])
                where ["sha256", "digest", "training_digest"].contains(column["name"] as String) {
                    out.append(("\(table).\(column["name"] as String)", column["type"]))
                }
            }
            return out
        }
        #expect(columns.count == 5, "\(columns)")
        for (column, type) in columns { #expect(type == "TEXT", "\(column) is \(type)") }
        try store.write(Self.seed)
        #expect(throws: DatabaseError.self) {
            try store.write { try $0.execute(sql: "INSERT INTO text (sha256, body, chars, bytes, run_id) VALUES (x'00', 'x', 1, 1, 1)") }
        }
    }

    /// A checkpoint is of a model fitstore trains.
    @Test func checkpointModelIsChecked() throws {
        let store = try TemporaryStore().open()
        try store.write(Self.seed)
        let insert = """
            INSERT INTO checkpoint (run_id, dataset_id, model, config, training_digest, weights, created_at)
            VALUES (1, 1, ?, '{}', printf('%064d', 0), x'00', 't')
            """
        for model in ["boosted", "seed", "blend", "knn"] {
            try store.write { try $0.execute(sql: insert, arguments: [model]) }
        }
        #expect(throws: DatabaseError.self) { try store.write { try $0.execute(sql: insert, arguments: ["gpt"]) } }
    }
}
