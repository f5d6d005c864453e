@testable import FitPipeline
import FitStore
import Foundation
import GRDB
import Testing

@Suite struct ViewTests {
    @Test func runSummaryAndCoverage() throws {
        let fx = try Fixture()
        try fx.writeComplete()
        _ = try Ingest(store: fx.openStore()).run(folder: fx.folder, options: .init(datasetName: "fx"))
        let store = try fx.openStore()
        let run = try store.read { try Row.fetchOne($0, sql: "SELECT * FROM run_summary") }!
        #expect(run["kind"] as String == "ingest" && run["status"] as String == "succeeded")
        #expect(run["samples_added"] as Int == 7 && run["metrics_added"] as Int == 4 && run["vectors_added"] as Int == 4)
        #expect((run["seconds"] as Double?) != nil)
        let coverage = try store.read { try Row.fetchAll($0, sql: "SELECT * FROM embedding_coverage") }
        #expect(coverage.count == 1)
        #expect(coverage[0]["needed"] as Int == 4 && coverage[0]["embedded"] as Int == 4 && coverage[0]["percent"] as Double == 100)
        let roles = try store.read { try String.fetchAll($0, sql: "SELECT DISTINCT role FROM text_in_use ORDER BY role") }
        #expect(roles == ["metric_definition", "metric_name", "prompt", "response", "system_prompt"])

        // A model encoder with one vector shows partial coverage per role.
        try store.write { db in
            try db.execute(sql: "INSERT INTO encoder (key, kind, dims, run_id) VALUES ('m', 'model', 3, 1)")
            let textID = try Int64.fetchOne(db, sql: "SELECT text_id FROM text_in_use WHERE role = 'prompt' LIMIT 1")!
            try db.execute(sql: "INSERT INTO text_embedding (text_id, encoder_id, vector, run_id) VALUES (?, 2, ?, 1)",
                           arguments: [textID, try VectorCodec.encode([1, 2, 3])])
        }
        let prompt = try store.read { try Row.fetchOne($0, sql: "SELECT * FROM embedding_coverage WHERE encoder = 'm' AND role = 'prompt'") }!
        #expect(prompt["embedded"] as Int == 1 && prompt["needed"] as Int == 5, "five distinct prompts, one shared by train and test")
    }

    @Test func sampleViewHidesRetiredRows() throws {
        let fx = try Fixture()
        try fx.writeComplete()
        _ = try Ingest(store: fx.openStore()).run(folder: fx.folder)
        try fx.write("train_data.json", "[" + Fixture.trainRecords[0] + "]")
        _ = try Ingest(store: fx.openStore()).run(folder: fx.folder)
        let store = try fx.openStore()
        let (view, all) = try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sample_view WHERE split = 'train'")!,
             try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sample WHERE split = 'train'")!)
        }
        #expect(view == 1 && all == 5)
    }
}
