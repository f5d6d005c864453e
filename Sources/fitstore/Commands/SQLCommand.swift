import ArgumentParser
import FitStore
import GRDB
import Foundation

struct SQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Run SQL on the store, read-only, and print the result.",
        discussion: """
            The store is opened read-only and sandboxed: statements read the store's own tables and views, with SQLite's core functions and the vector functions below; nothing you type can change the store, attach another file, create objects or load code (docs/reliability.md). Rows print as they are produced; --limit and --timeout bound a large or endless query.

            Views (docs/sql.md): sample_view, every active sample with its metric, texts, score, split, origin and provenance; run_summary, what each run did; embedding_coverage, vectors per encoder and text role; text_in_use, the texts that samples and metrics refer to.

            Vector functions: vec_dims(b), vec_dtype(b), vec_norm(b), vec_cosine(a, b), vec_json(b).

            Examples:
              fitstore sql "SELECT split, origin, COUNT(*) FROM sample_view GROUP BY 1, 2"
              fitstore sql "SELECT vec_dims(vector) FROM metric_embedding LIMIT 1"
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: ArgumentHelp("The SQL (one or more statements; the last one's rows are printed).", valueName: "sql"))
    var sql: String

    @Option(help: "Output format: table, csv or json. Blobs print as <blob N bytes> (json: base64).")
    var format: Format = .table

    @Option(help: "Widest column in table format, in characters (0: no limit).")
    var maxWidth: Int = 60

    @Option(help: ArgumentHelp("Print at most this many rows of the last statement.", valueName: "rows"))
    var limit: Int?

    @Option(help: ArgumentHelp("Stop a statement still running after this many seconds (rows printed until then stay).", valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit takes a number of rows, 0 or more") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout takes a number of seconds above 0") }
    }

    func run() throws {
        let sandbox = SQLSandbox()
        let store = try storeOptions.openForSQL(sandbox)
        if let timeout { sandbox.limitTime(to: timeout) }
        // Rows are printed as SQLite produces them: a large or endless result never sits in memory.
        let printer = ResultPrinter(format: format, maxWidth: maxWidth)
        try QueryResult.stream(sql, in: store, limit: limit, columns: printer.begin, row: printer.row)
        printer.end()
    }
}
