import FitFormats
import GRDB

/// Applies the numbered migrations of `schema/` in order.
///
/// The schema version lives in `PRAGMA user_version` (visible to the stock sqlite3 shell) and
/// each applied migration is recorded in `schema_migration` with the sha256 of its SQL.
/// Each migration runs in its own transaction, so a crash leaves the store at the last
/// complete version and the next open resumes from there.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
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

    /// Upgrades to `target` (default: latest). Refuses a store newer than this binary.
    @discardableResult
    public func migrate(_ writer: some DatabaseWriter, path: String, upTo target: Int? = nil) throws -> [Int] {
        let target = target ?? latestVersion
        let current = try writer.read { db in try Self.currentVersion(db) }
        if current > latestVersion {
            throw StoreError.newerSchema(path: path, found: current, supported: latestVersion)
        }
        if current == 0 {
            try writer.read { db in
                let foreign = try String.fetchAll(db, sql: """
                    SELECT name FROM sqlite_master
                     WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migration'
                    """)
                if !foreign.isEmpty {
                    throw StoreError.notAStore(path: path, reason: "it already holds other tables (\(foreign.prefix(5).joined(separator: ", ")))")
                }
            }
        }
        var applied: [Int] = []
        for migration in migrations where migration.version > current && migration.version <= target {
            try writer.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS schema_migration (
                        version    INTEGER PRIMARY KEY,
                        name       TEXT NOT NULL,
                        sha256     TEXT NOT NULL,
                        applied_at TEXT NOT NULL)
                    """)
                try db.execute(sql: migration.sql)
                try db.execute(
                    sql: "INSERT INTO schema_migration (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)",
                    arguments: [migration.version, migration.name, SHA256.digest(migration.sql).hexString, Timestamp.now()])
                try db.execute(sql: "PRAGMA user_version = \(migration.version)")
            }
            applied.append(migration.version)
        }
        return applied
    }
}
