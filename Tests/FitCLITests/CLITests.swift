import Foundation
import Testing

/// Runs the `fitstore` executable built beside the test bundle.
struct CLI {
    let workdir: URL

    static var binary: URL {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("fitstore").path), dir.path != "/" {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("fitstore")
    }

    init() throws {
        workdir = FileManager.default.temporaryDirectory.appendingPathComponent("fitstore-cli-\(UUID())")
        try FileManager.default.createDirectory(at: workdir, withIntermediateDirectories: true)
    }

    @discardableResult
    func run(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.currentDirectoryURL = workdir
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

@Suite struct CLITests {
    @Test func demoThenInspect() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let demo = try cli.run("demo", "--train", "60", "--test", "20")
        #expect(demo.status == 0, "\(demo.err)")
        #expect(demo.out.contains("+60 added"))
        #expect(FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("fitstore.sqlite").path))
        let readme = try String(contentsOf: cli.workdir.appendingPathComponent("fitstore-demo/README.md"), encoding: .utf8)
        #expect(readme.contains("GENERATED DEMO DATA"))

        let again = try cli.run("demo", "--train", "60", "--test", "20")
        #expect(again.out.contains("nothing changed"))

        let table = try cli.run("sql", "SELECT split, COUNT(*) AS n FROM sample_view GROUP BY split ORDER BY split")
        #expect(table.status == 0)
        #expect(table.out.contains("test   20") && table.out.contains("train  60") && table.out.contains("(2 rows)"))

        let csv = try cli.run("sql", "--format", "csv", "SELECT 'a,b' AS x, NULL AS y, 3 AS z")
        #expect(csv.out == "x,y,z\n\"a,b\",,3\n")

        let json = try cli.run("sql", "--format", "json", "SELECT 1 AS one")
        #expect(json.out.contains("\"one\" : 1"))

        let stats = try cli.run("stats")
        #expect(stats.status == 0 && stats.out.contains("dedup ratio"))
    }

    /// The README's main job on the built-in demo data, then again with nothing new, then the
    /// store exported and reported.
    @Test func runEndToEndThenRerunExportAndReport() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let first = try cli.run("run")
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out.contains("[3/5] augment: profile real-only") && first.out.contains("[5/5] predict"))
        #expect(first.out.contains("boosted model") && first.out.contains("5-fold CV on 600 real rows"))
        let lines = try String(contentsOf: cli.workdir.appendingPathComponent("submission.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 201 && lines[0] == "ID,score")

        let started = Date()
        let second = try cli.run("run")
        #expect(second.status == 0 && second.out.contains("every text already has a vector") && second.out.contains("reusing checkpoint"))
        #expect(Date().timeIntervalSince(started) < 30, "a rerun with nothing new is quick")

        let export = try cli.run("export", "--out", "x", "--split", "all", "--folds", "5")
        #expect(export.status == 0 && export.out.contains("exported 800 rows x 1152 columns"), "\(export.out)\(export.err)")
        for file in ["X.npy", "y.npy", "fold.npy", "features.safetensors", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("x/\(file)").path), "\(file)")
        }
        let unknown = try cli.run("export", "--out", "y", "--origin", "real,no_such_generator")
        #expect(unknown.status != 0 && unknown.err.contains("no generator 'no_such_generator'"))

        let report = try cli.run("report", "--out", "r.html")
        #expect(report.status == 0 && report.out.contains("15 charts") && report.out.contains("not in the store yet: Synthetic data"), "\(report.out)")

        // --model names the model family (the encoder's file is --model-file).
        let seed = try cli.run("train", "--model", "seed", "--widths", "16,8", "--epochs", "2", "--cv-folds", "0")
        #expect(seed.status == 0 && seed.out.contains("seed model"), "\(seed.err)")
    }

    @Test func errorsExitNonZeroWithAMessage() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let missing = try cli.run("sql", "SELECT 1")
        #expect(missing.status != 0 && missing.err.contains("no store at"))
        _ = try cli.run("demo", "--train", "10", "--test", "5")
        let write = try cli.run("sql", "DELETE FROM sample")
        #expect(write.status != 0 && write.err.contains("readonly"))
        let bad = try cli.run("sql", "SELECT vec_dims('x')")
        #expect(bad.status != 0 && bad.err.contains("vec_dims: expected a vector blob"))
        let noFolder = try cli.run("ingest", "does-not-exist")
        #expect(noFolder.status != 0 && noFolder.err.contains("not a folder"))
        let count = try cli.run("sql", "--format", "csv", "SELECT COUNT(*) FROM sample")
        #expect(count.out == "COUNT(*)\n15\n", "the failed commands changed nothing")
    }

    @Test func helpTeaches() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let help = try cli.run("ingest", "--help")
        #expect(help.out.contains("--store") && help.out.contains("one transaction"))
    }
}
