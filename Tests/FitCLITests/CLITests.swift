import FitEncoder
import FitFormats
import FitStore
import FitTestSupport
import Foundation
import Testing

/// Runs the `fitstore` executable built beside the test bundle (or another copy of it).
struct CLI {
    let workdir: URL
    var binary: URL = CLI.binary
    /// Variables set for the child on top of ours.
    var environment: [String: String] = [:]

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
        let result = try Program.run(binary, arguments, directory: workdir, environment: environment)
        return (result.status, result.output, result.error)
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
    /// store exported and reported. With the default learner settings (`--learner default`):
    /// weighing the wide ones trains 31 more fits of 300 rounds, which would make this the
    /// suite's slowest test, and that choice is LifecycleTests'.
    @Test func runEndToEndThenRerunExportAndReport() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let first = try cli.run("run", "--learner", "default")
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out.contains("[3/5] augment: profile real-only") && first.out.contains("[5/5] predict"))
        #expect(first.out.contains("boosted model") && first.out.contains("5-fold CV on 600 real rows"))
        let lines = try String(contentsOf: cli.workdir.appendingPathComponent("submission.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 201 && lines[0] == "ID,score")

        let started = Date()
        let second = try cli.run("run", "--learner", "default")
        #expect(second.status == 0 && second.out.contains("every text already has a vector") && second.out.contains("reusing checkpoint"))
        #expect(Date().timeIntervalSince(started) < 30, "a rerun with nothing new is quick")
        #expect(first.out.contains("nearest neighbours (k ") && first.out.contains("for the model (mean per-fold gain"), "\(first.out)")
        // The rerun finds the kNN and the blend again and makes the same choice.
        #expect(second.out.contains("nearest neighbours (k ") && first.out.contains("chosen: checkpoint"), "\(second.out)")

        let export = try cli.run("export", "--out", "x", "--split", "all", "--folds", "5")
        #expect(export.status == 0 && export.out.contains("exported 800 rows x 1152 columns"), "\(export.out)\(export.err)")
        for file in ["X.npy", "y.npy", "fold.npy", "features.safetensors", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("x/\(file)").path), "\(file)")
        }
        let unknown = try cli.run("export", "--out", "y", "--origin", "real,no_such_generator")
        #expect(unknown.status != 0 && unknown.err.contains("no generator 'no_such_generator'"))

        let report = try cli.run("report", "--out", "r.html")
        #expect(report.status == 0 && report.out.contains("18 charts") && report.out.contains("not in the store yet: Synthetic data"), "\(report.out)")

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
        #expect(write.status == 1 && write.err.contains("fitstore sql refused") && write.err.contains("DELETE"), "\(write.err)")
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

    /// The release binary copied alone to another directory runs every command: nothing it
    /// needs lives in a resource bundle beside the build (the shipped metric relations are
    /// compiled in). A DA5401-format folder whose metrics are those of the shipped relations
    /// gets them, as the official data would.
    @Test func aCopiedBinaryCarriesItsResources() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        let bin = cli.workdir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        var copied = cli
        copied.binary = bin.appendingPathComponent("fitstore")
        try FileManager.default.copyItem(at: CLI.binary, to: copied.binary)
        // No path to a bundle of our own modules is compiled into it.
        let bytes = try Data(contentsOf: copied.binary)
        #expect(bytes.range(of: Data("fitstore_FitAugment.resources".utf8)) == nil)

        let shipped = try JSONSerialization.jsonObject(
            with: Data(contentsOf: Repository.file("Sources/FitAugment/Resources/relations-da5401.json"))) as! [String: Any]
        let opposites = shipped["opposites"] as! [String: String]
        let substitutes = shipped["substitutes"] as! [String: [String]]
        let names = Set(opposites.keys).union(opposites.values).union(substitutes.keys).union(substitutes.values.flatMap { $0 }).sorted()
        let folder = cli.workdir.appendingPathComponent("official")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: names).write(to: folder.appendingPathComponent("metric_names.json"))
        let rows: [[String: Any]] = names.prefix(30).enumerated().map { i, name in
            ["metric_name": name, "score": i % 3 == 0 ? "2" : "9", "user_prompt": "Prompt \(i)", "response": "Response \(i)",
             "system_prompt": NSNull()]
        }
        try JSONSerialization.data(withJSONObject: rows).write(to: folder.appendingPathComponent("train_data.json"))

        let ingest = try copied.run("ingest", "official")
        #expect(ingest.status == 0, "\(ingest.err)")
        let augment = try copied.run("augment", "--stages", "opposite_metric,substitutable_metric")
        #expect(augment.status == 0, "\(augment.err)")
        #expect(augment.out.contains("with relations builtin:relations-da5401.json"), "\(augment.out)")
        #expect(augment.out.contains("opposite_metric"), "\(augment.out)")
        let demo = try copied.run("demo", "--train", "20", "--test", "5", "--store", "demo.sqlite")
        #expect(demo.status == 0, "\(demo.err)")
    }

    /// A store whose texts all have vectors is usable without the model file (a store
    /// copied to another machine): everything but embedding new texts works, and embedding
    /// says how many texts wait for the model and how to get it.
    @Test func storedVectorsNeedNoModel() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "60", "--test", "20").status == 0)
        let embed = try cli.run("embed")
        #expect(embed.status == 0, "\(embed.err)")

        var noModel = cli
        noModel.environment = ["FITSTORE_MODEL_DIR": cli.workdir.appendingPathComponent("no-models").path, "FITSTORE_MODEL": ""]
        let nothing = try noModel.run("embed")
        #expect(nothing.status == 0 && nothing.out.contains("nothing to do"), "\(nothing.out)\(nothing.err)")
        let export = try noModel.run("export", "--out", "x")
        #expect(export.status == 0, "\(export.err)")
        let train = try noModel.run("train", "--cv-folds", "0")
        #expect(train.status == 0, "\(train.err)")
        let predict = try noModel.run("predict", "--out", "s.csv")
        #expect(predict.status == 0, "\(predict.err)")
        let suggest = try noModel.run("relations", "suggest", "--out", "rel.json")
        #expect(suggest.status == 0 && !suggest.out.contains("vectors for 0 metric"), "\(suggest.out)\(suggest.err)")
        let report = try noModel.run("report", "--out", "r.html")
        #expect(report.status == 0, "\(report.err)")

        // New texts arrive: embedding them needs the model, and says so.
        #expect(try noModel.run("demo", "--train", "90", "--test", "20").status == 0)
        let needs = try noModel.run("embed")
        #expect(needs.status != 0 && needs.err.contains("have no vector under encoder") && needs.err.contains("tools/setup"),
                "\(needs.err)")
    }

    /// Vectors made elsewhere: the texts go out as JSON lines, their vectors come back as an
    /// .npy under a new encoder name, and training uses them. Bad files are refused, naming
    /// the line or row, and leave the store as it was.
    @Test func importsVectorsMadeElsewhere() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "40", "--test", "10").status == 0)
        let listed = try cli.run("texts", "--missing", "--encoder", "ext", "--out", "t.jsonl")
        #expect(listed.status == 0, "\(listed.err)")
        let lines = try String(contentsOf: cli.workdir.appendingPathComponent("t.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(listed.out.hasPrefix("\(lines.count) text(s)") && lines.count > 10)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: String]
        let text = try #require(first["text"])
        #expect(first["sha256"] == SHA256.digest(text).hexString)

        func write(_ name: String, rows: Int, columns: Int = 16, poison: ((inout [Float]) -> Void)? = nil) throws {
            var values = (0..<(rows * columns)).map { Float(($0 * 7919) % 97) / 97 - 0.5 }
            poison?(&values)
            try NpyMatrix(rows: rows, columns: columns, values: values).write(to: cli.workdir.appendingPathComponent(name))
        }
        let n = lines.count
        try write("short.npy", rows: n - 1)
        try write("nan.npy", rows: n) { $0[5 * 16 + 3] = .nan }
        try write("wide.npy", rows: n, columns: 24)
        try write("good.npy", rows: n)
        try (lines.dropLast().joined(separator: "\n") + "\n{\"sha256\": \"\(String(repeating: "ab", count: 32))\"}\n")
            .write(to: cli.workdir.appendingPathComponent("unknown.jsonl"), atomically: true, encoding: .utf8)
        try (lines.dropLast().joined(separator: "\n") + "\n{\"text\": \"no digest\"}\n")
            .write(to: cli.workdir.appendingPathComponent("nodigest.jsonl"), atomically: true, encoding: .utf8)

        let count = { try cli.run("sql", "--format", "csv", "SELECT COUNT(*) FROM text_embedding").out }
        let before = try count()
        for (keys, vectors, message) in [("t.jsonl", "short.npy", "holds \(n - 1) rows but t.jsonl has \(n) keys"),
                                         ("t.jsonl", "nan.npy", "row 5 (line 6 of t.jsonl): value nan at column 3"),
                                         ("unknown.jsonl", "good.npy", "line \(n): no text in the store has sha256 abab"),
                                         ("nodigest.jsonl", "good.npy", "line \(n): no \"sha256\" field")] {
            let refused = try cli.run("vectors", "import", "--encoder", "ext", "--keys", keys, vectors)
            #expect(refused.status != 0 && refused.err.contains(message), "\(keys) \(vectors): \(refused.err)")
            #expect(try count() == before, "a refused import changes nothing")
        }
        let imported = try cli.run("vectors", "import", "--encoder", "ext", "--keys", "t.jsonl", "good.npy")
        #expect(imported.status == 0 && imported.out.contains("created encoder ext (16 dimensions): \(n) vector(s) added"), "\(imported.err)")
        let wider = try cli.run("vectors", "import", "--encoder", "ext", "--keys", "t.jsonl", "wide.npy")
        #expect(wider.status != 0 && wider.err.contains("encoder ext has 16 dimensions"), "\(wider.err)")
        let encoders = try cli.run("encoders")
        #expect(encoders.out.contains("ext") && encoders.out.contains("imported") && encoders.out.contains("\(n) of \(n)"), "\(encoders.out)")
        let train = try cli.run("train", "--encoder", "ext", "--cv-folds", "0")
        #expect(train.status == 0, "\(train.err)")
        let export = try cli.run("export", "--encoder", "ext", "--out", "x")
        #expect(export.status == 0 && export.out.contains("rows x 48 columns"), "\(export.out)\(export.err)")
        let unknown = try cli.run("train", "--encoder", "nope")
        #expect(unknown.status != 0 && unknown.err.contains("no encoder 'nope'") && unknown.err.contains("ext"), "\(unknown.err)")
    }
}

/// Model folders as encoders (issue #12): added once, embedded, trained on and predicted
/// with beside the built-in encoder in one store; a name in use and a changed folder are
/// refused and change nothing.
@Suite struct FolderEncoderTests {
    /// The MiniLM folder tools/setup fetches, and a CLI in a fresh work folder (the caller
    /// removes it).
    static func miniLMAndCLI() throws -> (String, CLI) {
        let miniLM = ModelLocator.huggingFaceFolder("all-MiniLM-L6-v2")
        try #require(FileManager.default.fileExists(atPath: miniLM), "no MiniLM folder at \(miniLM): run tools/setup")
        return (miniLM, try CLI())
    }

    @Test func aModelFolderIsAnEncoderBesideTheBuiltInOne() throws {
        let (miniLM, cli) = try Self.miniLMAndCLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "40", "--test", "10").status == 0)
        let added = try cli.run("encoders", "add", "minilm", miniLM)
        #expect(added.status == 0 && added.out.contains("added encoder minilm: bert, 384 dimensions, mean pooling, normalized, max 256 tokens"), "\(added.out)\(added.err)")
        let again = try cli.run("encoders", "add", "minilm", miniLM)
        #expect(again.status == 0 && again.out.contains("nothing changed"))
        let other = try cli.run("encoders", "add", "minilm", miniLM, "--length-policy", "truncate")
        #expect(other.status != 0 && other.err.contains("already has an encoder named 'minilm'"), "\(other.err)")

        let embedded = try cli.run("embed", "--encoder", "minilm")
        #expect(embedded.status == 0 && embedded.out.contains("under hf-bert:"), "\(embedded.err)")
        #expect(try cli.run("embed").status == 0, "the built-in encoder too")
        let listed = try cli.run("encoders")
        let covered = listed.out.split(separator: "\n").filter { $0.contains("of ") }
        #expect(covered.count == 2 && covered.allSatisfy { line in
            let parts = line.split(separator: " ").map(String.init)
            guard let of = parts.firstIndex(of: "of") else { return false }
            return parts[of - 1] == parts[of + 1]
        }, "every text has both encoders' vectors: \(listed.out)")

        let trained = try cli.run("train", "--encoder", "minilm", "--cv-folds", "2", "--trees", "20")
        #expect(trained.status == 0, "\(trained.err)")
        let predicted = try cli.run("predict", "--out", "s.csv")
        #expect(predicted.status == 0, "\(predicted.err)")
        let encoderOfCheckpoint = try cli.run("sql", "--format", "csv", "SELECT e.name FROM checkpoint c JOIN encoder e ON e.id = c.encoder_id")
        #expect(encoderOfCheckpoint.out == "name\nminilm\n", "\(encoderOfCheckpoint.out)")

        // A folder whose files change after it was added: its vectors would differ.
        let copy = cli.workdir.appendingPathComponent("copy")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: miniLM), to: copy)
        #expect(try cli.run("encoders", "add", "copy", copy.path, "--prefix", "passage").status == 0)
        let config = copy.appendingPathComponent("sentence_bert_config.json")
        try Data(#"{"max_seq_length": 128, "do_lower_case": false}"#.utf8).write(to: config)
        let before = try cli.run("sql", "--format", "csv", "SELECT COUNT(*) FROM text_embedding").out
        let changed = try cli.run("embed", "--encoder", "copy")
        #expect(changed.status != 0 && changed.err.contains("changed since `fitstore encoders add`"), "\(changed.err)")
        #expect(try cli.run("sql", "--format", "csv", "SELECT COUNT(*) FROM text_embedding").out == before)
        let broken = try cli.run("encoders", "add", "nothing", cli.workdir.appendingPathComponent("no-such-folder").path)
        #expect(broken.status != 0 && broken.err.contains("no-such-folder: is not a folder"), "\(broken.err)")
    }

    /// `--precision int8` (issue #27): int8 vectors under keys of their own, beside the
    /// float32 ones, for the built-in model and for a folder added in int8; a float32 folder
    /// asked for int8 is refused, not silently run in float32.
    @Test func int8VectorsAreAnotherEncodersAndNeverMix() throws {
        let (miniLM, cli) = try Self.miniLMAndCLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "30", "--test", "8").status == 0)
        #expect(try cli.run("embed").status == 0)
        let int8 = try cli.run("embed", "--precision", "int8")
        #expect(int8.status == 0 && int8.out.contains(":int8"), "\(int8.out)\(int8.err)")
        let keys = try cli.run("sql", "--format", "csv", "SELECT key LIKE '%:int8', name IS NULL, json_extract(config, '$.precision') FROM encoder WHERE source = 'builtin' ORDER BY id")
        #expect(keys.out == "key LIKE '%:int8',name IS NULL,\"json_extract(config, '$.precision')\"\n0,0,\n1,1,int8\n", "\(keys.out)")
        let counts = try cli.run("sql", "--format", "csv", "SELECT COUNT(DISTINCT encoder_id), COUNT(*) % 2 FROM text_embedding")
        #expect(counts.out.hasSuffix("\n2,0\n"), "both encoders cover every text: \(counts.out)")
        let trained = try cli.run("train", "--precision", "int8", "--cv-folds", "0", "--trees", "10")
        #expect(trained.status == 0, "\(trained.err)")
        let onInt8 = try cli.run("sql", "--format", "csv", "SELECT e.key LIKE '%:int8' FROM checkpoint c JOIN encoder e ON e.id = c.encoder_id")
        #expect(onInt8.out == "e.key LIKE '%:int8'\n1\n", "\(onInt8.out)")

        #expect(try cli.run("encoders", "add", "minilm", miniLM).status == 0)
        let added = try cli.run("encoders", "add", "minilm8", miniLM, "--precision", "int8")
        #expect(added.status == 0 && added.out.contains("int8"), "\(added.out)\(added.err)")
        let refused = try cli.run("embed", "--encoder", "minilm", "--precision", "int8")
        #expect(refused.status != 0 && refused.err.contains("makes float32 vectors, not --precision int8"), "\(refused.err)")
        let embedded = try cli.run("embed", "--encoder", "minilm8")
        #expect(embedded.status == 0 && embedded.out.contains(":int8"), "\(embedded.out)\(embedded.err)")
        let folderKey = try cli.run("sql", "--format", "csv", "SELECT key LIKE '%:int8', json_extract(config, '$.precision') FROM encoder WHERE name = 'minilm8'")
        #expect(folderKey.out.hasSuffix("\n1,int8\n"), "\(folderKey.out)")
    }

    @Test func severalEncodersConcatenateAndTheCheckpointRemembersThem() throws {
        let (miniLM, cli) = try Self.miniLMAndCLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "40", "--test", "10").status == 0)
        #expect(try cli.run("encoders", "add", "minilm", miniLM).status == 0)
        let embedded = try cli.run("embed", "--encoder", "minilm,e5-small")
        #expect(embedded.status == 0 && embedded.out.contains("under hf-bert:") && embedded.out.contains("under e5-small"), "\(embedded.out)\(embedded.err)")

        let trained = try cli.run("train", "--encoder", "minilm,e5-small", "--cv-folds", "2", "--trees", "20")
        #expect(trained.status == 0, "\(trained.err)")
        let listed = try cli.run("sql", "--format", "csv", """
            SELECT group_concat(e.name, '+') AS encoders, json_extract(c.config, '$.features.promptDims') AS prompt
              FROM checkpoint c JOIN checkpoint_encoder ce ON ce.checkpoint_id = c.id JOIN encoder e ON e.id = ce.encoder_id
             GROUP BY c.id ORDER BY c.id, ce.position
            """)
        #expect(listed.out == "encoders,prompt\nminilm+e5-small,768\n", "384 + 384 columns of prompt vector: \(listed.out)\(listed.err)")

        // predict --encoder picks the checkpoint trained on exactly those encoders.
        let none = try cli.run("predict", "--encoder", "minilm", "--out", "m.csv")
        #expect(none.status != 0 && none.err.contains("no checkpoint trained on the vectors of hf-bert:"), "\(none.err)")
        let both = try cli.run("predict", "--encoder", "minilm,e5-small", "--out", "b.csv")
        #expect(both.status == 0 && both.out.contains("of checkpoint 1"), "\(both.out)\(both.err)")
        // The same encoders in the other order make other columns: said, not "no checkpoint".
        let reversed = try cli.run("predict", "--encoder", "e5-small,minilm", "--out", "r.csv")
        #expect(reversed.status != 0 && reversed.err.contains("concatenated in another order") && reversed.err.contains("give --encoder in the order"),
                "\(reversed.err)")

        let exported = try cli.run("export", "--encoder", "minilm,e5-small", "--out", "x")
        #expect(exported.status == 0, "\(exported.err)")
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: cli.workdir.appendingPathComponent("x/manifest.json"))) as? [String: Any]
        #expect((manifest?["encoders"] as? [String])?.count == 2)

        // gc keeps an encoder a checkpoint uses, even when named, and says why.
        let gc = try cli.run("gc", "--remove", "minilm")
        #expect(gc.status == 0 && gc.out.contains("kept encoder minilm: checkpoint 1 uses it"), "\(gc.out)\(gc.err)")

        // One test text loses its MiniLM vector: predict names the encoder and the sample.
        let store = try Store(path: cli.workdir.appendingPathComponent("fitstore.sqlite").path)
        try store.write { db in
            try db.execute(sql: """
                DELETE FROM text_embedding WHERE encoder_id = (SELECT id FROM encoder WHERE name = 'minilm')
                   AND text_id = (SELECT response_text_id FROM sample WHERE split = 'test' ORDER BY id LIMIT 1)
                """)
        }
        let missing = try cli.run("predict", "--encoder", "minilm,e5-small", "--out", "c.csv")
        #expect(missing.status != 0 && missing.err.contains("no vector under encoder 'minilm'") && missing.err.contains("first: sample"),
                "\(missing.err)")
        #expect(!FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("c.csv").path))
    }
}

/// The experiment loop: `score` against held-out labels, `checkpoints` to list and compare.
@Suite struct ScoreCommandTests {
    /// --bag-folds: cv prints the nested comparison, on keeps the bag, `checkpoints` marks it;
    /// bad values are refused before anything runs.
    @Test func bagFoldsIsPrintedAndListed() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "40", "--test", "10").status == 0)
        #expect(try cli.run("embed").status == 0)
        let nested = try cli.run("train", "--cv-folds", "2", "--trees", "20", "--bag-folds", "cv")
        #expect(nested.status == 0 && nested.out.contains("bag of fold models: nested CV RMSE"), "\(nested.out)\(nested.err)")
        let bagged = try cli.run("train", "--cv-folds", "2", "--trees", "20", "--bag-folds", "on")
        #expect(bagged.status == 0 && bagged.out.contains("the model is the bag of the CV fold models"), "\(bagged.out)")
        let stopped = try cli.run("train", "--cv-folds", "2", "--trees", "200", "--early-stopping", "5")
        #expect(stopped.status == 0 && stopped.out.contains("early stopping: the CV folds kept"), "\(stopped.out)")
        #expect(try cli.run("checkpoints").out.contains("boosted (bag)"))
        #expect(try cli.run("train", "--bag-folds", "maybe").status != 0)
        #expect(try cli.run("train", "--early-stopping", "-1").status != 0)
    }

    @Test func scoreComparesPredictionsWithLabelsAndCheckpointsListsThem() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "40", "--test", "10").status == 0)
        #expect(try cli.run("embed").status == 0)
        #expect(try cli.run("train", "--cv-folds", "2", "--trees", "20").status == 0)
        #expect(try cli.run("train", "--cv-folds", "2", "--trees", "30").status == 0)
        func write(_ name: String, _ text: String) throws -> String {
            let url = cli.workdir.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            return url.path
        }
        // Labels for 8 of the 10 test records, in another column order, with a group file.
        let labels = (1...8).map { "x,\(Double($0 % 11)),\($0)" }.joined(separator: "\n")
        let labelsPath = try write("labels.csv", "note,score,ID\n" + labels + "\n")
        let metaPath = try write("meta.csv", "ID,language,metric_name\n" + (1...10).map { "\($0),\($0 % 2 == 0 ? "en" : "hi"),m" }.joined(separator: "\n"))
        let scored = try cli.run("score", labelsPath, "--meta", metaPath)
        #expect(scored.status == 0, "\(scored.err)")
        // score uses the chosen checkpoint (the data set's first, here) unless told otherwise.
        #expect(scored.out.contains("checkpoint 1 on 8 labelled test rows") && scored.out.contains("2 test rows have no label")
                && scored.out.contains("predictions computed now") && scored.out.contains("language"), "\(scored.out)")

        // The printed RMSE is the RMSE of the stored predictions against the labels.
        let predictions = try cli.run("sql", "--format", "csv", """
            SELECT s.position + 1 AS id, p.score FROM prediction p JOIN sample s ON s.id = p.sample_id
             WHERE p.checkpoint_id = 1 ORDER BY s.position
            """).out.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0) ?? .nan } }
        #expect(predictions.count == 10)
        let squared = predictions.filter { $0[0] <= 8 }.map { row in pow(row[1] - Double(Int(row[0]) % 11), 2) }
        let rmse = (squared.reduce(0, +) / Double(squared.count)).squareRoot()
        #expect(scored.out.contains(String(format: "RMSE %.4f", rmse)), "expected RMSE \(rmse): \(scored.out)")
        let stored = try cli.run("sql", "--format", "csv", "SELECT checkpoint_id, rows, rmse FROM checkpoint_score").out
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0) ?? .nan } }
        #expect(stored.count == 1 && stored[0][0] == 1 && stored[0][1] == 8 && abs(stored[0][2] - rmse) < 1e-4, "\(stored)")

        let listed = try cli.run("checkpoints", "--wide")
        let lines = listed.out.split(separator: "\n")
        #expect(listed.status == 0 && lines.count == 5, "header, rule, two checkpoints, the chosen one: \(listed.out)")
        #expect(lines[2].contains("(8 rows)") == true && lines[3].contains("(8 rows)") == false && lines[2].contains("chosen"), "\(listed.out)")
        let compared = try cli.run("checkpoints", "--compare", "1", "2")
        #expect(compared.status == 0 && compared.out.contains("boosting.trees") && compared.out.contains("training rows: the same"), "\(compared.out)")
        // A checkpoint whose config cannot be read is listed as damaged, named; the others still show.
        let store = try Store(path: cli.workdir.appendingPathComponent("fitstore.sqlite").path)
        let config = try store.read { try String.fetchOne($0, sql: "SELECT config FROM checkpoint WHERE id = 1") }
        try store.write { try $0.execute(sql: "UPDATE checkpoint SET config = '{\"model\": 3}' WHERE id = 1") }
        let damaged = try cli.run("checkpoints")
        #expect(damaged.status == 0 && damaged.out.contains("boosted (damaged)") && damaged.out.contains("damaged: checkpoint 1 is damaged: its config cannot be read")
                && damaged.out.split(separator: "\n").count == 6, "\(damaged.out)")
        try store.write { try $0.execute(sql: "UPDATE checkpoint SET config = ? WHERE id = 1", arguments: [config]) }

        // Bad labels: refused with file, line and field; nothing stored.
        for (name, text, words) in [
            ("unknown.csv", "ID,score\n1,5\n99,3\n", "line 3: ID 99 is not a test record"),
            ("duplicate.csv", "ID,score\n1,5\n2,3\n1,4\n", "line 4: ID 1 again (first on line 2)"),
            ("columns.csv", "ID,value\n1,5\n", "must name an ID and a score column"),
            ("text.csv", "ID,score\n1,five\n", "line 2: field score: 'five' is not a number"),
            ("ragged.csv", "ID,score\n1,5,7\n", "line 2: has 3 fields where the header has 2"),
        ] {
            let bad = try cli.run("score", try write(name, text), "--meta", "none", "--checkpoint", "2")
            #expect(bad.status != 0 && bad.err.contains(name) && bad.err.contains(words), "\(name): \(bad.err)")
        }
        #expect(try cli.run("sql", "--format", "csv", "SELECT COUNT(*) AS n FROM checkpoint_score").out == "n\n1\n")
        #expect(try cli.run("sql", "--format", "csv", "SELECT COUNT(*) AS n FROM prediction WHERE checkpoint_id = 2").out == "n\n0\n")
    }

    @Test func blendWeighsCheckpointsByTheirOutOfFoldPredictions() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "40", "--test", "10").status == 0)
        #expect(try cli.run("embed").status == 0)
        #expect(try cli.run("train", "--cv-folds", "3", "--trees", "20").status == 0)
        #expect(try cli.run("train", "--cv-folds", "3", "--trees", "60", "--extras", "off").status == 0)
        #expect(try cli.run("train", "--cv-folds", "0", "--trees", "20").status == 0)
        let oof = try cli.run("sql", "--format", "csv", "SELECT checkpoint_id, COUNT(*) AS n FROM cv_prediction GROUP BY 1 ORDER BY 1")
        #expect(oof.out == "checkpoint_id,n\n1,40\n2,40\n", "every real train row once per CV'd checkpoint: \(oof.out)")

        let blended = try cli.run("blend", "1", "2")
        #expect(blended.status == 0 && blended.out.contains("blend: checkpoint 4") && blended.out.contains("3-fold CV of the blend"), "\(blended.out)\(blended.err)")
        #expect(try cli.run("blend", "1", "2").out.contains("the same blend exists: checkpoint 4"))
        // blend does not change the chosen checkpoint: its predictions are asked for by id.
        #expect(try cli.run("predict", "--checkpoint", "4", "--out", "b.csv").status == 0)
        // The blend's test predictions are its members' weighted sum.
        let rows = try cli.run("sql", "--format", "csv", """
            SELECT p.sample_id, p.checkpoint_id, p.score FROM prediction p ORDER BY 1, 2
            """).out
        let weights = try cli.run("sql", "--format", "csv", "SELECT member_id, weight FROM blend_member WHERE blend_id = 4 ORDER BY position").out
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0) ?? .nan } }
        #expect(weights.count == 2 && weights.allSatisfy { $0[1] >= 0 })
        #expect(rows.split(separator: "\n").count == 1 + 10, "only the blend's predictions are stored by predict: \(rows)")
        for member in ["1", "2"] { #expect(try cli.run("predict", "--checkpoint", member, "--out", "m\(member).csv").status == 0) }
        var byCheckpoint: [Int: [Double]] = [:]
        for line in try cli.run("sql", "--format", "csv", "SELECT checkpoint_id, score FROM prediction ORDER BY checkpoint_id, sample_id").out
            .split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",").map { Double($0) ?? .nan }
            byCheckpoint[Int(f[0]), default: []].append(f[1])
        }
        let (a, b, blend) = (byCheckpoint[1] ?? [], byCheckpoint[2] ?? [], byCheckpoint[4] ?? [])
        #expect(a.count == 10 && b.count == 10 && blend.count == 10)
        for i in blend.indices where i < a.count && i < b.count {
            let expected = min(10, max(0, weights[0][1] * a[i] + weights[1][1] * b[i]))
            #expect(abs(blend[i] - expected) < 1e-4, "row \(i): \(blend[i]) vs \(expected)")
        }
        #expect(try cli.run("checkpoints").out.contains("blend"))

        // Refusals: one checkpoint twice, an unknown one, one without out-of-fold predictions.
        let same = try cli.run("blend", "1", "1")
        #expect(same.status != 0 && same.err.contains("at least two different checkpoints"), "\(same.err)")
        let unknown = try cli.run("blend", "1", "99")
        #expect(unknown.status != 0 && unknown.err.contains("99"), "\(unknown.err)")
        let noCV = try cli.run("blend", "1", "3")
        #expect(noCV.status != 0 && noCV.err.contains("checkpoint 3 kept no out-of-fold predictions"), "\(noCV.err)")
    }

    @Test func predictOnAFileOfRecordsOutsideTheStore() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "40", "--test", "10").status == 0)
        #expect(try cli.run("embed").status == 0)
        #expect(try cli.run("train", "--cv-folds", "2", "--trees", "20").status == 0)
        #expect(try cli.run("predict", "--out", "stored.csv").status == 0)
        let testFile = cli.workdir.appendingPathComponent("fitstore-demo/test_data.json").path
        let counts = "SELECT (SELECT COUNT(*) FROM text) AS texts, (SELECT COUNT(*) FROM run) AS runs, (SELECT COUNT(*) FROM text_embedding) AS vectors"
        let before = try cli.run("sql", "--format", "csv", counts).out

        // One test text loses its stored vector: the file's records are embedded here instead,
        // and come out with the same bytes (a text's vector depends on the text alone).
        let store = try Store(path: cli.workdir.appendingPathComponent("fitstore.sqlite").path)
        try store.write { db in
            try db.execute(sql: "DELETE FROM text_embedding WHERE text_id = (SELECT response_text_id FROM sample WHERE split = 'test' ORDER BY id LIMIT 1)")
        }
        let fromFile = try cli.run("predict", "--input", testFile, "--out", "input.csv")
        #expect(fromFile.status == 0 && fromFile.out.contains("the store is unchanged"), "\(fromFile.out)\(fromFile.err)")
        let stored = try String(contentsOf: cli.workdir.appendingPathComponent("stored.csv"), encoding: .utf8)
        let computed = try String(contentsOf: cli.workdir.appendingPathComponent("input.csv"), encoding: .utf8)
        #expect(computed == stored, "the file's records get the same scores as the same records in the store")
        let after = try cli.run("sql", "--format", "csv", counts).out
        #expect(after.split(separator: "\n").last.map { $0.split(separator: ",").prefix(2) } == before.split(separator: "\n").last.map { $0.split(separator: ",").prefix(2) },
                "no text and no run added: \(before) -> \(after)")

        // A metric the data set does not have is refused with the file, record and field.
        let bad = cli.workdir.appendingPathComponent("bad.json")
        try Data(#"[{"metric_name": "no/such_metric", "user_prompt": "Hi", "response": "Hello"}]"#.utf8).write(to: bad)
        let refused = try cli.run("predict", "--input", bad.path, "--out", "bad.csv")
        #expect(refused.status != 0 && refused.err.contains("bad.json") && refused.err.contains("metric_name") && refused.err.contains("no/such_metric"),
                "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("bad.csv").path))
    }

    @Test func tuneSearchesByCrossValidationAndResumes() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "40", "--test", "10").status == 0)
        #expect(try cli.run("embed").status == 0)
        // The chosen checkpoint tune starts from: the data set's first.
        #expect(try cli.run("train", "--cv-folds", "2", "--trees", "20").status == 0)
        let tuned = try cli.run("tune", "--trials", "3", "--budget", "1h")
        #expect(tuned.status == 0, "\(tuned.err)")
        let trialLines = tuned.out.split(separator: "\n").filter { $0.contains("  trial ") }
        #expect(trialLines.count == 3 && tuned.out.contains("stopped by 3 trials") && tuned.out.contains("started from the chosen checkpoint 1"),
                "\(tuned.out)")
        // Each trial is judged against the chosen checkpoint on the same folds; the chosen one
        // stays unless --promote, and every trial's comparison is recorded.
        #expect(trialLines.allSatisfy { $0.contains("mean per-fold gain") }, "\(tuned.out)")
        #expect(try cli.run("sql", "--format", "csv", "SELECT COUNT(*) AS n FROM comparison WHERE kind = 'tune'").out == "n\n3\n")
        #expect(try cli.run("sql", "--format", "csv", "SELECT checkpoint_id FROM chosen_checkpoint ORDER BY id DESC LIMIT 1").out == "checkpoint_id\n1\n")
        // Run again (as after a kill): the same trials, found again, and no comparison twice.
        let again = try cli.run("tune", "--trials", "3", "--budget", "1h")
        #expect(again.out.components(separatedBy: "(trained before: reused)").count - 1 == 3, "\(again.out)")
        #expect(try cli.run("sql", "--format", "csv", "SELECT COUNT(*) AS n FROM checkpoint").out == "n\n4\n")
        #expect(try cli.run("sql", "--format", "csv", "SELECT COUNT(*) AS n FROM comparison WHERE kind = 'tune'").out == "n\n3\n")
        let bad = try cli.run("tune", "--budget", "ten")
        #expect(bad.status != 0 && bad.err.contains("--budget"), "\(bad.err)")
    }

    @Test func theSystemPromptIsAFeatureBlockThatCVCanChoose() throws {
        let cli = try CLI()
        defer { try? FileManager.default.removeItem(at: cli.workdir) }
        #expect(try cli.run("demo", "--train", "40", "--test", "10").status == 0)
        #expect(try cli.run("embed").status == 0)
        let on = try cli.run("train", "--cv-folds", "2", "--trees", "20", "--system-prompt", "on")
        #expect(on.status == 0 && on.out.contains("features: 1542 columns"), "384 x 4 + 6 extras: \(on.out)\(on.err)")
        let layout = try cli.run("sql", "--format", "csv", """
            SELECT json_extract(config, '$.features.systemDims') AS s, json_extract(config, '$.features.extras[5]') AS e FROM checkpoint
            """)
        #expect(layout.out == "s,e\n384,cos_system_response\n", "\(layout.out)")
        #expect(try cli.run("predict", "--out", "s.csv").status == 0)
        let exported = try cli.run("export", "--system-prompt", "--out", "x")
        let manifest = try String(contentsOf: cli.workdir.appendingPathComponent("x/manifest.json"), encoding: .utf8)
        #expect(exported.status == 0 && manifest.contains("\"system\""), "\(exported.err)")

        let cv = try cli.run("train", "--cv-folds", "2", "--trees", "20", "--system-prompt", "cv")
        #expect(cv.status == 0 && cv.out.contains("system prompt block: CV RMSE"), "\(cv.out)\(cv.err)")
        // Both variants stay; the comparison names the winner, whose columns train reports.
        let chosen = cv.out.contains(": kept") ? "1542" : "1157"
        #expect(cv.out.contains("features: \(chosen) columns"), "\(cv.out)")
        let comparison = try cli.run("sql", "--format", "csv", "SELECT kind, kept_position FROM comparison ORDER BY id DESC LIMIT 1")
        #expect(comparison.out == "kind,kept_position\nsystem_prompt,\(chosen == "1542" ? 1 : 0)\n", "\(comparison.out)")
        let bad = try cli.run("train", "--system-prompt", "maybe")
        #expect(bad.status != 0 && bad.err.contains("--system-prompt"))

        // With the nested bag too, the variants are compared without it and only the winner
        // pays for it: one checkpoint more, the winner's; a rerun trains nothing.
        func count() throws -> String { try cli.run("sql", "--format", "csv", "SELECT COUNT(*) AS n FROM checkpoint").out }
        let before = try count()
        let bagged = try cli.run("train", "--cv-folds", "2", "--trees", "20", "--system-prompt", "cv", "--bag-folds", "cv")
        #expect(bagged.status == 0 && bagged.out.contains("system prompt block: CV RMSE") && bagged.out.contains("bag of fold models: nested CV"),
                "\(bagged.out)\(bagged.err)")
        #expect(bagged.out.contains(cv.out.contains(": kept") ? ": kept" : ": left out"), "the same choice as without the bag: \(bagged.out)")
        let after = try count()
        #expect(Int(after.dropFirst(2).dropLast()) == Int(before.dropFirst(2).dropLast()).map { $0 + 1 }, "\(before) -> \(after)")
        let again = try cli.run("train", "--cv-folds", "2", "--trees", "20", "--system-prompt", "cv", "--bag-folds", "cv")
        let afterRerun = try count()
        #expect(again.status == 0 && again.out.contains("reusing checkpoint") && afterRerun == after, "\(again.out)")

        // Interaction blocks: response x metric and |prompt - response|, 384 columns each.
        let interactions = try cli.run("train", "--cv-folds", "2", "--trees", "20", "--interactions")
        #expect(interactions.status == 0 && interactions.out.contains("features: 1925 columns"), "\(interactions.out)\(interactions.err)")
        #expect(try cli.run("predict", "--out", "i.csv").status == 0)
    }
}
