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
    }

    @Test func migrationFilesAreNumberedFromOneWithoutGaps() {
        let versions = Migrator.builtIn.migrations.map(\.version)
        #expect(versions == Array(1...versions.count))
    }
}
