import GRDB

/// A data set: a DA5401-format folder's records under one name.
public struct Dataset: Sendable, Equatable {
    public let id: Int64
    public let name: String
    public let sourcePath: String?

    init(row: Row) throws {
        let r = row.stored(in: "dataset")
        id = try r["id"]
        name = try r["name"]
        sourcePath = try r["source_path"]
    }

    /// The data set of that name, if the store holds one.
    public static func named(_ db: Database, _ name: String) throws -> Dataset? {
        try Row.fetchOne(db, sql: "SELECT id, name, source_path FROM dataset WHERE name = ?", arguments: [name]).map(Dataset.init)
    }

    /// Every data set's name, sorted.
    public static func names(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM dataset ORDER BY name")
    }

    /// The data set whose files were ingested most recently.
    public static func latest(_ db: Database) throws -> Dataset? {
        try Row.fetchOne(db, sql: """
            SELECT d.id, d.name, d.source_path FROM dataset d LEFT JOIN source_file f ON f.dataset_id = d.id
             GROUP BY d.id ORDER BY MAX(COALESCE(f.run_id, d.created_run_id)) DESC, d.id DESC LIMIT 1
            """).map(Dataset.init)
    }

    /// A new data set, created by `run`.
    public static func create(_ db: Database, name: String, sourcePath: String, run: Int64) throws -> Dataset {
        try db.execute(sql: "INSERT INTO dataset (name, source_path, created_run_id) VALUES (?, ?, ?)",
                       arguments: [name, sourcePath, run])
        return Dataset(id: db.lastInsertedRowID, name: name, sourcePath: sourcePath)
    }

    init(id: Int64, name: String, sourcePath: String?) {
        self.id = id
        self.name = name
        self.sourcePath = sourcePath
    }

    /// Records the folder this data set was last ingested from.
    public func setSourcePath(_ db: Database, _ path: String) throws {
        try db.execute(sql: "UPDATE dataset SET source_path = ? WHERE id = ?", arguments: [path, id])
    }
}
