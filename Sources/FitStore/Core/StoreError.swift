/// Why a store cannot be opened or used.
public enum StoreError: Error, CustomStringConvertible, Sendable {
    case missing(path: String)
    case notAStore(path: String, reason: String)
    case newerSchema(path: String, found: Int, supported: Int)
    case olderSchemaReadOnly(path: String, found: Int, supported: Int)
    case invalidVector(String)
    case notFound(String)

    public var description: String {
        switch self {
        case .missing(let path):
            "no store at \(path): create one with `fitstore ingest DIR` or `fitstore demo`"
        case .notAStore(let path, let reason):
            "\(path) is not a fitstore store: \(reason)"
        case .newerSchema(let path, let found, let supported):
            "\(path) has schema version \(found), newer than this fitstore (\(FitstoreVersion.string)) supports (\(supported)); "
                + "use a newer fitstore, the store was left untouched"
        case .olderSchemaReadOnly(let path, let found, let supported):
            "\(path) has schema version \(found) and this fitstore needs \(supported); "
                + "a read-only command cannot upgrade it: run any writing command (for example `fitstore stats --upgrade`) first"
        case .invalidVector(let message):
            "invalid vector blob: \(message)"
        case .notFound(let message):
            message
        }
    }
}
