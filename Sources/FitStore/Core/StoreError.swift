/// Why a store cannot be opened or used: failures of the store itself (missing, foreign,
/// of another schema, damaged bytes). A lookup that finds nothing is not one: FitStore's
/// queries return nil or empty, and the pipeline says what that means (`PipelineError`).
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case missing(path: String)
    case notAStore(path: String, reason: String)
    case newerSchema(path: String, found: Int, supported: Int)
    case olderSchemaReadOnly(path: String, found: Int, supported: Int)
    case migrationHistoryDiffers(path: String, version: Int, name: String, reason: String)
    case migrationBrokeForeignKey(path: String, version: Int, name: String, table: String, rowID: Int64?, parent: String)
    /// Bytes in a row that cannot be what the schema says they are.
    case damaged(table: String, row: String, reason: String)
    /// A vector value that no stored vector may hold (non-finite), refused before writing.
    case invalidVector(String)
    /// A store that cannot be written here whose write-ahead log holds changes the file lacks.
    case pendingLogNotReadable(path: String)
    /// A run of the same kind is in progress in a live process.
    case runInProgress(kind: String, run: Int64, pid: Int64?, host: String?)
    /// `fitstore sql` was given no statement.
    case noStatement

    public var description: String {
        switch self {
        case .missing(let path):
            "no store at \(path): check --store, or create one with `fitstore run DIR`, `fitstore ingest DIR` or `fitstore demo`"
        case .notAStore(let path, let reason):
            "\(path) is not a fitstore store: \(reason)"
        case .newerSchema(let path, let found, let supported):
            "\(path) has schema version \(found), newer than this fitstore (\(FitstoreVersion.string)) supports (\(supported)); "
                + "use a newer fitstore, the store was left untouched"
        case .olderSchemaReadOnly(let path, let found, let supported):
            "\(path) has schema version \(found) and this fitstore needs \(supported); "
                + "a read-only command cannot upgrade it: run any writing command (for example `fitstore stats --upgrade`) first"
        case .migrationHistoryDiffers(let path, let version, let name, let reason):
            "\(path): its migration \(version) (\(name)) is not this fitstore's: \(reason). "
                + "The store was left untouched; open it with the fitstore that made it, or export what you need and start a new store"
        case .migrationBrokeForeignKey(let path, let version, let name, let table, let rowID, let parent):
            "\(path): migration \(version) (\(name)) would leave \(table) row \(rowID.map(String.init) ?? "?") pointing at a missing \(parent) row; "
                + "the migration was rolled back and the store is as it was"
        case .damaged(let table, let row, let reason):
            "\(table) \(row) is damaged: \(reason)"
        case .invalidVector(let message):
            "invalid vector: \(message)"
        case .pendingLogNotReadable(let path):
            "\(path) has changes in \(path)-wal not yet folded into the file, and this folder cannot be written: "
                + "run any fitstore command as a user who can write there (it folds them in), or copy the store with both files somewhere writable"
        case .runInProgress(let kind, let run, let pid, let host):
            "another \(kind) is running on this store (run \(run), pid \(pid.map(String.init) ?? "?") on \(host ?? "?")): "
                + "wait for it to finish (its committed work is kept and will not be redone)"
        case .noStatement:
            "no SQL statement given"
        }
    }
}
