import FitFormats
import GRDB

/// Applies the numbered migrations of `schema/` in order, the way GRDB's `DatabaseMigrator`
/// does, plus a check of the history.
///
/// - The schema version lives in `PRAGMA user_version` (visible to the stock sqlite3 shell)
///   and each applied migration is recorded in `schema_migration` with the sha256 of its SQL.
/// - Each migration runs in its own transaction with foreign keys off, so a table rebuild
///   (create new, copy, drop old, rename) cannot cascade-delete the rows that point at the
///   old table; `PRAGMA foreign_key_check` runs before the commit and a violation rolls the
///   migration back, naming the table and row. A crash leaves the store at the last complete
///   version and the next open resumes from there.
/// - At every open the recorded history is compared with the migrations built into this
///   binary: a store whose applied migration has other SQL than ours (an edited migration
///   file, a store from a diverging build) is refused, naming the migration, because the
///   schema it holds is not the one this code was written for.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
        var sha256: String { SHA256.digest(sql).hexString }

        public init(version: Int, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
        }
    }

    public let migrations: [Migration]

    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// The migrations built into this binary from `schema/*.sql`.
    public static let builtIn = Migrator(migrations: embeddedMigrations.map {
        Migration(version: $0.version, name: $0.name, sql: $0.sql)
    })

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    public static func currentVersion(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
    }

    /// Refuses a store whose recorded migrations differ from this binary's (by SQL digest or
    /// by name). Migrations newer than this binary are the newer-schema check's business.
    public func verifyHistory(_ db: Database, path: String) throws {
        guard try db.tableExists("schema_migration") else { return }
        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for row in try Row.fetchAll(db, sql: "SELECT version, name, sha256 FROM schema_migration ORDER BY version") {
            let version: Int = try row.stored(in: "schema_migration")[0], name: String = try row.stored(in: "schema_migration")[1], digest: String = try row.stored(in: "schema_migration")[2]
            guard version <= latestVersion else { continue }
            guard let ours = known[version] else {
                throw StoreError.migrationHistoryDiffers(path: path, version: version, name: name, reason: "this fitstore has no migration \(version)")
            }
            if ours.name != name || ours.sha256 != digest {
                throw StoreError.migrationHistoryDiffers(
                    path: path, version: version, name: name,
                    reason: "it was applied from other SQL than this fitstore's \(String(format: "%03d", version))_\(ours.name).sql")
            }
        }
    }

    /// Whether this binary may open and migrate the store: not newer than it, not a file
    /// holding tables of something else, and the same migration history.
    public func check(_ db: Database, path: String) throws {
        let current = try Self.currentVersion(db)
        if current > latestVersion {
            throw StoreError.newerSchema(path: path, found: current, supported: latestVersion)
        }
        if current == 0 {
            let foreign = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master
                 WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migration'
                """)
            if !foreign.isEmpty {
                throw StoreError.notAStore(path: path, reason: "it already holds other tables (\(foreign.prefix(5).joined(separator: ", ")))")
            }
        }
        try verifyHistory(db, path: path)
    }

    /// Upgrades to `target` (default: latest). Refuses a store newer than this binary, a
    /// file that holds other tables, and a store with another migration history.
    @discardableResult
    public func migrate(_ writer: some DatabaseWriter, path: String, upTo target: Int? = nil) throws -> [Int] {
        let target = target ?? latestVersion
        let current = try writer.read { db in try Self.currentVersion(db) }
        try writer.read { db in try check(db, path: path) }
        let pending = migrations.filter { $0.version > current && $0.version <= target }
        guard !pending.isEmpty else { return [] }
        // Every pending migration in one transaction: a new store, or one several versions
        // behind, is either at its old version or at the target, never in between (a kill
        // during the first ingest into a new store leaves no half-made schema).
        try writer.writeWithoutTransaction { db in
            // Outside any transaction: SQLite ignores this pragma inside one.
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            try db.inTransaction {
                for migration in pending {
                    try db.execute(sql: """
                        CREATE TABLE IF NOT EXISTS schema_migration (
                            version    INTEGER PRIMARY KEY,
                            name       TEXT NOT NULL,
                            sha256     TEXT NOT NULL,
                            applied_at TEXT NOT NULL)
                        """)
                    try db.execute(sql: migration.sql)
                    if let violation = try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") {
                        throw StoreError.migrationBrokeForeignKey(
                            path: path, version: migration.version, name: migration.name,
                            table: violation["table"], rowID: violation["rowid"], parent: violation["parent"])
                    }
                    try db.execute(
                        sql: "INSERT INTO schema_migration (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)",
                        arguments: [migration.version, migration.name, migration.sha256, Timestamp.now()])
                    try db.execute(sql: "PRAGMA user_version = \(migration.version)")
                    KillPoint.reach("migrate.\(migration.version)")
                }
                return .commit
            }
        }
        return pending.map(\.version)
    }
}
