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

    /// Runs the binary with `FITSTORE_KILL_AT=point`: it kills itself there with SIGKILL.
    static func killed(_ cli: CLI, at point: String, _ arguments: String...) throws -> Program.Result {
        try Program.run(CLI.binary, arguments, directory: cli.workdir, environment: ["FITSTORE_KILL_AT": point])
    }

    static func csv(_ cli: CLI, _ sql: String) throws -> String {
        let result = try cli.run("sql", "--format", "csv", sql)
        #expect(result.status == 0, "\(sql): \(result.err)")
        return result.out
    }

    /// The ledger says what happened (item 6a): predict killed after storing its predictions
    /// but before its file took its name, or after, never leaves a run 'succeeded'; the next
    /// writer marks it interrupted, and the next predict removes the dead process's part file.
    @Test func aKilledPredictIsNeverSucceeded() throws {
        let cli = try ReliabilityTests.trainedStore()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let dir = cli.workdir
        for point in ["predict.written", "predict.stored", "predict.renamed"] {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("s.csv"))
            let result = try Self.killed(cli, at: point, "predict", "--out", "s.csv")
            #expect(result.status == SIGKILL, "\(point): the kill point was not reached (\(result.status)): \(result.error)")
            let csvThere = FileManager.default.fileExists(atPath: dir.appendingPathComponent("s.csv").path)
            #expect(csvThere == (point == "predict.renamed"), "\(point)")
            let parts = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".s.csv.") && $0.hasSuffix(".part") }
            #expect(parts.count == (point == "predict.renamed" ? 0 : 1), "\(point): \(parts)")
            #expect(try Self.csv(cli, "SELECT status FROM run WHERE kind = 'predict' ORDER BY id DESC LIMIT 1") == "status\nrunning\n", "\(point)")
            // The next predict marks the killed run, removes its part file and succeeds.
            let again = try cli.run("predict", "--out", "s.csv")
            #expect(again.status == 0, "\(again.err)")
            let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".part") }
            #expect(left.isEmpty, "\(point): \(left)")
            let ledger = try Self.csv(cli, "SELECT status, COALESCE(message, '') LIKE 'interrupted%' FROM run WHERE kind = 'predict' ORDER BY id DESC LIMIT 2")
            #expect(ledger.contains("succeeded,0") && ledger.contains("failed,1"), "\(point): \(ledger)")
        }
    }

    /// A kill during the first write into a new store leaves no half-made schema (item 6d):
    /// the migrations are one transaction, so the file holds no table, and a rerun works.
    @Test func aKilledFirstIngestLeavesNoHalfMigratedStore() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let result = try Self.killed(cli, at: "migrate.7", "demo", "--train", "30", "--test", "10")
        #expect(result.status == SIGKILL, "the kill point was not reached: \(result.error)")
        let store = cli.workdir.appendingPathComponent("fitstore.sqlite").path
        if FileManager.default.fileExists(atPath: store) {
            let state = try Program.run("python3", ["-c", """
                import sqlite3, sys
                c = sqlite3.connect(sys.argv[1])
                print(c.execute("PRAGMA user_version").fetchone()[0], c.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0])
                """, store])
            #expect(state.output == "0 0\n", "a half-migrated store: \(state.output) \(state.error)")
        }
        let again = try cli.run("demo", "--train", "30", "--test", "10")
        #expect(again.status == 0, "\(again.err)")
        #expect(try Self.csv(cli, "PRAGMA user_version") != "user_version\n0\n")
    }

    /// Exports are all or nothing (item 7): a kill after every file is written but before the
    /// folder takes its name leaves the previous export whole (X and split have the same rows,
    /// the manifest names only files that are there); the next export removes the dead
    /// process's temporary folder.
    @Test func aKilledExportLeavesTheOldOneWhole() throws {
        let cli = try ReliabilityTests.trainedStore()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let first = try cli.run("export", "--encoder", "v", "--out", "x")
        #expect(first.status == 0, "\(first.err)")
        let killed = try Self.killed(cli, at: "export.staged", "export", "--encoder", "v", "--out", "x", "--split", "all")
        #expect(killed.status == SIGKILL, "the kill point was not reached: \(killed.error)")
        let x = cli.workdir.appendingPathComponent("x")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: x.appendingPathComponent("manifest.json"))) as? [String: Any]
        let rows = manifest?["rows"] as? Int
        #expect(rows == 40, "the old export (40 train rows) is not whole: \(String(describing: rows))")
        let files = try FileManager.default.contentsOfDirectory(atPath: x.path)
        for name in (manifest?["files"] as? [String: String] ?? [:]).values { #expect(files.contains(name), "\(name) missing") }
        let split = try NpyStringArrayCount.count(x.appendingPathComponent("split.npy"))
        let matrix = try NpyMatrix.read(contentsOf: x.appendingPathComponent("X.npy"))
        #expect(split == 40 && matrix.rows == 40, "X \(matrix.rows) rows beside split \(split)")
        let staging = try FileManager.default.contentsOfDirectory(atPath: cli.workdir.path).filter { $0.hasPrefix(".x.") }
        #expect(staging.count == 1, "\(staging)")
        let again = try cli.run("export", "--encoder", "v", "--out", "x", "--split", "all")
        #expect(again.status == 0, "\(again.err)")
        let after = try FileManager.default.contentsOfDirectory(atPath: cli.workdir.path).filter { $0.hasPrefix(".x.") }
        #expect(after.isEmpty, "\(after)")
        #expect(try NpyMatrix.read(contentsOf: x.appendingPathComponent("X.npy")).rows == 50)
        // A folder of the user's own is never replaced.
        try FileManager.default.createDirectory(at: cli.workdir.appendingPathComponent("mine"), withIntermediateDirectories: true)
        try Data("keep".utf8).write(to: cli.workdir.appendingPathComponent("mine/notes.txt"))
        let refused = try cli.run("export", "--encoder", "v", "--out", "mine")
        #expect(refused.status == 1 && refused.err.contains("notes.txt"), "\(refused.err)")
        #expect(FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("mine/notes.txt").path))
    }

    /// gc while another program reads the store (item 6c): the vectors go, the file is not
    /// compacted now and gc says so in a few seconds, and its run is 'succeeded' with that
    /// message (before: 30 s, then "locked by another program writing to it", run 'succeeded').
    @Test func gcBesideALongReaderSaysWhatItDid() throws {
        let cli = try ReliabilityTests.trainedStore()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        // Vectors gc may remove: a second imported encoder no checkpoint uses.
        #expect(try cli.run("texts", "--missing", "--encoder", "w", "--out", "w.jsonl").status == 0)
        let n = try String(contentsOf: cli.workdir.appendingPathComponent("w.jsonl"), encoding: .utf8).split(separator: "\n").count
        try NpyMatrix(rows: n, columns: 4, values: (0..<(n * 4)).map { Float($0 % 13) / 13 }).write(to: cli.workdir.appendingPathComponent("w.npy"))
        #expect(try cli.run("vectors", "import", "--encoder", "w", "--keys", "w.jsonl", "w.npy").status == 0)
        let store = cli.workdir.appendingPathComponent("fitstore.sqlite").path
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        reader.arguments = ["python3", "-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("BEGIN"); c.execute("SELECT COUNT(*) FROM text_embedding").fetchone()
            print("reading", flush=True); time.sleep(20); c.execute("COMMIT")
            """, store]
        let pipe = Pipe()
        reader.standardOutput = pipe
        try reader.run()
        defer { reader.terminate() }
        #expect(String(decoding: pipe.fileHandleForReading.readData(ofLength: 8), as: UTF8.self) == "reading\n")
        let started = Date()
        let gc = try cli.run("gc", "--encoder", "v", "--remove", "w")
        #expect(Date().timeIntervalSince(started) < 15, "gc waited for the reader")
        #expect(gc.status == 0 && gc.out.contains("not compacted now"), "\(gc.out) \(gc.err)")
        #expect(try Self.csv(cli, "SELECT COUNT(*) FROM text_embedding te JOIN encoder e ON e.id = te.encoder_id WHERE e.name = 'w'") == "COUNT(*)\n0\n")
        let run = try Self.csv(cli, "SELECT status, message LIKE '%not compacted now%' FROM run WHERE kind = 'gc'")
        #expect(run == "status,message LIKE '%not compacted now%'\nsucceeded,1\n", "\(run)")
    }

    /// Unreadable inputs are errors (item 8): a train file that is a symbolic link looping on
    /// itself, one to /dev/zero, a FIFO, or a folder, is refused naming it, at once.
    @Test func unreadableInputsAreRefusedByName() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "20", "--test", "5").status == 0)
        let folder = cli.workdir.appendingPathComponent("fitstore-demo")
        let train = folder.appendingPathComponent("train_data.json")
        let cases: [(String, () throws -> Void, String)] = [
            ("a link loop", { #expect(symlink(train.path, train.path) == 0) }, "loops"),
            ("/dev/zero", { #expect(symlink("/dev/zero", train.path) == 0) }, "device"),
            ("/dev/urandom", { #expect(symlink("/dev/urandom", train.path) == 0) }, "device"),
            ("a FIFO", { #expect(mkfifo(train.path, 0o644) == 0) }, "FIFO"),
            ("a folder", { try FileManager.default.createDirectory(at: train, withIntermediateDirectories: false) }, "folder"),
            ("a dangling link", { #expect(symlink(folder.appendingPathComponent("gone.json").path, train.path) == 0) }, "nothing"),
        ]
        for (name, make, words) in cases {
            try? FileManager.default.removeItem(at: train)
            try make()
            let started = Date()
            let result = try Program.run(URL(fileURLWithPath: "/usr/bin/timeout"), ["30", CLI.binary.path, "ingest", folder.path], directory: cli.workdir)
            #expect(Date().timeIntervalSince(started) < 20, "\(name): ingest hung")
            #expect(result.status == 1 && result.error.contains("train_data.json") && result.error.contains(words), "\(name): \(result.status) \(result.error)")
        }
        // A mistyped --store is refused by commands that need a store, and creates nothing.
        for command in [["embed"], ["gc"], ["train"], ["predict"], ["export", "--out", "e"], ["report"], ["augment"], ["score", "l.csv"]] {
            let result = try Program.run(CLI.binary, command + ["--store", "typo.sqlite"], directory: cli.workdir)
            #expect(result.status != 0 && result.error.contains("typo.sqlite") && result.error.contains("fitstore run"), "\(command): \(result.error)")
            #expect(!FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("typo.sqlite").path), "\(command) created the store")
        }
    }

    /// Messages in words (item 9): labels off the 0-10 scale are refused naming the line and
    /// field; a 5 MB field is quoted cut short; a damaged checkpoint's config is one sentence.
    @Test func messagesAreSentencesOfReadableLength() throws {
        let cli = try ReliabilityTests.trainedStore()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let labels = cli.workdir.appendingPathComponent("labels.csv")
        for (score, words) in [("50", "outside the 0-10 scale"), ("1e308", "outside the 0-10 scale"), ("-1", "outside the 0-10 scale"),
                               (String(repeating: "9", count: 5_000_000), "characters")] {
            try Data("ID,score\n1,\(score)\n".utf8).write(to: labels)
            let result = try cli.run("score", "labels.csv")
            #expect(result.status == 1 && result.err.contains("line 2") && result.err.contains("score") && result.err.contains(words),
                    "\(score.prefix(10)): \(result.err.prefix(300))")
            #expect(result.err.count < 600 && !result.err.contains("NSCocoaErrorDomain"), "\(result.err.count) characters")
        }
        let store = cli.workdir.appendingPathComponent("fitstore.sqlite").path
        #expect(try Program.run("python3", ["-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE checkpoint SET config = json_remove(config, '$.features')"); c.commit()
            """, store]).status == 0)
        for command in [["predict"], ["checkpoints"], ["score", "fitstore-demo/test_labels.csv"]] {
            let result = try cli.run(command[0], command.count > 1 ? command[1] : "--dataset=demo")
            let text = result.err + result.out
            #expect(text.contains("features is missing") && !text.contains("DecodingError") && !text.contains("keyNotFound"), "\(command): \(text)")
            #expect(text.components(separatedBy: "is damaged").count <= 2, "\(command): \(text)")
        }
    }
}

/// The number of strings in a 1-d NumPy string array (split.npy), from its header.
enum NpyStringArrayCount {
    static func count(_ url: URL) throws -> Int {
        let data = try Data(contentsOf: url)
        let header = String(decoding: data.prefix(256), as: UTF8.self)
        guard let range = header.range(of: #"'shape': \((\d+),"#, options: .regularExpression) else { return -1 }
        return Int(header[range].filter(\.isNumber)) ?? -1
    }
}
