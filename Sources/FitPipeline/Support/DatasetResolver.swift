import FitStore
import GRDB

/// The data set a command works on: the one named, else the one ingested most recently.
public enum DatasetResolver {
    public static func resolve(_ store: Store, name: String?) throws -> String {
        try store.read { db in
            if let name {
                guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM dataset WHERE name = ?)", arguments: [name]) == true else {
                    let known = try String.fetchAll(db, sql: "SELECT name FROM dataset ORDER BY name")
                    throw StoreError.notFound("no data set '\(name)' in the store (it has: \(known.joined(separator: ", ")))")
                }
                return name
            }
            guard let latest = try String.fetchOne(db, sql: """
                SELECT d.name FROM dataset d LEFT JOIN source_file f ON f.dataset_id = d.id
                 GROUP BY d.id ORDER BY MAX(COALESCE(f.run_id, d.created_run_id)) DESC LIMIT 1
                """) else {
                throw StoreError.notFound("the store holds no data set: run `fitstore ingest DIR` first")
            }
            return latest
        }
    }
}
