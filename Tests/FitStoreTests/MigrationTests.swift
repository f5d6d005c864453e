import FitStore
import Foundation
import GRDB
import Testing

@Suite struct MigrationTests {
    @Test func freshStoreIsAtLatestVersion() throws {
        let tmp = try TemporaryStore()
        let store = try tmp.open()
        #expect(try store.schemaVersion == Migrator.builtIn.latestVersion)
        let recorded = try store.read { try Int.fetchAll($0, sql: "SELECT version FROM schema_migration ORDER BY version") }
        #expect(recorded == Migrator.builtIn.migrations.map(\.version))
        let mode = try store.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func upgradesAnOlderStoreInPlaceKeepingRows() throws {
        let tmp = try TemporaryStore()
        do {
            let old = try tmp.open(schemaVersion: 1)
            #expect(try old.schemaVersion == 1)
            try old.write { db in
                try db.execute(sql: "INSERT INTO run (kind, code_version, started_at) VALUES ('ingest', 'old', '2026-01-01T00:00:00.000Z')")
                try db.execute(sql: "INSERT INTO dataset (name, created_run_id) VALUES ('kept', 1)")
            }
            let tables = try old.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
            #expect(!tables.contains("encoder"), "migration 2 must not have run yet")
        }
        let store = try tmp.open()
        #expect(try store.schemaVersion == Migrator.builtIn.latestVersion)
        #expect(try store.read { try String.fetchOne($0, sql: "SELECT name FROM dataset") } == "kept")
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM encoder") } == 0)
    }

    @Test func refusesANewerStoreAndLeavesItUntouched() throws {
        let tmp = try TemporaryStore()
        do {
            let store = try tmp.open()
            try store.write { try $0.execute(sql: "PRAGMA user_version = 99") }
            try store.checkpoint()
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: tmp.path))
        for access in [Store.Access.readWrite, .readOnly] {
            #expect {
                try tmp.open(access)
            } throws: { error in
                guard case StoreError.newerSchema(_, 99, let supported)? = error as? StoreError else { return false }
                return supported == Migrator.builtIn.latestVersion && "\(error)".contains("newer than this fitstore")
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp.path)) == before)
    }

    @Test func readOnlyRefusesAnOlderStoreWithoutTouchingIt() throws {
        let tmp = try TemporaryStore()
        _ = try tmp.open(schemaVersion: 2)
        #expect {
            try tmp.open(.readOnly)
        } throws: { error in
            if case StoreError.olderSchemaReadOnly(_, 2, _)? = error as? StoreError { return true }
            return false
        }
        #expect(try tmp.open(schemaVersion: 2).schemaVersion == 2)
    }

    @Test func refusesForeignFiles() throws {
        let tmp = try TemporaryStore()
        try Data("this is not sqlite, just some bytes that are long enough to look like a header..........".utf8)
            .write(to: URL(fileURLWithPath: tmp.path))
        #expect(throws: StoreError.self) { try tmp.open() }

        let other = try TemporaryStore()
        let queue = try DatabaseQueue(path: other.path)
        try queue.write { try $0.execute(sql: "CREATE TABLE customers (id INTEGER PRIMARY KEY)") }
        #expect {
            try other.open()
        } throws: { error in
            "\(error)".contains("already holds other tables (customers)")
        }
        #expect(throws: StoreError.self) { try TemporaryStore().open(.readOnly) }
        // Refused without a byte changing: still the rollback journal, not WAL.
        let mode = try DatabaseQueue(path: other.path).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "delete")
        #expect(!FileManager.default.fileExists(atPath: other.path + "-wal"))
    }

    /// A store whose recorded migration has other SQL than this binary's is refused, naming
    /// the migration, for reading and for writing, and left as it was.
    @Test func refusesAStoreWithAnotherMigrationHistory() throws {
        let tmp = try TemporaryStore()
        do {
            let store = try tmp.open()
            try store.write { try $0.execute(sql: "UPDATE schema_migration SET sha256 = 'edited' WHERE version = 2") }
            try store.checkpoint()
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: tmp.path))
        for access in [Store.Access.readWrite, .readOnly] {
            #expect {
                try tmp.open(access)
            } throws: { error in
                guard case StoreError.migrationHistoryDiffers(_, 2, "embeddings", _)? = error as? StoreError else { return false }
                return "\(error)".contains("migration 2 (embeddings) is not this fitstore's")
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: tmp.path)) == before)
    }

    /// Migrations run with foreign keys off, as GRDB's migrator runs them: a migration that
    /// rebuilds `sample` (create, copy, drop, rename) keeps every row that points at it,
    /// where with foreign keys on the drop would cascade-delete the parent links.
    /// Migration 14 rebuilds `comparison` (a new kind, 'learner'): every comparison keeps its
    /// id and its candidates, only the new kind is added, and the AUTOINCREMENT counter goes
    /// on from where it was (an id freed before the migration is never given again).
    @Test func theLearnerMigrationKeepsComparisonsAndTheirCounter() throws {
        let tmp = try TemporaryStore()
        do {
            let old = try tmp.open(schemaVersion: 13)
            try old.write { db in
                try db.execute(sql: "INSERT INTO run (kind, code_version, started_at) VALUES ('run', 'old', '2026-01-01T00:00:00.000Z')")
                try db.execute(sql: "INSERT INTO dataset (name, created_run_id) VALUES ('d', 1)")
                for kind in ["system_prompt", "bag", "knn_blend"] {
                    try db.execute(sql: """
                        INSERT INTO comparison (dataset_id, run_id, kind, rule, kept_position, created_at)
                        VALUES (1, 1, ?, 'rule', 0, '2026-01-01T00:00:00.000Z')
                        """, arguments: [kind])
                    try db.execute(sql: """
                        INSERT INTO comparison_candidate (comparison_id, position, checkpoint_id, label, cv_rmse, fold_rmse)
                        VALUES (last_insert_rowid(), 0, NULL, 'simple', 1.5, '[1.4, 1.6]')
                        """)
                }
                // The third is removed: its id (3) must not come back.
                try db.execute(sql: "DELETE FROM comparison WHERE id = 3")
            }
        }
        let store = try tmp.open()
        #expect(try store.schemaVersion == Migrator.builtIn.latestVersion)
        let kept = try store.read { try Row.fetchAll($0, sql: "SELECT id, kind FROM comparison ORDER BY id") }.map { "\($0[0] as Int64) \($0[1] as String)" }
        #expect(kept == ["1 system_prompt", "2 bag"])
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM comparison_candidate") } == 2)
        let next = try store.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO comparison (dataset_id, run_id, kind, rule, kept_position, created_at) VALUES (1, 1, 'learner', 'rule', 1, 'now')")
            return db.lastInsertedRowID
        }
        #expect(next == 4, "the counter goes on after the removed id 3")
        // Migration 15's kind, the extra columns' place in the feature sample.
        try store.write { try $0.execute(sql: "INSERT INTO comparison (dataset_id, run_id, kind, rule, kept_position, created_at) VALUES (1, 1, 'extras_in_every_tree', 'rule', 0, 'now')") }
        #expect(throws: (any Error).self) {
            try store.write { try $0.execute(sql: "INSERT INTO comparison (dataset_id, run_id, kind, rule, kept_position, created_at) VALUES (1, 1, 'other', 'r', 0, 'now')") }
        }
    }

    @Test func aTableRebuildKeepsTheRowsThatPointAtIt() throws {
        let tmp = try TemporaryStore()
        try Self.seedSamplesWithParents(tmp.open())
        let views = try tmp.open().read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'view'") }
        let rebuild = Migrator.Migration(version: Migrator.builtIn.latestVersion + 1, name: "rebuild_sample", sql: """
            \(views.map { "DROP VIEW \($0);" }.joined(separator: "\n"))
            CREATE TABLE sample_new (id INTEGER PRIMARY KEY, dataset_id, key, split, origin, position, source_file_id,
                metric_id, prompt_text_id, response_text_id, system_text_id, score, digest, generator, generator_version,
                parameters, seed, run_id, retired_run_id);
            INSERT INTO sample_new SELECT * FROM sample;
            DROP TABLE sample;
            ALTER TABLE sample_new RENAME TO sample;
            """)
        let extended = Migrator(migrations: Migrator.builtIn.migrations + [rebuild])
        let store = try Store(path: tmp.path, migrator: extended)
        #expect(try store.schemaVersion == rebuild.version)
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample_parent") } == 2)
    }

    /// A migration that leaves a row pointing nowhere is rolled back, naming the row.
    @Test func aMigrationThatBreaksAForeignKeyIsRolledBack() throws {
        let tmp = try TemporaryStore()
        try Self.seedSamplesWithParents(tmp.open())
        let breaking = Migrator.Migration(version: Migrator.builtIn.latestVersion + 1, name: "lose_parents",
                                          sql: "DELETE FROM sample WHERE origin = 'real';")
        #expect {
            try Store(path: tmp.path, migrator: Migrator(migrations: Migrator.builtIn.migrations + [breaking]))
        } throws: { error in
            "\(error)".contains("migration \(breaking.version) (lose_parents) would leave") && "\(error)".contains("rolled back")
        }
        let store = try tmp.open()
        #expect(try store.schemaVersion == Migrator.builtIn.latestVersion)
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample") } == 3)
    }

    /// One real row with two synthetic children.
    static func seedSamplesWithParents(_ store: Store) throws {
        try store.write { db in
            try db.execute(sql: """
                INSERT INTO run (id, kind, code_version, started_at) VALUES (1, 'ingest', 't', '2026-01-01T00:00:00.000Z');
                INSERT INTO dataset (id, name, created_run_id) VALUES (1, 'd', 1);
                INSERT INTO text (id, sha256, body, chars, bytes, run_id)
                     VALUES (1, printf('%064d', 1), 'm', 1, 1, 1), (2, printf('%064d', 2), 'p', 1, 1, 1);
                INSERT INTO metric (id, dataset_id, name, major, position, name_text_id, run_id, updated_run_id) VALUES (1, 1, 'm', 'm', 0, 1, 1, 1);
                INSERT INTO sample (id, dataset_id, key, split, origin, metric_id, prompt_text_id, score, digest, run_id)
                     VALUES (1, 1, 'train:0', 'train', 'real', 1, 2, 9, printf('%064d', 0), 1);
                INSERT INTO sample (id, dataset_id, key, split, origin, metric_id, prompt_text_id, score, digest, generator,
                                    generator_version, parameters, run_id)
                     VALUES (2, 1, 'syn:a', 'train', 'synthetic', 1, 2, 2, printf('%064d', 1), 'g', 1, '{}', 1),
                            (3, 1, 'syn:b', 'train', 'synthetic', 1, 2, 3, printf('%064d', 2), 'g', 1, '{}', 1);
                INSERT INTO sample_parent (sample_id, ordinal, parent_id) VALUES (2, 0, 1), (3, 0, 1);
                """)
        }
    }

    @Test func migrationFilesAreNumberedFromOneWithoutGaps() {
        let versions = Migrator.builtIn.migrations.map(\.version)
        #expect(versions == Array(1...versions.count))
    }
}
