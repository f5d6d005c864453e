import Foundation
import GRDB
import GRDBSQLite

/// The one SQLite file that holds every artifact: records, vectors, provenance, checkpoints
/// and predictions.
///
/// Opening a store for writing creates it when missing and applies pending migrations;
/// opening read-only never changes the file. Work is scoped in `read {}` and `write {}`
/// blocks, each one transaction: a throw inside `write` leaves the store as it was.
public final class Store: Sendable {
    public enum Access: Sendable { case readWrite, readOnly }

    public let path: String
    public let access: Access
    /// The rules of `fitstore sql`, when the store was opened for it (read-only).
    public let sandbox: SQLSandbox?
    private let writer: any DatabaseWriter

    /// Opens (and for `.readWrite`, creates and migrates) the store at `path`.
    /// `schemaVersion` stops migration early; tests use it to build older stores.
    /// `sandbox`: open read-only for statements a user typed (`SQLSandbox`).
    public init(path: String, access: Access = .readWrite, schemaVersion: Int? = nil,
                migrator: Migrator = .builtIn, sandbox: SQLSandbox? = nil) throws {
        self.path = path
        self.access = sandbox == nil ? access : .readOnly
        self.sandbox = sandbox
        let access = self.access
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(30)
        let trace = StatementTrace.shared
        config.prepareDatabase { db in
            VectorFunctions.register(in: db)
            // Reads through a memory map: a cursor over vector blobs otherwise spends a third
            // of its time copying pages out of the kernel (bench/scale's export). 256 MB of
            // the file at most, so that mapped pages do not make memory grow with the store.
            try db.execute(sql: "PRAGMA mmap_size = 268435456")
            // A page cache of 64 MB: one ingest or augment transaction writes hundreds of MB,
            // and with SQLite's 8 MB default it spilled dirty pages to the log again and again.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            trace?.install(on: db)
            // Last: from here on every statement is checked.
            try sandbox?.install(on: db)
        }
        do {
            switch access {
            case .readWrite:
                if FileManager.default.fileExists(atPath: path) {
                    // Look before opening for writing: a store newer than this binary, or a
                    // file that is no store, must be refused without a single byte changing.
                    // (Opening the pool switches the file to WAL mode, a change in itself.)
                    var peek = Configuration()
                    peek.readonly = true
                    try DatabaseQueue(path: path, configuration: peek).read { db in
                        try migrator.check(db, path: path)
                    }
                }
                let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                let pool = try DatabasePool(path: path, configuration: config)
                writer = pool
                try migrator.migrate(pool, path: path, upTo: schemaVersion)
                // Runs whose process is gone (killed, crashed) stop looking live.
                if try pool.read({ try Migrator.currentVersion($0) }) >= 8 {
                    try pool.write { try RunLedger.sweep($0) }
                }
            case .readOnly:
                guard FileManager.default.fileExists(atPath: path) else { throw StoreError.missing(path: path) }
                config.readonly = true
                let queue = try DatabaseQueue(path: Self.readablePath(path), configuration: config)
                writer = queue
                let version = try queue.read { db in
                    try migrator.verifyHistory(db, path: path)
                    return try Migrator.currentVersion(db)
                }
                if version > migrator.latestVersion {
                    throw StoreError.newerSchema(path: path, found: version, supported: migrator.latestVersion)
                }
                if version == 0 {
                    throw StoreError.notAStore(path: path, reason: "it has no fitstore schema")
                }
                if version < migrator.latestVersion {
                    throw StoreError.olderSchemaReadOnly(path: path, found: version, supported: migrator.latestVersion)
                }
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw StoreError.notAStore(path: path, reason: "it is not an SQLite database")
        }
    }

    /// Where SQLite should open a store for reading. A WAL store needs its folder writable to
    /// be read normally (SQLite creates the -shm index beside it); on read-only media, or for
    /// a user without write permission, it is opened as immutable instead, which is exact
    /// when no write-ahead log holds changes the file lacks. When one does, the store is
    /// refused: reading it without the log would give an old state.
    static func readablePath(_ path: String) throws -> String {
        let fm = FileManager.default
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if fm.isWritableFile(atPath: path) && fm.isWritableFile(atPath: folder) { return path }
        let wal = path + "-wal"
        let walBytes = ((try? fm.attributesOfItem(atPath: wal))?[.size] as? NSNumber)?.intValue ?? 0
        let shmReadable = fm.isReadableFile(atPath: path + "-shm")
        if walBytes > 0 && !shmReadable {
            throw StoreError.pendingLogNotReadable(path: path)
        }
        if walBytes > 0 { return path }  // log and index exist: SQLite reads them read-only
        // A file: URI must hold an absolute path (`./fitstore.sqlite`, the default, is not one).
        let absolute = URL(fileURLWithPath: path).absoluteURL.standardizedFileURL
        var url = URLComponents(url: absolute, resolvingAgainstBaseURL: true)
        url?.queryItems = [URLQueryItem(name: "immutable", value: "1")]
        guard let uri = url?.string, uri.hasPrefix("file:///") else { return absolute.path }
        return uri
    }

    public func read<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.read(body)
    }

    /// One write transaction: everything in `body` commits together or not at all.
    public func write<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.write(body)
    }

    public var schemaVersion: Int {
        get throws { try read { try Migrator.currentVersion($0) } }
    }

    /// Pages of the file that hold nothing (left by deletions until a vacuum).
    public func freePages() throws -> Int {
        try read { try Int.fetchOne($0, sql: "PRAGMA freelist_count") ?? 0 }
    }

    /// The size of the store's files (main file and write-ahead log) in bytes.
    public func fileSize() throws -> Int64 {
        [path, path + "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? NSNumber }
            .reduce(0) { $0 + $1.int64Value }
    }

    /// Rewrites the file without free pages (after large deletions). Another program
    /// reading the store holds the compaction back; after `patience` seconds of that it fails
    /// with SQLITE_BUSY (the caller says so and goes on) instead of the usual 30 s wait.
    public func vacuum(patience: Double = 5) throws {
        try writer.writeWithoutTransaction { db in
            sqlite3_busy_timeout(db.sqliteConnection, Int32(patience * 1000))
            defer { sqlite3_busy_timeout(db.sqliteConnection, 30_000) }
            try db.execute(sql: "VACUUM")
            // The rewritten pages sit in the write-ahead log until a checkpoint folds them back.
            _ = try db.checkpoint(.truncate)
        }
    }

    /// Folds the WAL back into the main file (used before copying the file elsewhere).
    public func checkpoint() throws {
        try writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }
}
