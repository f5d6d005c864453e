@testable import FitPipeline
import FitFormats
import FitStore
import Foundation
import GRDB
import Testing

@Suite struct IngestTests {
    func ingest(_ fixture: Fixture, name: String = "fx") throws -> IngestReport {
        try Ingest(store: fixture.openStore()).run(folder: fixture.folder, options: .init(datasetName: name))
    }

    @Test func ingestsACompleteFolder() throws {
        let fx = try Fixture()
        try fx.writeComplete()
        let report = try ingest(fx)
        let c = report.counts
        #expect(report.runID == 1)
        #expect(c.metricsAdded == 4 && c.metricVectorsAdded == 4 && c.definitionsChanged == 2)
        #expect(c.trainAdded == 5 && c.testAdded == 2)
        #expect(c.responsesMissing == 1)
        #expect(c.systemPromptsMissing == 4, "null, missing and whitespace-only system prompts")
        #expect(report.warnings.contains { $0.contains("no response") })

        let store = try fx.openStore()
        let rows = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT split, test_id, metric, prompt, response, system_prompt, score, origin, generator, record FROM sample_view ORDER BY sample_id")
        }
        #expect(rows.count == 7)
        #expect(rows[0]["score"] as Double == 10 && rows[0]["system_prompt"] as String == "Be nice.")
        #expect(rows[1]["score"] as Double == 8 && rows[1]["system_prompt"] as String? == nil)
        #expect(rows[2]["score"] as Double == 9.5)
        #expect(rows[3]["response"] as String? == nil && rows[3]["score"] as Double == 3)
        #expect(rows[5]["split"] as String == "test" && rows[5]["test_id"] as Int == 1 && rows[5]["score"] as Double? == nil)
        #expect(rows[6]["test_id"] as Int == 2)
        #expect(rows.allSatisfy { $0["origin"] as String == "real" && $0["generator"] as String == "real" })

        // Texts are shared: "Say something kind." and "Be nice." appear twice but are stored once.
        let texts = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM text WHERE body IN ('Say something kind.', 'Be nice.')") }
        #expect(texts == 2)
        let metric = try store.read { try Row.fetchOne($0, sql: "SELECT major, minor FROM metric WHERE name = 'safety/toxicity'") }!
        #expect(metric["major"] as String == "safety" && metric["minor"] as String == "toxicity")
        let plain = try store.read { try Row.fetchOne($0, sql: "SELECT major, minor FROM metric WHERE name = 'coherence'") }!
        #expect(plain["major"] as String == "coherence" && plain["minor"] as String? == nil)
        let dims = try store.read { try Int.fetchAll($0, sql: "SELECT vec_dims(vector) FROM metric_embedding") }
        #expect(dims == [8, 8, 8, 8])
    }

    @Test func reingestAddsNothing() throws {
        let fx = try Fixture()
        try fx.writeComplete()
        _ = try ingest(fx)
        let before = try fingerprint(fx.openStore())
        let again = try ingest(fx)
        #expect(again.runID == nil)
        #expect(try fingerprint(fx.openStore()) == before)
    }

    @Test func changedFileAddsOnlyWhatChanged() throws {
        let fx = try Fixture()
        try fx.writeComplete()
        _ = try ingest(fx)
        var train = Fixture.trainRecords
        train[2] = Fixture.record("hallucination_rate", "\"4\"", "Who wrote Hamlet?", "Christopher Marlowe.")  // changed
        train.removeLast()                                                                                     // removed
        train.append(Fixture.record("coherence", "7", "New prompt", "New response"))                             // added at 4
        train.append(Fixture.record("coherence", "6", "Another prompt", "Another response"))                     // added at 5
        try fx.write("train_data.json", "[" + train.joined(separator: ",") + "]")
        let report = try ingest(fx)
        let c = report.counts
        #expect(report.runID == 2)
        #expect(c.trainUnchanged == 3 && c.trainChanged == 2 && c.trainAdded == 1 && c.trainRetired == 0)
        #expect(c.testUnchanged == 2 && c.testAdded == 0)
        #expect(c.metricsAdded == 0 && c.metricVectorsAdded == 0)
        let store = try fx.openStore()
        let active = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample_view WHERE split = 'train'") }
        #expect(active == 6)
        let retired = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample WHERE retired_run_id = 2") }
        #expect(retired == 2)
        // The run row records what changed.
        let counts = try store.read { try String.fetchOne($0, sql: "SELECT counts FROM run WHERE id = 2") }!
        #expect(counts.contains("\"train_changed\":2"))

        // Shrinking the file retires the rows past its end.
        try fx.write("train_data.json", "[" + train.prefix(2).joined(separator: ",") + "]")
        let shrink = try ingest(fx)
        #expect(shrink.counts.trainRetired == 4 && shrink.counts.trainUnchanged == 2)
    }

    @Test func metricFilesAloneIngestMetrics() throws {
        let fx = try Fixture()
        try fx.write("metric_names.json", "[\"a/b\", \"c\"]")
        let report = try ingest(fx)
        #expect(report.counts.metricsAdded == 2 && report.counts.trainAdded == 0)
    }

    /// Each case breaks one thing; the store must be left exactly as it was.
    static let rejections: [(name: String, message: String, breakIt: @Sendable (Fixture) throws -> Void)] = [
        ("bad JSON", "train_data.json: line 2", { try $0.write("train_data.json", "[\n{\"metric_name\": }]") }),
        ("not an array", "expected a JSON array", { try $0.write("train_data.json", "{\"a\": 1}") }),
        ("wrong type", "record 1 (0-based): field 'user_prompt': expected a string, got number", {
            try $0.write("train_data.json", "[" + Fixture.trainRecords[0] + ",{\"metric_name\": \"coherence\", \"score\": \"1\", \"user_prompt\": 5}]")
        }),
        ("unknown metric", "record 2 (0-based): field 'metric_name': unknown metric name 'nope'", {
            try $0.write("train_data.json", "[" + Fixture.trainRecords.prefix(2).joined(separator: ",") + "," + Fixture.record("nope", "1", "p", "r") + "]")
        }),
        ("score out of range", "record 0 (0-based): field 'score': 11.0 is outside [0, 10]", {
            try $0.write("train_data.json", "[" + Fixture.record("coherence", "\"11\"", "p", "r") + "]")
        }),
        ("score not a number", "record 0 (0-based): field 'score': \"ten\" is not a number", {
            try $0.write("train_data.json", "[" + Fixture.record("coherence", "\"ten\"", "p", "r") + "]")
        }),
        ("bad test record", "test_data.json: record 1 (0-based): field 'metric_name': missing", {
            try $0.write("test_data.json", "[" + Fixture.testRecords[0] + ", {\"user_prompt\": \"p\"}]")
        }),
        ("duplicate metric names", "record 2 (0-based): duplicate metric name 'coherence' (first at record 1)", {
            try $0.write("metric_names.json", "[\"a\", \"coherence\", \"coherence\"]")
        }),
        ("embedding rows disagree", "holds 3 rows but metric_names.json lists 4 metrics", { try $0.writeEmbeddings(rows: 3) }),
        ("NaN vector", "record 2 (0-based): field 'coherence': non-finite value nan at column 1", {
            try $0.writeEmbeddings(rows: 4) { $0[17] = .nan }
        }),
        ("zero vector", "record 3 (0-based): field 'hallucination_rate': zero vector", {
            try $0.writeEmbeddings(rows: 4) { v in for i in 24..<32 { v[i] = 0 } }
        }),
        ("float64 embeddings", "dtype '<f8' is not supported", {
            var bytes = NpyMatrix(rows: 4, columns: 4, values: [Float](repeating: 1, count: 16)).encoded()
            let offset = (0..<bytes.count - 3).first { Array(bytes[$0..<$0 + 3]) == Array("<f4".utf8) }!
            bytes[offset + 2] = UInt8(ascii: "8")
            try Data(bytes).write(to: $0.folder.appendingPathComponent("metric_name_embeddings.npy"))
        }),
        ("unknown defined metric", "metric_definitions.json: record 0 (0-based): field 'ghost': unknown metric name", {
            try $0.write("metric_definitions.json", "{\"ghost\": \"boo\"}")
        }),
        ("missing metric names", "metric_names.json: missing", { try $0.remove("metric_names.json") }),
    ]

    @Test(arguments: 0..<rejections.count)
    func rejectionLeavesStoreUnchanged(case index: Int) throws {
        let (name, message, breakIt) = Self.rejections[index]
        let fx = try Fixture()
        try fx.writeComplete()
        _ = try ingest(fx)
        // Change good files too (definitions are read first, test last), so that a partial
        // ingest would leave a visible trace.
        try fx.write("metric_definitions.json", "{\"coherence\": \"A new definition.\"}")
        try fx.write("test_data.json", "[" + Fixture.testRecords.reversed().joined(separator: ",") + "]")
        let before = try fingerprint(fx.openStore())
        try breakIt(fx)
        #expect {
            _ = try ingest(fx)
        } throws: { error in
            let text = "\(error)"
            let ok = text.contains(message)
            if !ok { Issue.record("\(name): got «\(text)»") }
            return ok
        }
        #expect(try fingerprint(fx.openStore()) == before, "\(name): the store changed")
    }

    @Test func errorsNameTheFilePath() throws {
        let fx = try Fixture()
        try fx.writeComplete()
        try fx.write("train_data.json", "[" + Fixture.record("coherence", "\"x\"", "p", "r") + "]")
        #expect {
            _ = try ingest(fx)
        } throws: { error in
            "\(error)".hasPrefix(fx.folder.appendingPathComponent("train_data.json").standardizedFileURL.path)
        }
    }

    @Test func datasetsAreSeparate() throws {
        let fx = try Fixture()
        try fx.writeComplete()
        _ = try ingest(fx, name: "one")
        let second = try ingest(fx, name: "two")
        #expect(second.counts.trainAdded == 5)
        #expect(second.counts.textsAdded == 0, "texts are shared across data sets")
    }

    /// A re-ingest that would retire most of a split is refused (probably the wrong file),
    /// unless --replace says it is meant; --dry-run reports it and writes nothing.
    @Test func ingestWarnsBeforeItDestroys() throws {
        let fx = try Fixture()
        try fx.write("metric_names.json", "[" + Fixture.metrics.map(JSONQuoting.quote).joined(separator: ", ") + "]")
        let many = (0..<60).map { Fixture.record(Fixture.metrics[$0 % 4], "\($0 % 11)", "Prompt \($0)", "Response \($0)") }
        try fx.write("train_data.json", "[" + many.joined(separator: ",") + "]")
        _ = try ingest(fx)
        let before = try fingerprint(fx.openStore())
        try fx.write("train_data.json", "[" + many.prefix(5).joined(separator: ",") + "]")
        #expect {
            _ = try ingest(fx)
        } throws: { "\($0)".contains("would retire 55 of the 60 active train rows") && "\($0)".contains("--replace") }
        #expect(try fingerprint(fx.openStore()) == before, "a refused ingest changes nothing")
        let dry = try Ingest(store: fx.openStore()).run(folder: fx.folder, options: .init(datasetName: "fx", dryRun: true))
        #expect(dry.dryRun && dry.runID == nil && dry.counts.trainRetired == 55)
        #expect(try fingerprint(fx.openStore()) == before, "a dry run writes nothing")
        let replaced = try Ingest(store: fx.openStore()).run(folder: fx.folder, options: .init(datasetName: "fx", replace: true))
        #expect(replaced.counts.trainRetired == 55)
    }

    /// Records that repeat the metric, prompt and response of another with another score are
    /// reported; a folder with neither records file says so.
    @Test func ingestReportsConflictsAndMissingRecords() throws {
        let fx = try Fixture()
        try fx.write("metric_names.json", "[\"m\"]")
        let fx2 = try Fixture()
        try fx2.write("metric_names.json", "[\"m\"]")
        let alone = try Ingest(store: fx2.openStore()).run(folder: fx2.folder, options: .init(datasetName: "alone"))
        #expect(alone.warnings.contains { $0.contains("neither train_data.json nor test_data.json") })
        try fx.write("train_data.json", "[" + [Fixture.record("m", "9", "p", "r"), Fixture.record("m", "2", "p", "r"),
                                              Fixture.record("m", "9", "p", "r"), Fixture.record("m", "4", "p", "other")].joined(separator: ",") + "]")
        let report = try ingest(fx)
        // Records 0, 1 and 2 share (m, p, r) and not one score; record 3 has its own response.
        #expect(report.warnings.contains { $0.contains("3 records share a metric, prompt and response with a record of another score (first: records 0 and 1, 0-based)") },
                "\(report.warnings)")
    }
}
