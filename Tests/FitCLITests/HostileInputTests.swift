import FitFormats
import FitTestSupport
import Foundation
import Testing

/// What a careless user or a hostile file can type or hand fitstore, through the binary
/// (issue #22): nothing destroys the store, reaches memory it should not, or is lost.
@Suite struct HostileInputTests {
    /// The bytes of the store's file and write-ahead log, to show a command left them alone.
    static func storeBytes(_ cli: CLI) -> [Data] {
        ["fitstore.sqlite", "fitstore.sqlite-wal"].map {
            (try? Data(contentsOf: cli.workdir.appendingPathComponent($0))) ?? Data()
        }
    }

    /// Every command that writes a file refuses, before any work, a path that is the store,
    /// its log, or a link to either, naming both paths; the store's bytes do not change.
    @Test func anOutputPathNeverOverwritesTheStore() throws {
        let cli = try ReliabilityTests.trainedStore()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let dir = cli.workdir
        let store = dir.appendingPathComponent("fitstore.sqlite").path
        // A log that exists (folded into the file otherwise) and links of each kind.
        #expect(symlink(store, dir.appendingPathComponent("soft.csv").path) == 0)
        #expect(link(store, dir.appendingPathComponent("hard.csv").path) == 0)
        #expect(symlink(store + "-wal", dir.appendingPathComponent("to-wal.csv").path) == 0)
        #expect(symlink(dir.path, dir.appendingPathComponent("here").path) == 0)
        try Data(#"[{"metric_name": "x", "user_prompt": "p", "response": "r"}]"#.utf8).write(to: dir.appendingPathComponent("in.json"))
        let before = Self.storeBytes(cli)
        let attempts: [[String]] = [
            ["predict", "--out", "fitstore.sqlite"],
            ["predict", "--out", store],
            ["predict", "--out", "fitstore.sqlite-wal"],
            ["predict", "--out", "fitstore.sqlite-shm"],
            ["predict", "--out", "fitstore.sqlite-journal"],
            ["predict", "--out", "soft.csv"],
            ["predict", "--out", "hard.csv"],
            ["predict", "--out", "to-wal.csv"],
            ["predict", "--out", "here/../fitstore.sqlite"],
            ["predict", "--out", "here/fitstore.sqlite"],
            ["predict", "--input", "in.json", "--out", "fitstore.sqlite"],
            ["report", "--out", "fitstore.sqlite"],
            ["texts", "--missing", "--encoder", "v", "--out", "hard.csv"],
            ["relations", "suggest", "--encoder", "v", "--out", "fitstore.sqlite"],
            ["export", "--encoder", "v", "--out", "fitstore.sqlite"],
            ["run", "--out", "soft.csv"],
            ["encode", "in.json", "--out", "fitstore.sqlite"],
        ]
        for arguments in attempts {
            let result = try Program.run(CLI.binary, arguments, directory: dir)
            let out = arguments[arguments.count - 1]
            #expect(result.status != 0, "\(arguments) was not refused: \(result.output)")
            #expect(result.error.contains(out) && (result.error.contains("fitstore.sqlite") || arguments[0] == "encode"),
                    "\(arguments): \(result.error)")
            #expect(result.error.contains("destroy"), "\(arguments): \(result.error)")
            #expect(Self.storeBytes(cli) == before, "\(arguments) changed the store")
        }
        let check = try cli.run("sql", "--format", "csv", "PRAGMA user_version")
        #expect(check.status == 0 && check.out.hasPrefix("user_version\n"), "\(check.err)")
        // A plain path still works.
        let ok = try cli.run("predict", "--out", "s.csv")
        #expect(ok.status == 0, "\(ok.err)")
    }

    /// `fitstore sql` is a sandbox: each hostile statement is refused in one sentence (exit 1,
    /// no usage text), the process never dereferences what a statement hands it, and the store's
    /// bytes are unchanged; a runaway query streams its rows and stops at --timeout.
    @Test func sqlIsASandbox() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "30", "--test", "10").status == 0)
        let other = cli.workdir.appendingPathComponent("other.sqlite").path
        #expect(try Program.run("python3", ["-c", "import sqlite3; c = sqlite3.connect('\(other)'); c.execute('CREATE TABLE secret(x)'); c.commit()"]).status == 0)
        let before = Self.storeBytes(cli)
        let hostile = [
            "SELECT hex(fts3_tokenizer('simple'))",
            "SELECT fts3_tokenizer('x', X'4141414141414141')",
            "SELECT fts3_tokenizer('x', X'4141414141414141'); CREATE VIRTUAL TABLE temp.t USING fts3tokenize(x); SELECT token FROM t WHERE input = 'a'",
            "CREATE VIRTUAL TABLE temp.t USING fts3tokenize(simple)",
            "SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6')",
            "PRAGMA writable_schema = 1",
            "PRAGMA writable_schema",
            "PRAGMA user_version = 99",
            "PRAGMA journal_mode = DELETE",
            "ATTACH '\(other)' AS other",
            "ATTACH '\(other)' AS other; SELECT * FROM other.secret",
            "CREATE TEMP TABLE t(x)",
            "CREATE TEMP VIEW v AS SELECT 1",
            "CREATE TABLE t(x)",
            "VACUUM INTO '\(cli.workdir.path)/copy.sqlite'",
            "VACUUM",
            "DELETE FROM sample",
            "UPDATE sample SET score = 0",
            "INSERT INTO dataset (name, created_run_id) VALUES ('x', 1)",
            "DROP VIEW sample_view",
            "ANALYZE",
            "REINDEX",
            "SELECT * FROM sqlite_temp_master",
        ]
        for statement in hostile {
            let result = try cli.run("sql", statement)
            #expect(result.status == 1, "\(statement): status \(result.status), \(result.out)")
            #expect(result.err.hasPrefix("Error: ") && !result.err.contains("Usage:") && result.err.split(separator: "\n").count == 1,
                    "\(statement): \(result.err)")
            #expect(result.err.contains("refused"), "\(statement): \(result.err)")
            #expect(!result.out.contains("7F") && !result.out.contains("secret"), "\(statement) printed \(result.out)")
            #expect(Self.storeBytes(cli) == before, "\(statement) changed the store")
        }
        #expect(!FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("copy.sqlite").path))
        // What the sandbox allows: views, schema pragmas, JSON and vector functions.
        for allowed in ["SELECT COUNT(*) FROM sample_view", "PRAGMA table_info(sample)", "SELECT name FROM pragma_table_info('sample')",
                        "SELECT key FROM json_each('[1, 2]')", "SELECT json_extract(parameters, '$.dataset') FROM run",
                        "SELECT vec_dims(vector) FROM text_embedding", "SELECT name FROM sqlite_master"] {
            let result = try cli.run("sql", allowed)
            #expect(result.status == 0, "\(allowed): \(result.err)")
        }
        // A runaway recursive query: rows arrive while it runs (nothing is held), and it stops
        // at the time limit in words; --limit ends it after that many rows.
        let runaway = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
        let timed = try cli.run("sql", "--format", "csv", "--timeout", "1", runaway)
        #expect(timed.status == 1 && timed.err.contains("--timeout"), "\(timed.err)")
        #expect(timed.out.split(separator: "\n").count > 1000, "no rows streamed before the time limit")
        let limited = try cli.run("sql", "--format", "csv", "--limit", "3", runaway)
        #expect(limited.status == 0 && limited.out == "x\n1\n2\n3\n", "\(limited.out) \(limited.err)")
        let syntax = try cli.run("sql", "SELEC 1")
        #expect(syntax.status == 1 && !syntax.err.contains("Usage:") && syntax.err.contains("syntax error"), "\(syntax.err)")
    }
}
