import CFitSystem
import Foundation
import GRDB
import GRDBSQLite

/// The rules of `fitstore sql`: statements a user typed read the store's own tables and views,
/// call SQLite's core functions and the `vec_*` ones, and nothing else.
///
/// The connection is read-only and hardened (`fitstore_sqlite_harden`: SQLite's defensive
/// mode, no two-argument `fts3_tokenizer`, an untrusted schema, no extension loading, no
/// attached database), and an authorizer checks every statement as SQLite compiles it:
/// - reads of tables and views of the store (schema `main`) only: no TEMP objects;
/// - functions from a list of SQLite's core ones (`allowedFunctions`) and `vec_*`: not
///   `fts3_tokenizer` (whose one-argument form prints a process address, and whose
///   two-argument form makes SQLite call a pointer it is given), not `load_extension`;
/// - pragmas that describe the schema, read-only (`table_info(t)`, `user_version`, ...);
/// - no CREATE, DROP, ALTER, INSERT, UPDATE, DELETE, ATTACH, DETACH, ANALYZE, REINDEX or
///   virtual table.
/// A refused statement fails to compile with SQLite's "not authorized"; `refusal` then says
/// what was refused. A deadline set with `deadline` interrupts a statement that runs past it.
public final class SQLSandbox: @unchecked Sendable {
    private let lock = NSLock()
    private var refused: String?
    private var deadlineStorage: Date?
    private var secondsStorage: Double?

    public init() {}

    /// What the last refused statement tried, in words.
    public var refusal: String? { lock.withLock { refused } }

    /// From now on, a statement still running `seconds` from now is interrupted.
    public func limitTime(to seconds: Double) {
        lock.withLock {
            secondsStorage = seconds
            deadlineStorage = Date().addingTimeInterval(seconds)
        }
    }

    var deadline: Date? { lock.withLock { deadlineStorage } }
    var timeLimit: Double? { lock.withLock { secondsStorage } }

    /// SQLite's core scalar, aggregate, window, date and time, math and JSON functions, and
    /// GRDB's case functions. Nothing here reads or writes outside the statement's values.
    public static let allowedFunctions: Set<String> = [
        "->", "->>", "abs", "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "avg", "ceil", "ceiling", "char",
        "coalesce", "concat", "concat_ws", "cos", "cosh", "count", "cume_dist", "current_date", "current_time",
        "current_timestamp", "date", "datetime", "degrees", "dense_rank", "exp", "first_value", "floor", "format", "glob",
        "group_concat", "hex", "ifnull", "iif", "instr", "json", "json_array", "json_array_length", "json_extract",
        "json_group_array", "json_group_object", "json_insert", "json_object", "json_patch", "json_quote", "json_remove",
        "json_replace", "json_set", "json_type", "json_valid", "julianday", "lag", "last_value", "lead", "length", "like",
        "likelihood", "likely", "ln", "log", "log10", "log2", "lower", "ltrim", "max", "median", "min", "mod", "nth_value",
        "ntile", "nullif", "octet_length", "percent_rank", "pi", "pow", "power", "printf", "quote", "radians", "random",
        "rank", "replace", "round", "row_number", "rtrim", "sign", "sin", "sinh", "sqlite_version", "sqrt", "strftime",
        "string_agg", "substr", "substring", "sum", "tan", "tanh", "time", "timediff", "total", "trim", "trunc", "typeof",
        "unhex", "unicode", "unixepoch", "unlikely", "upper", "capitalize", "lowercase", "uppercase",
    ]

    /// Pragmas that only describe the store: (name, whether it takes a table or index name).
    static let allowedPragmas: [String: Bool] = [
        "table_info": true, "table_xinfo": true, "index_list": true, "index_info": true, "index_xinfo": true,
        "foreign_key_list": true, "user_version": false, "schema_version": false, "page_count": false,
        "page_size": false, "freelist_count": false, "encoding": false, "application_id": false,
        "table_list": false, "function_list": false, "collation_list": false, "database_list": false,
    ]

    /// Table-valued functions a SELECT may read (they read only their arguments or the schema).
    static let allowedTableFunctions: Set<String> = ["json_each", "json_tree"]

    /// Installs the rules on a connection; called from the connection's `prepareDatabase`.
    func install(on db: Database) throws {
        let connection = db.sqliteConnection
        mainObjects = Set(try String.fetchAll(db, sql: "SELECT lower(name) FROM main.sqlite_master WHERE type IN ('table', 'view')"))
        let code = fitstore_sqlite_harden(connection)
        guard code == SQLITE_OK else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot apply SQLite's defensive settings")
        }
        // Strings and blobs of at most 64 MB: a statement cannot build a value that fills memory.
        sqlite3_limit(connection, SQLITE_LIMIT_LENGTH, 64 << 20)
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_set_authorizer(connection, { context, action, a, b, c, d in
            guard let context else { return SQLITE_DENY }
            let sandbox = Unmanaged<SQLSandbox>.fromOpaque(context).takeUnretainedValue()
            return sandbox.authorize(action, a.map { String(cString: $0) }, b.map { String(cString: $0) },
                                     c.map { String(cString: $0) }, d.map { String(cString: $0) })
        }, context)
        sqlite3_progress_handler(connection, 10_000, { context in
            guard let context else { return 0 }
            let sandbox = Unmanaged<SQLSandbox>.fromOpaque(context).takeUnretainedValue()
            guard let deadline = sandbox.deadline else { return 0 }
            return Date() > deadline ? 1 : 0
        }, context)
    }

    /// The store's tables and views (names in lower case), read before the rules apply.
    private var mainObjects: Set<String> = []

    /// Forgets the last refusal (before a new statement).
    func reset() { lock.withLock { refused = nil } }

    private func deny(_ what: String) -> Int32 {
        lock.withLock { if refused == nil { refused = what } }
        return SQLITE_DENY
    }

    func authorize(_ action: Int32, _ a: String?, _ b: String?, _ schema: String?, _ view: String?) -> Int32 {
        switch action {
        case SQLITE_SELECT, SQLITE_RECURSIVE, SQLITE_TRANSACTION, SQLITE_SAVEPOINT:
            return SQLITE_OK
        case SQLITE_READ:
            let table = a ?? ""
            // Tables read through a view come without a schema name: the store's own, or not at all.
            if schema == "main" || (schema == nil && mainObjects.contains(table.lowercased())) { return SQLITE_OK }
            if Self.allowedTableFunctions.contains(table.lowercased()) || table.lowercased().hasPrefix("pragma_") { return SQLITE_OK }
            return deny("reading \(schema.map { "\($0)." } ?? "")\(table) (only the store's own tables and views)")
        case SQLITE_FUNCTION:
            let name = (b ?? "").lowercased()
            if Self.allowedFunctions.contains(name) || name.hasPrefix("vec_") { return SQLITE_OK }
            return deny("the function \(name)() (SQLite's core functions and vec_* only)")
        case SQLITE_PRAGMA:
            let name = (a ?? "").lowercased()
            guard let takesName = Self.allowedPragmas[name] else {
                return deny("PRAGMA \(name) (only pragmas that describe the schema, read-only)")
            }
            if b != nil && !takesName { return deny("setting PRAGMA \(name)") }
            return SQLITE_OK
        case SQLITE_UPDATE where a == "sqlite_master":
            // SQLite asks this while it builds an eponymous virtual table (json_each(...),
            // pragma_table_info(...)) for a SELECT; no statement run here can write (the
            // connection is read-only and every statement must be a read).
            return SQLITE_OK
        case SQLITE_ATTACH: return deny("ATTACH (the store only)")
        case SQLITE_DETACH: return deny("DETACH")
        case SQLITE_CREATE_TEMP_TABLE, SQLITE_CREATE_TEMP_VIEW, SQLITE_CREATE_TEMP_INDEX, SQLITE_CREATE_TEMP_TRIGGER:
            return deny("creating a TEMP object (nothing is created)")
        case SQLITE_CREATE_VTABLE: return deny("creating a virtual table \(b ?? "")")
        default:
            return deny(Self.actionName(action) + (a.map { " \($0)" } ?? "") + (b.map { " \($0)" } ?? ""))
        }
    }

    static func actionName(_ action: Int32) -> String {
        switch action {
        case SQLITE_INSERT: "INSERT"
        case SQLITE_UPDATE: "UPDATE"
        case SQLITE_DELETE: "DELETE"
        case SQLITE_ALTER_TABLE: "ALTER TABLE"
        case SQLITE_ANALYZE: "ANALYZE"
        case SQLITE_REINDEX: "REINDEX"
        case SQLITE_CREATE_TABLE, SQLITE_CREATE_INDEX, SQLITE_CREATE_TRIGGER, SQLITE_CREATE_VIEW: "CREATE"
        case SQLITE_DROP_TABLE, SQLITE_DROP_INDEX, SQLITE_DROP_TRIGGER, SQLITE_DROP_VIEW, SQLITE_DROP_VTABLE,
             SQLITE_DROP_TEMP_TABLE, SQLITE_DROP_TEMP_INDEX, SQLITE_DROP_TEMP_TRIGGER, SQLITE_DROP_TEMP_VIEW: "DROP"
        default: "a statement that is not a read (action \(action))"
        }
    }
}

/// Why `fitstore sql` did not run a statement, or stopped one.
public enum SQLRefusal: Error, CustomStringConvertible, Sendable {
    /// The statement asked for something the sandbox does not allow.
    case notAllowed(String)
    /// The statement changes the store, or is not a query.
    case notARead(String)
    /// The statement ran past `--timeout`.
    case timedOut(seconds: Double)
    /// SQLite refused the statement (syntax, unknown table, a function's error).
    case failed(String)

    public var description: String {
        switch self {
        case .notAllowed(let what):
            "fitstore sql refused the statement: it asks for \(what); `fitstore sql` reads the store's tables and views only"
        case .notARead(let sql):
            "fitstore sql refused the statement \(Self.excerpt(sql)): it only reads (SELECT, WITH, EXPLAIN, a schema PRAGMA); "
                + "the other commands change the store, each recording a run"
        case .timedOut(let seconds):
            String(format: "fitstore sql stopped the statement after %.0f s (--timeout); the rows printed so far are complete rows", seconds)
        case .failed(let message):
            "the SQL was refused: \(message)"
        }
    }

    static func excerpt(_ sql: String) -> String {
        let one = sql.split(whereSeparator: \.isNewline).joined(separator: " ").trimmingCharacters(in: .whitespaces)
        return "'" + (one.count > 60 ? String(one.prefix(59)) + "…" : one) + "'"
    }
}

extension QueryResult {
    /// Runs `sql` (one or more statements) in a sandboxed store, streaming: `columns` is called
    /// with each statement's column names, `row` with each row of the last statement, as
    /// SQLite produces them (nothing is held). Stops after `limit` rows. Every statement must be
    /// a read; none is run before all have been compiled and checked.
    public static func stream(_ sql: String, in store: Store, limit: Int? = nil,
                              columns: ([String]) throws -> Void, row: ([Value]) throws -> Void) throws {
        guard let sandbox = store.sandbox else { throw SQLRefusal.failed("the store was not opened for fitstore sql") }
        sandbox.reset()
        do {
            try store.read { db in
                let statements = try db.allStatements(sql: sql)
                var compiled: [Statement] = []
                while let statement = try statements.next() {
                    guard statement.isReadonly else { throw SQLRefusal.notARead(statement.sql) }
                    compiled.append(statement)
                }
                guard let last = compiled.last else { throw StoreError.noStatement }
                for statement in compiled.dropLast() {
                    let cursor = try Row.fetchCursor(statement)
                    while try cursor.next() != nil {}
                }
                try columns(last.columnNames)
                let cursor = try Row.fetchCursor(last)
                var count = 0
                while limit.map({ count < $0 }) ?? true, let next = try cursor.next() {
                    try row(next.databaseValues.map(Value.init))
                    count += 1
                }
            }
        } catch let error as DatabaseError {
            if let what = sandbox.refusal { throw SQLRefusal.notAllowed(what) }
            if error.resultCode == .SQLITE_INTERRUPT, let seconds = sandbox.timeLimit { throw SQLRefusal.timedOut(seconds: seconds) }
            if error.resultCode == .SQLITE_READONLY { throw SQLRefusal.notARead(error.sql ?? sql) }
            throw SQLRefusal.failed(error.message ?? "\(error.resultCode)")
        }
    }
}
