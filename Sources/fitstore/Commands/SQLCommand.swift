import ArgumentParser
import FitStore
import GRDB
import Foundation

struct SQLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Run SQL on the store, read-only, and print the result.",
        discussion: """
            The store is opened read-only: nothing you type can change it.

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

    func run() throws {
        let store = try storeOptions.open(.readOnly)
        let result: QueryResult
        do {
            result = try QueryResult.run(sql, in: store)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY || error.resultCode == .SQLITE_AUTH {
            throw ValidationError("fitstore sql only reads (SELECT, WITH, EXPLAIN; the store is opened read-only): "
                                  + "the commands change the store, each recording a run")
        } catch let error as DatabaseError {
            throw ValidationError("the SQL was refused: \(error.message ?? "\(error.resultCode)")")
        }
        switch format {
        case .table:
            TableFormatter.printTable(columns: result.columns, rows: result.rows.map { $0.map(TableFormatter.cell) },
                                      rightAligned: [], maxWidth: maxWidth)
            print("(\(result.rows.count) row\(result.rows.count == 1 ? "" : "s"))")
        case .csv:
            print(TableFormatter.csv(result))
        case .json:
            print(try TableFormatter.json(result))
        }
    }
}
