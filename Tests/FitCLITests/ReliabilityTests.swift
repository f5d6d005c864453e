import FitFormats
import FitTestSupport
import Foundation
import Testing

/// What holds under faults and mistakes (docs/reliability.md), through the binary as a user
/// runs it.
@Suite struct ReliabilityTests {
    /// A demo store with vectors imported (no model needed) and a trained checkpoint.
    static func trainedStore() throws -> CLI {
        let cli = try CLI()
        #expect(try cli.run("demo", "--train", "40", "--test", "10").status == 0)
        #expect(try cli.run("texts", "--missing", "--encoder", "v", "--out", "t.jsonl").status == 0)
        let n = try String(contentsOf: cli.workdir.appendingPathComponent("t.jsonl"), encoding: .utf8).split(separator: "\n").count
        let values = (0..<(n * 8)).map { Float(($0 * 7919) % 97) / 97 - 0.5 }
        try NpyMatrix(rows: n, columns: 8, values: values).write(to: cli.workdir.appendingPathComponent("v.npy"))
        #expect(try cli.run("vectors", "import", "--encoder", "v", "--keys", "t.jsonl", "v.npy").status == 0)
        #expect(try cli.run("train", "--encoder", "v", "--cv-folds", "0", "--trees", "20").status == 0)
        return cli
    }

    static var canDropPrivileges: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    }

    /// A store the user cannot write (another user's file in another user's folder, as on
    /// read-only media): the reading commands work, predict writes its file without storing,
    /// and a writing command says in words that it cannot write.
    @Test(.enabled(if: canDropPrivileges, "needs root to run the binary as another user (setpriv)"))
    func aStoreThatCannotBeWrittenIsReadable() throws {
        let cli = try Self.trainedStore()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let out = cli.workdir.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        for path in [cli.workdir.path, out.path] { chmod(path, 0o777) }
        chmod(cli.workdir.appendingPathComponent("fitstore.sqlite").path, 0o644)
        chmod(cli.workdir.path, 0o755)  // the folder of the store: not the other user's
        func asNobody(_ arguments: String...) throws -> Program.Result {
            try Program.run(URL(fileURLWithPath: "/usr/bin/setpriv"),
                            ["--reuid=65534", "--regid=65534", "--clear-groups", CLI.binary.path] + arguments
                                + ["--store", cli.workdir.appendingPathComponent("fitstore.sqlite").path],
                            directory: out)
        }
        let stats = try asNobody("stats")
        #expect(stats.status == 0 && stats.output.contains("dedup ratio"), "\(stats.error)")
        let sql = try asNobody("sql", "SELECT COUNT(*) FROM sample")
        #expect(sql.status == 0 && sql.output.contains("50"), "\(sql.error)")
        let export = try asNobody("export", "--encoder", "v", "--out", out.appendingPathComponent("x").path)
        #expect(export.status == 0, "\(export.error)")
        let report = try asNobody("report", "--out", out.appendingPathComponent("r.html").path)
        #expect(report.status == 0, "\(report.error)")
        let predict = try asNobody("predict", "--out", out.appendingPathComponent("s.csv").path)
        #expect(predict.status == 0 && predict.output.contains("in the file only"), "\(predict.error)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("s.csv").path))
        let write = try asNobody("augment", "--stages", "negative", "--encoder", "v")
        #expect(write.status != 0 && write.error.contains("is read-only here") && !write.error.contains("SQLite error"), "\(write.error)")
        // The same through a relative path and the default one, from the store's folder (the
        // immutable URI needs an absolute path: before, these said the store did not exist).
        for store in [[], ["--store", "fitstore.sqlite"], ["--store", "./out/../fitstore.sqlite"], ["--store", "out/../fitstore.sqlite"]] {
            let result = try Program.run(URL(fileURLWithPath: "/usr/bin/setpriv"),
                                         ["--reuid=65534", "--regid=65534", "--clear-groups", CLI.binary.path, "stats"] + store,
                                         directory: cli.workdir)
            #expect(result.status == 0 && result.output.contains("dedup ratio"), "\(store): \(result.error)")
            let sql = try Program.run(URL(fileURLWithPath: "/usr/bin/setpriv"),
                                      ["--reuid=65534", "--regid=65534", "--clear-groups", CLI.binary.path, "sql", "SELECT COUNT(*) FROM sample"] + store,
                                      directory: cli.workdir)
            #expect(sql.status == 0 && sql.output.contains("50"), "\(store): \(sql.error)")
        }
    }

    /// A command that fails leaves no run 'succeeded': predict into a folder that does not
    /// exist stores nothing and says so, naming the path.
    @Test func aFailedPredictStoresNothing() throws {
        let cli = try Self.trainedStore()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let failed = try cli.run("predict", "--out", "no/such/folder/s.csv")
        #expect(failed.status != 0 && failed.err.contains("no/such/folder") && failed.err.contains("does not exist"), "\(failed.err)")
        let runs = try cli.run("sql", "--format", "csv", "SELECT COUNT(*) FROM run WHERE kind = 'predict'")
        let predictions = try cli.run("sql", "--format", "csv", "SELECT COUNT(*) FROM prediction")
        #expect(runs.out == "COUNT(*)\n0\n" && predictions.out == "COUNT(*)\n0\n")
    }

    /// A training process killed mid-run: its run is marked failed, with the cause, as soon as
    /// another fitstore opens the store to write; a live run of the same kind makes a second
    /// writer refuse instead of doing the work twice.
    @Test func killedRunsAreMarkedAndLiveOnesAreRespected() throws {
        let cli = try Self.trainedStore()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let process = Process()
        process.executableURL = CLI.binary
        // Boosting has no early stopping: two million rounds keep it busy long enough.
        process.arguments = ["train", "--encoder", "v", "--trees", "2000000", "--cv-folds", "0"]
        process.currentDirectoryURL = cli.workdir
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until its run is recorded.
        var running = false
        for _ in 0..<100 where !running {
            Thread.sleep(forTimeInterval: 0.1)
            running = try cli.run("sql", "--format", "csv", "SELECT COUNT(*) FROM run WHERE kind = 'train' AND status = 'running'").out == "COUNT(*)\n1\n"
        }
        try #require(running, "the training run was recorded")
        let second = try cli.run("train", "--encoder", "v", "--cv-folds", "0", "--trees", "5")
        #expect(second.status != 0 && second.err.contains("another train is running on this store"), "\(second.err)")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(try cli.run("stats", "--upgrade").status == 0)  // any writing open
        let status = try cli.run("sql", "--format", "csv", "SELECT status, message FROM run WHERE kind = 'train' ORDER BY id DESC LIMIT 1")
        #expect(status.out.contains("failed") && status.out.contains("ended before the run finished"), "\(status.out)")
        let again = try cli.run("train", "--encoder", "v", "--cv-folds", "0", "--trees", "5")
        #expect(again.status == 0, "\(again.err)")
    }

    /// A failed ingest into a new path leaves no store file; a failed export leaves nothing
    /// under its final names; gc compacts a file with free pages even when it removes nothing.
    @Test func failuresLeaveNoHalfFiles() throws {
        let cli = try Self.trainedStore()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let bad = cli.workdir.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        try Data(#"["m"]"#.utf8).write(to: bad.appendingPathComponent("metric_names.json"))
        try Data(#"[{"metric_name": "x", "score": "5", "user_prompt": "p", "response": "r", "system_prompt": null}]"#.utf8)
            .write(to: bad.appendingPathComponent("train_data.json"))
        let ingest = try cli.run("ingest", "bad", "--store", "new.sqlite")
        #expect(ingest.status != 0 && ingest.err.contains("unknown metric name 'x'"))
        #expect(!FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("new.sqlite").path))

        let export = try cli.run("export", "--encoder", "v", "--out", "x", "--origin", "real,nope")
        #expect(export.status != 0)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: cli.workdir.appendingPathComponent("x").path)) ?? []
        #expect(left.isEmpty, "\(left)")
        let exported = try cli.run("export", "--encoder", "v", "--out", "x")
        #expect(exported.status == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: cli.workdir.appendingPathComponent("x").path)
        #expect(files.contains("X.npy") && !files.contains { $0.hasSuffix(".part") }, "\(files)")

        // Free pages without anything for gc to remove: rows deleted by another program.
        guard Python.available else { return }
        let augment = try cli.run("augment", "--stages", "negative", "--encoder", "v", "--low-count", "400", "--mid-count", "0")
        // Each generator says what it was asked for and wrote.
        #expect(augment.status == 0 && augment.out.contains("negative_noise: ") && augment.out.contains("requested"), "\(augment.out)")
        let store = cli.workdir.appendingPathComponent("fitstore.sqlite").path
        let deleted = try Program.run("python3", ["-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1])
            c.execute("DELETE FROM sample_parent"); c.execute("DELETE FROM sample WHERE origin = 'synthetic'"); c.commit()
            print(c.execute("PRAGMA freelist_count").fetchone()[0])
            """, store])
        #expect(deleted.status == 0 && (Int(deleted.output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0, "\(deleted.error)")
        let gc = try cli.run("gc", "--encoder", "v")
        #expect(gc.status == 0 && gc.out.contains("no vectors to remove") && gc.out.contains("compacted the file"), "\(gc.out)")
    }

    /// Whether this process may mount a small tmpfs (root in a namespace that allows it):
    /// the only honest way to fill a disk in a test.
    static let canMountSmallDisk: Bool = {
        guard getuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("fitstore-mount-probe-\(UUID())")
        defer { try? FileManager.default.removeItem(at: probe) }
        guard (try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)) != nil,
              (try? Program.run("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe.path]))?.status == 0
        else { return false }
        _ = try? Program.run("umount", [probe.path])
        return true
    }()

    /// A full disk: the command says so in words naming the store, its run is marked failed
    /// with that cause (not "SQLite error 13", and not later as "interrupted"), what was
    /// committed before stays, and once space is freed the same command succeeds.
    @Test(.enabled(if: canMountSmallDisk, "needs root and mount to make a small disk"))
    func aFullDiskFailsTheRunInWords() throws {
        let cli = try CLI()
        defer {
            _ = try? Program.run("umount", [cli.workdir.path])
            try? FileManager.default.removeItem(at: cli.workdir)
        }
        try #require(try Program.run("mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", cli.workdir.path]).status == 0)
        #expect(try cli.run("demo", "--train", "40", "--test", "10").status == 0)
        #expect(try cli.run("texts", "--missing", "--encoder", "v", "--out", "t.jsonl").status == 0)
        let n = try String(contentsOf: cli.workdir.appendingPathComponent("t.jsonl"), encoding: .utf8).split(separator: "\n").count
        try NpyMatrix(rows: n, columns: 8, values: (0..<(n * 8)).map { Float($0 % 89) / 89 })
            .write(to: cli.workdir.appendingPathComponent("v.npy"))
        #expect(try cli.run("vectors", "import", "--encoder", "v", "--keys", "t.jsonl", "v.npy").status == 0)

        // Leave room for the run's row but not for the seed MLP's 2.7 MB checkpoint.
        let values = try cli.workdir.resourceValues(forKeys: [.volumeAvailableCapacityKey])
        let free = try #require(values.volumeAvailableCapacity)
        let filler = cli.workdir.appendingPathComponent("filler")
        try Data(count: max(0, free - 200_000)).write(to: filler)
        let full = try cli.run("train", "--encoder", "v", "--model", "seed", "--epochs", "1", "--cv-folds", "0")
        #expect(full.status != 0 && full.err.contains("fitstore.sqlite is full") && !full.err.contains("SQLite error"), "\(full.err)")
        let ledger = try cli.run("sql", "--format", "csv", "SELECT kind, status, message FROM run ORDER BY id")
        #expect(ledger.out.contains("ingest,succeeded") && ledger.out.contains("import,succeeded"), "\(ledger.out)")
        #expect(ledger.out.contains("train,failed,the disk holding") && !ledger.out.contains("SQLite error"), "\(ledger.out)")
        // A step that is one transaction (augment) records its failed run too,
        // although the transaction that began the run rolled back with it.
        let augment = try cli.run("augment", "--stages", "negative", "--encoder", "v", "--low-count", "20000", "--mid-count", "20000")
        #expect(augment.status != 0 && augment.err.contains("is full"), "\(augment.err)")
        let ledgerAfter = try cli.run("sql", "--format", "csv", "SELECT kind, status, message FROM run ORDER BY id")
        #expect(ledgerAfter.out.contains("augment,failed,the disk holding"), "\(ledgerAfter.out)")

        try FileManager.default.removeItem(at: filler)
        let again = try cli.run("train", "--encoder", "v", "--model", "seed", "--epochs", "1", "--cv-folds", "0")
        #expect(again.status == 0, "\(again.err)")
        let checkpoints = try cli.run("sql", "--format", "csv", "SELECT COUNT(*) FROM checkpoint")
        #expect(checkpoints.out == "COUNT(*)\n1\n", "\(checkpoints.out)")
    }
}
