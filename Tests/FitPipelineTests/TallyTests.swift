@testable import FitPipeline
import FitStore
import Foundation
import GRDB
import Testing

/// The counts the triggers keep (`sample_tally`, `text_use`) equal what counting the rows
/// gives, through every way rows change: ingest, a changed file that retires rows,
/// augmentation, children retired with their parents, a drop, a metric definition change.
@Suite struct TallyTests {
    /// Fails the test, naming the difference, when the kept counts and the counted ones differ.
    static func expectTalliesMatch(_ store: Store, _ step: String) throws {
        try store.read { db in
            let kept = try Row.fetchAll(db, sql: """
                SELECT dataset_id, metric_id, split, origin, samples, scored, ROUND(score_sum, 6) AS sum FROM sample_tally
                 WHERE samples <> 0 OR scored <> 0 ORDER BY 1, 2, 3, 4
                """).map { "\($0)" }
            let counted = try Row.fetchAll(db, sql: """
                SELECT dataset_id, metric_id, split, origin, COUNT(*) AS samples, COUNT(score) AS scored, ROUND(COALESCE(SUM(score), 0), 6) AS sum FROM sample
                 WHERE retired_run_id IS NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                """).map { "\($0)" }
            #expect(kept == counted, "\(step): sample_tally differs from the rows")
            let inUse = try Int64.fetchAll(db, sql: "SELECT text_id FROM text_use WHERE uses > 0 ORDER BY text_id")
            let viewed = try Int64.fetchAll(db, sql: "SELECT DISTINCT text_id FROM text_in_use ORDER BY text_id")
            #expect(inUse == viewed, "\(step): text_use disagrees with text_in_use")
            let uses = try Int.fetchOne(db, sql: "SELECT SUM(uses) FROM text_use") ?? 0
            let references = try Int.fetchOne(db, sql: """
                SELECT (SELECT COUNT(prompt_text_id) + COUNT(response_text_id) + COUNT(system_text_id) FROM sample WHERE retired_run_id IS NULL)
                     + (SELECT COUNT(name_text_id) + COUNT(definition_text_id) FROM metric)
                """) ?? 0
            #expect(uses == references, "\(step): text_use sums to \(uses), the rows refer to texts \(references) times")
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM text_use WHERE uses < 0") == 0)
        }
    }

    @Test func keptCountsEqualCountedRowsThroughEveryChange() throws {
        let (fx, store, options) = try AugmentTests().setUp()
        defer { withExtendedLifetime(fx) {} }
        try Self.expectTalliesMatch(store, "ingest")
        _ = try Augment(store: store).run(options)
        try Self.expectTalliesMatch(store, "augment")
        // Record 2 changes and one is appended: the old row retires, its children with it.
        var train = Fixture.trainRecords
        train[2] = Fixture.record("hallucination_rate", "4", "Who wrote Hamlet?", "Christopher Marlowe.")
        train.append(Fixture.record("coherence", "1", "Who wrote Hamlet?", "Who wrote Hamlet?"))  // prompt = response
        try fx.write("train_data.json", "[" + train.joined(separator: ",") + "]")
        try fx.write("metric_definitions.json", "{\"coherence\": \"Who wrote Hamlet?\"}")  // a definition that is also a prompt
        _ = try Ingest(store: store).run(folder: fx.folder, options: .init(datasetName: "fx"))
        try Self.expectTalliesMatch(store, "re-ingest")
        _ = try Augment(store: store).run(options)
        try Self.expectTalliesMatch(store, "augment after re-ingest")
        _ = try Augment(store: store).drop(dataset: "fx", generator: "opposite_metric")
        try Self.expectTalliesMatch(store, "drop")
        let stats = try store.read { try StoreStats.load($0) }
        #expect(stats.splits.contains { $0.origin == "synthetic" && $0.samples > 0 })
    }
}
