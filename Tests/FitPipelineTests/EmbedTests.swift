@testable import FitPipeline
import FitEncoder
import FitFormats
import FitStore
import Foundation
import GRDB
import Testing

/// Incremental embedding into the store, with the real model that tools/setup installs.
@Suite(.serialized) struct EmbedTests {
    static func options(prefix: String = "query: ", limit: Int? = nil) throws -> Embed.Options {
        let path = ModelLocator.path()
        try #require(FileManager.default.fileExists(atPath: path), "no model at \(path): run tools/setup")
        return Embed.Options(modelPath: path, configuration: .init(prefix: prefix, threads: 2), batchTexts: 4, limit: limit)
    }

    func ingested() throws -> Fixture {
        let fx = try Fixture()
        try fx.writeComplete()
        _ = try Ingest(store: fx.openStore()).run(folder: fx.folder, options: .init(datasetName: "fx"))
        return fx
    }

    func counts(_ store: Store) throws -> (inUse: Int, vectors: Int, distinct: Int) {
        try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT text_id) FROM text_in_use")!,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM text_embedding")!,
             try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT text_id || ':' || encoder_id) FROM text_embedding")!)
        }
    }

    /// Progress moves within a committed batch, after each forward pass, by bytes of text,
    /// never backwards, and ends at the total.
    @Test func progressMovesWithinABatch() throws {
        let fx = try ingested()
        let store = try fx.openStore()
        var options = try Self.options()
        options.batchTexts = 1000          // one committed batch
        options.configuration.batchTokens = 16  // a forward pass per window or two
        let recorder = TrainingProgressTests.Recorder()
        let report = try Embed(store: store, progress: recorder).run(options)
        let done = recorder.steps.map(\.done)
        let total = try #require(recorder.steps.first?.total)
        // Short texts share a pass; before, one batch gave one step.
        #expect(report.embedded > 2 && done.count >= report.embedded / 2, "\(done.count) steps for \(report.embedded) texts in one batch: \(done)")
        #expect(zip(done, done.dropFirst()).allSatisfy { $0 <= $1 } && done.last == total, "\(done) of \(total)")
    }

    @Test func embedsEveryTextOnceAndThenNothing() throws {
        let fx = try ingested()
        let store = try fx.openStore()
        let report = try Embed(store: store).run(Self.options())
        let c = try counts(store)
        #expect(report.embedded == c.inUse && c.vectors == c.inUse)
        let before = try fingerprint(store)
        let again = try Embed(store: store).run(Self.options())
        #expect(again.runID == nil && again.embedded == 0)
        #expect(try fingerprint(store) == before, "a rerun with nothing new writes nothing")
        let norms = try store.read { try Double.fetchAll($0, sql: "SELECT vec_norm(vector) FROM text_embedding") }
        #expect(norms.allSatisfy { abs($0 - 1) < 1e-3 })
        let dims = try store.read { try Int.fetchAll($0, sql: "SELECT DISTINCT vec_dims(vector) FROM text_embedding") }
        #expect(dims == [384])
    }

    @Test func interruptedRunsResumeWithoutLossOrDuplicates() throws {
        let fx = try ingested()
        let store = try fx.openStore()
        let partial = try Embed(store: store).run(Self.options(limit: 6))
        #expect(partial.embedded == 6 && partial.remaining > 0)
        // A process killed mid-run leaves its run 'running' with some batches committed.
        try store.write { db in
            try db.execute(sql: "INSERT INTO run (kind, code_version, started_at, status) VALUES ('embed', 'x', '2026-01-01T00:00:00.000Z', 'running')")
        }
        let rest = try Embed(store: store).run(Self.options())
        #expect(rest.interruptedRunsMarked == 1)
        let c = try counts(store)
        #expect(c.vectors == c.inUse && c.distinct == c.vectors)
        #expect(rest.embedded == c.inUse - 6)
        let failed = try store.read { try String.fetchOne($0, sql: "SELECT message FROM run WHERE status = 'failed'") }
        #expect(failed?.contains("interrupted") == true)
    }

    @Test func newTextsOnlyAfterReingest() throws {
        let fx = try ingested()
        let store = try fx.openStore()
        _ = try Embed(store: store).run(Self.options())
        try fx.write("test_data.json", "[" + Fixture.testRecords[0] + "," + Fixture.record("coherence", nil, "A brand new prompt", "A brand new response") + "]")
        _ = try Ingest(store: fx.openStore()).run(folder: fx.folder, options: .init(datasetName: "fx"))
        let report = try Embed(store: store).run(Self.options())
        #expect(report.embedded == 2)
    }

    @Test func anotherPrefixIsAnotherEncoderAndGCRemovesTheOld() throws {
        let fx = try ingested()
        let store = try fx.openStore()
        let query = try Embed(store: store).run(Self.options(prefix: "query: "))
        let passage = try Embed(store: store).run(Self.options(prefix: "passage: "))
        #expect(query.encoderKey != passage.encoderKey && passage.embedded == query.embedded)
        let encoders = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM encoder WHERE kind = 'model'") }
        #expect(encoders == 2)
        let dry = try GarbageCollect(store: store).run(keeping: passage.encoderKey, dryRun: true)
        #expect(dry.encoders.count == 1 && dry.encoders[0].key == query.encoderKey && dry.runID == nil)
        _ = try GarbageCollect(store: store).run(keeping: passage.encoderKey, dryRun: false)
        let left = try store.read { try String.fetchAll($0, sql: "SELECT key FROM encoder WHERE kind = 'model'") }
        #expect(left == [passage.encoderKey])
        let given = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM metric_embedding") }
        #expect(given == 4, "given vectors are never collected")
    }

    /// Vectors keyed by the sha256 of their text, as stored.
    func blobs(_ store: Store) throws -> [Data: Data] {
        try store.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: """
                SELECT t.sha256, e.vector FROM text_embedding e JOIN text t ON t.id = e.text_id
                """).map { ($0[0] as Data, $0[1] as Data) })
        }
    }

    /// One store embedded all at once and another embedded in steps, new records arriving
    /// between the steps and the batches cut differently: every stored vector is the same
    /// blob, byte for byte.
    @Test func incrementalEmbeddingEqualsEmbeddingEverythingAtOnce() throws {
        let full = try ingested()
        var all = try Self.options()
        all.batchTexts = 1_000
        _ = try Embed(store: full.openStore()).run(all)

        let steps = try Fixture()
        try steps.write("metric_names.json", "[" + Fixture.metrics.map(JSONQuoting.quote).joined(separator: ", ") + "]")
        try steps.writeEmbeddings(rows: Fixture.metrics.count)
        try steps.write("train_data.json", "[" + Fixture.trainRecords.prefix(2).joined(separator: ",") + "]")
        _ = try Ingest(store: steps.openStore()).run(folder: steps.folder, options: .init(datasetName: "fx"))
        var small = try Self.options()
        small.batchTexts = 1
        small.configuration.threads = 1
        _ = try Embed(store: steps.openStore()).run(small)
        try steps.write("metric_definitions.json", "{\"coherence\": \"Does the response follow from the prompt?\", \"safety/toxicity\": \"Is it free of toxic language?\"}")
        try steps.write("train_data.json", "[\n" + Fixture.trainRecords.joined(separator: ",\n") + "\n]")
        _ = try Ingest(store: steps.openStore()).run(folder: steps.folder, options: .init(datasetName: "fx"))
        small.batchTexts = 3
        small.configuration.threads = 3
        small.configuration.batchTokens = 512
        _ = try Embed(store: steps.openStore()).run(small)
        try steps.write("test_data.json", "[" + Fixture.testRecords.joined(separator: ",") + "]")
        _ = try Ingest(store: steps.openStore()).run(folder: steps.folder, options: .init(datasetName: "fx"))
        _ = try Embed(store: steps.openStore()).run(try Self.options())

        let expected = try blobs(full.openStore()), got = try blobs(steps.openStore())
        #expect(expected.count == (try counts(full.openStore())).inUse)
        #expect(got.count == expected.count)
        for (text, blob) in expected {
            #expect(got[text] == blob, "the vector of text \(text.map { String(format: "%02x", $0) }.joined().prefix(12)) differs")
        }
    }
}
