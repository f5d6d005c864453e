import FitStore
import GRDB

/// The data set a command works on: the one named, else the one ingested most recently.
public enum DatasetResolver {
    public static func resolve(_ store: Store, name: String?) throws -> String {
        try store.read { db in
            if let name { return try require(db, name).name }
            guard let latest = try Dataset.latest(db) else { throw PipelineError.noDataset }
            return latest.name
        }
    }

    /// The data set of that name, or an error that lists the ones the store has.
    public static func require(_ db: Database, _ name: String) throws -> Dataset {
        guard let dataset = try Dataset.named(db, name) else {
            throw PipelineError.unknownDataset(name: name, known: try Dataset.names(db))
        }
        return dataset
    }
}
