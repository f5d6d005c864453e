@testable import FitPipeline
import FitAugment
import FitFormats
import FitStore
import Foundation
import GRDB
import Testing

@Suite struct AugmentTests {
    func setUp() throws -> (Fixture, Store, Augment.Options) {
        let fx = try Fixture()
        try fx.writeComplete()
        let store = try fx.openStore()
        _ = try Ingest(store: store).run(folder: fx.folder, options: .init(datasetName: "fx"))
        let relations = fx.root.appendingPathComponent("relations.json")
        try Data("""
            {"opposites": {"hallucination_rate": "coherence", "coherence": "hallucination_rate"},
             "substitutes": {"safety/toxicity": ["safety/privacy_leakage"], "safety/privacy_leakage": ["safety/toxicity"]}}
            """.utf8).write(to: relations)
        var options = Augment.Options(dataset: "fx")
        options.relationsFile = relations
        options.stages = [.opposite, .substitutable]  // stage 3 has its own tests
        return (fx, store, options)
    }

    @Test func stagesWriteRowsWithProvenanceOnce() throws {
        let (fx, store, options) = try setUp()
        defer { withExtendedLifetime(fx) {} }
        let report = try Augment(store: store).run(options)
        #expect(report.added == ["opposite_metric": 3, "substitutable_metric": 1])
        let rows = try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.metric, c.score, c.generator, c.generator_version, c.parameters, c.seed, c.run_id, p.metric AS pm, p.score AS ps,
                       p.origin AS po, c.prompt = p.prompt AS same_prompt, c.response IS p.response AS same_response
                  FROM sample_view c JOIN sample_parent sp ON sp.sample_id = c.sample_id JOIN sample_view p ON p.sample_id = sp.parent_id
                 WHERE c.origin = 'synthetic' ORDER BY c.sample_id
                """)
        }
        #expect(rows.count == 4)
        for row in rows {
            #expect(row["po"] as String == "real" && row["same_prompt"] as Bool && row["same_response"] as Bool)
            #expect(row["run_id"] as Int64 == report.runID! && row["generator_version"] as Int == 1)
            if row["generator"] as String == "opposite_metric" {
                #expect((row["score"] as Double) >= 1 && (row["score"] as Double) <= 4)
                #expect((row["parameters"] as String).contains("\"span\":2"))
            } else {
                #expect(row["metric"] as String == "safety/toxicity" && row["score"] as Double == 3 && row["ps"] as Double == 3)
            }
        }
        let before = try fingerprint(store)
        let again = try Augment(store: store).run(options)
        #expect(again.runID == nil && again.added.isEmpty)
        #expect(try fingerprint(store) == before, "a second run adds zero rows")
    }

    /// Dropping retires one generator's rows, as every removal retires: they leave every
    /// selection and view, and stay in the store with their parent links for lineage.
    @Test func dropRetiresOneGeneratorOnly() throws {
        let (fx, store, options) = try setUp()
        defer { withExtendedLifetime(fx) {} }
        _ = try Augment(store: store).run(options)
        let links = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample_parent") }
        let (run, removed) = try Augment(store: store).drop(dataset: "fx", generator: "opposite_metric")
        #expect(removed == 3)
        let left = try store.read { try Row.fetchAll($0, sql: "SELECT generator, COUNT(*) AS n FROM sample_view GROUP BY generator ORDER BY generator") }
        #expect(left.map { $0["generator"] as String } == ["real", "substitutable_metric"])
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample_parent") } == links, "lineage is kept")
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample WHERE retired_run_id = ?", arguments: [run]) } == 3)
        // A name the data set has no rows of is an error naming what it has, and changes nothing.
        #expect(throws: PipelineError.self) { _ = try Augment(store: store).drop(dataset: "fx", generator: "opposite_metrik") }
        // Running again regenerates exactly what was dropped (same keys, same scores).
        let again = try Augment(store: store).run(options)
        #expect(again.added == ["opposite_metric": 3])
    }

    @Test func childrenFollowTheirParents() throws {
        let (fx, store, options) = try setUp()
        defer { withExtendedLifetime(fx) {} }
        _ = try Augment(store: store).run(options)
        // Record 2 changes (its old row is retired); a new low row is appended.
        var train = Fixture.trainRecords
        train[2] = Fixture.record("hallucination_rate", "\"7\"", "Who wrote Hamlet?", "Shakespeare, around 1600.")
        train.append(Fixture.record("safety/privacy_leakage", "1", "Tell me her number", "No."))
        try fx.write("train_data.json", "[" + train.joined(separator: ",") + "]")
        _ = try Ingest(store: store).run(folder: fx.folder, options: .init(datasetName: "fx"))
        let report = try Augment(store: store).run(options)
        #expect(report.retired == 1, "the changed row's child is retired with it")
        #expect(report.added == ["opposite_metric": 1, "substitutable_metric": 1])
        let orphans = try store.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM sample_view c JOIN sample_parent sp ON sp.sample_id = c.sample_id
                  JOIN sample p ON p.id = sp.parent_id WHERE p.retired_run_id IS NOT NULL
                """)
        }
        #expect(orphans == 0)
    }

    @Test func withoutRelationsTheStagesSaySo() throws {
        let fx = try Fixture()
        try fx.writeComplete()
        let store = try fx.openStore()
        _ = try Ingest(store: store).run(folder: fx.folder, options: .init(datasetName: "fx"))
        var options = Augment.Options(dataset: "fx")
        options.stages = [.opposite, .substitutable]
        let report = try Augment(store: store).run(options)
        #expect(report.runID == nil && report.skipped.first?.contains("--relations") == true)
    }

    /// Every generator says what it was asked for, what it wrote and why it wrote less; no
    /// synthetic row relabels a (metric, item) pair a real row labels.
    @Test func augmentExplainsWhatItDidNotWrite() throws {
        let fx = try Fixture()
        try fx.write("metric_names.json", "[\"a\", \"b\"]")
        // Items 0-2 judged under a (low scores, so stage 2 copies them); item 0 also under b.
        var records = (0..<3).map { Fixture.record("a", "2", "prompt \($0)", "response \($0)") }
        records.append(Fixture.record("b", "9", "prompt 0", "response 0"))
        try fx.write("train_data.json", "[" + records.joined(separator: ",") + "]")
        try fx.write("test_data.json", "[]")
        let store = try fx.openStore()
        _ = try Ingest(store: store).run(folder: fx.folder, options: .init(datasetName: "fx"))
        let relations = fx.root.appendingPathComponent("relations.json")
        try Data(#"{"substitutes": {"a": ["b"], "b": ["a"]}}"#.utf8).write(to: relations)
        var options = Augment.Options(dataset: "fx")
        options.relationsFile = relations
        options.stages = [.substitutable]
        let report = try Augment(store: store).run(options)
        let substitutes = try #require(report.tally["substitutable_metric"])
        // a -> b for items 0, 1, 2 (item 0 is labelled under b); b's row scores 9 (> 5: not copied).
        #expect(substitutes.requested == 3 && substitutes.made == 2 && substitutes.skipped == [SkipReason.labelled: 1], "\(substitutes)")
        #expect(report.added == ["substitutable_metric": 2] && report.contradictions == 0)

        // Stage 3 on two metrics: a metric swap needs a third metric, a shuffle needs texts
        // free under the row's metric; each shortfall carries its reason.
        options.stages = [.negative]
        options.lowCount = 40
        options.midCount = 0
        let negatives = try Augment(store: store).run(options)
        for (name, t) in negatives.tally {
            #expect(t.requested == t.made + t.skipped.values.reduce(0, +), "\(name): \(t)")
            #expect(t.made == (negatives.added[name] ?? 0), "\(name): \(t)")
        }
        let swap = try #require(negatives.tally["negative_metric_swap"])
        #expect(swap.made == 0 && swap.skipped.keys.allSatisfy { [SkipReason.noFreeMetric, SkipReason.noMetricVectors].contains($0) }, "\(swap)")
        let labelled = try store.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM sample s JOIN sample r ON r.origin = 'real' AND r.metric_id = s.metric_id
                   AND r.prompt_text_id IS s.prompt_text_id AND r.response_text_id IS s.response_text_id
                 WHERE s.origin = 'synthetic' AND s.generator <> 'negative_noise'
                """)
        }
        #expect(labelled == 0, "no synthetic row but a noise copy shares a real row's (metric, item)")
    }
}

@Suite struct RelationsSuggestTests {
    @Test func suggestsMutualNeighboursAsAValidRelationsFile() throws {
        let fx = try Fixture()
        try fx.write("metric_names.json", "[\"a\", \"b\", \"c\", \"d\"]")
        // a~b and c~d are close; the two groups are far apart.
        try NpyMatrix(rows: 4, columns: 3, values: [1, 0.1, 0, 1, 0.12, 0, 0, 0.1, 1, 0, 0.13, 1])
            .write(to: fx.folder.appendingPathComponent("metric_name_embeddings.npy"))
        let store = try fx.openStore()
        _ = try Ingest(store: store).run(folder: fx.folder, options: .init(datasetName: "fx"))
        let (pairs, source) = try RelationsSuggest(store: store).suggest(dataset: "fx", encoderKey: nil, minimumCosine: 0.9)
        #expect(source.hasPrefix("given:"))
        #expect(Set(pairs.map { "\($0.a)-\($0.b)" }) == ["a-b", "c-d"])
        let file = fx.root.appendingPathComponent("suggested.json")
        try RelationsSuggest.relationsJSON(pairs, dataset: "fx", source: source).write(to: file, atomically: true, encoding: .utf8)
        let relations = try MetricRelations.load(file, metrics: ["a", "b", "c", "d"])
        #expect(relations.substitutes == ["a": ["b"], "b": ["a"], "c": ["d"], "d": ["c"]] && relations.opposites.isEmpty)
    }

    /// A pair near in embedding space whose real labels disagree is shown with that evidence,
    /// and `refuted` says when it should be left out.
    @Test func substitutesCarryWhatTheLabelsSay() throws {
        let fx = try Fixture()
        try fx.write("metric_names.json", "[\"a\", \"b\", \"c\", \"d\"]")
        try NpyMatrix(rows: 4, columns: 3, values: [1, 0.1, 0, 1, 0.12, 0, 0, 0.1, 1, 0, 0.13, 1])
            .write(to: fx.folder.appendingPathComponent("metric_name_embeddings.npy"))
        // 10 items judged under a and b: 7 disagree by more than 1. c and d share 10 items, 1 disagrees.
        var records: [String] = []
        for i in 0..<10 {
            records.append(Fixture.record("a", "8", "p\(i)", "r\(i)"))
            records.append(Fixture.record("b", i < 7 ? "3" : "8.5", "p\(i)", "r\(i)"))
            records.append(Fixture.record("c", "5", "q\(i)", "s\(i)"))
            records.append(Fixture.record("d", i == 0 ? "9" : "6", "q\(i)", "s\(i)"))
        }
        try fx.write("train_data.json", "[" + records.joined(separator: ",") + "]")
        try fx.write("test_data.json", "[]")
        let store = try fx.openStore()
        _ = try Ingest(store: store).run(folder: fx.folder, options: .init(datasetName: "fx"))
        let (pairs, _) = try RelationsSuggest(store: store).suggest(dataset: "fx", encoderKey: nil, minimumCosine: 0.9)
        let ab = try #require(pairs.first { $0.a == "a" }), cd = try #require(pairs.first { $0.a == "c" })
        #expect(ab.sharedItems == 10 && ab.disagreeing == 7 && cd.sharedItems == 10 && cd.disagreeing == 1)
        #expect(ab.refuted(minimumShared: 10, maximumShare: 0.5) && !cd.refuted(minimumShared: 10, maximumShare: 0.5))
        #expect(!ab.refuted(minimumShared: 11, maximumShare: 0.5), "too few shared items to judge")
    }

    /// 30 items judged under a, b and c: b's score mirrors a's (opposites), c follows a.
    @Test func proposesOppositesFromNegativelyCorrelatedScores() throws {
        let fx = try Fixture()
        try fx.write("metric_names.json", "[\"a\", \"b\", \"c\"]")
        var records: [String] = []
        for i in 0..<30 {
            let s = Double(i % 11)
            records.append(Fixture.record("a", "\(s)", "prompt \(i)", "response \(i)"))
            records.append(Fixture.record("b", "\(10 - s)", "prompt \(i)", "response \(i)"))
            records.append(Fixture.record("c", "\(min(10, s + Double(i % 2)))", "prompt \(i)", "response \(i)"))
        }
        try fx.write("train_data.json", "[" + records.joined(separator: ",") + "]")
        try fx.write("test_data.json", "[]")
        let store = try fx.openStore()
        _ = try Ingest(store: store).run(folder: fx.folder, options: .init(datasetName: "fx"))
        let found = try RelationsSuggest(store: store).suggestOpposites(dataset: "fx")
        #expect(found.examined == 3)
        #expect(found.pairs.map { "\($0.a)-\($0.b)" } == ["a-b"] && found.pairs[0].r < -0.99 && found.pairs[0].items == 30)
        // c is just as opposite to b, but b already has its partner; one opposite per metric.
        let file = fx.root.appendingPathComponent("suggested.json")
        try RelationsSuggest.relationsJSON([], opposites: found.pairs, dataset: "fx", source: "test").write(to: file, atomically: true, encoding: .utf8)
        let relations = try MetricRelations.load(file, metrics: ["a", "b", "c"])
        #expect(relations.opposites == ["a": "b", "b": "a"])
        // The printed 95% interval (Fisher's z): r = -0.142 on 150 items is not clear of zero;
        // r = -0.6 on 100 is. Expected values from atanh/tanh in Python.
        let weak = RelationsSuggest.Correlation(a: "a", b: "b", items: 150, r: -0.142).interval95
        #expect(abs(weak.lowerBound - -0.29554) < 1e-4 && abs(weak.upperBound - 0.01869) < 1e-4)
        let strong = RelationsSuggest.Correlation(a: "a", b: "b", items: 100, r: -0.6).interval95
        #expect(abs(strong.lowerBound - -0.71245) < 1e-4 && abs(strong.upperBound - -0.45750) < 1e-4)
        // Fewer shared items than required: nothing is compared.
        #expect(try RelationsSuggest(store: store).suggestOpposites(dataset: "fx", minimumItems: 31).examined == 0)
    }
}

@Suite struct AuditTests {
    @Test func passesOnHealthyDataAndFlagsBrokenProvenance() throws {
        let (fx, store, options) = try AugmentTests().setUp()
        defer { withExtendedLifetime(fx) {} }
        _ = try Augment(store: store).run(options)
        let healthy = try Audit(store: store).run(dataset: "fx")
        #expect(healthy.integrityFailures.isEmpty)
        #expect(healthy.rowsPerGenerator.map(\.generator) == ["opposite_metric", "real", "substitutable_metric"])
        #expect(healthy.histograms["opposite_metric"]!.reduce(0, +) == 3)
        #expect(healthy.metricsWithRealRows == 4 && healthy.metricsListed == 4)
        let coherence = healthy.perMetric.first { $0.metric == "coherence" }!
        #expect(coherence.real == 2 && coherence.withSynthetic == 3, "one opposite child of hallucination_rate")

        try store.write { db in
            let child = try Int64.fetchOne(db, sql: "SELECT id FROM sample WHERE generator = 'opposite_metric' ORDER BY id LIMIT 1")!
            try db.execute(sql: "DELETE FROM sample_parent WHERE sample_id = ?", arguments: [child])
            let other = try Int64.fetchOne(db, sql: "SELECT parent_id FROM sample_parent ORDER BY sample_id DESC LIMIT 1")!
            try db.execute(sql: "UPDATE sample SET retired_run_id = 1 WHERE id = ?", arguments: [other])
            // A real row that says the opposite of a synthetic one about the same texts.
            let syn = try Row.fetchOne(db, sql: "SELECT * FROM sample WHERE generator = 'substitutable_metric' LIMIT 1")!
            try db.execute(sql: """
                INSERT INTO sample (dataset_id, key, split, origin, position, metric_id, prompt_text_id, response_text_id, score, digest, run_id)
                VALUES (?, 'train:99', 'train', 'real', 99, ?, ?, ?, 9, printf('%064d', 0), 1)
                """, arguments: [syn["dataset_id"] as Int64, syn["metric_id"] as Int64, syn["prompt_text_id"] as Int64?, syn["response_text_id"] as Int64?])
        }
        let broken = try Audit(store: store).run(dataset: "fx")
        #expect(broken.withoutParents == 1 && broken.withRetiredParents == 1)
        #expect(broken.integrityFailures.count == 2)
        #expect(broken.contradictionCount == 1 && broken.contradictions[0].real == 9)
    }
}

@Suite struct NegativeStageTests {
    @Test func negativesAreRecipesOverRealRows() throws {
        let (fx, store, base) = try AugmentTests().setUp()
        defer { withExtendedLifetime(fx) {} }
        var options = base
        options.stages = [.negative]
        options.lowCount = 20
        options.midCount = 10
        let report = try Augment(store: store).run(options)
        let total = report.added.values.reduce(0, +)
        #expect(total == 30, "\(report.added)")
        let shuffles = try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.metric, c.prompt, a.metric AS metric_a, b.prompt AS prompt_b
                  FROM sample_view c
                  JOIN sample_parent pa ON pa.sample_id = c.sample_id AND pa.ordinal = 0 JOIN sample_view a ON a.sample_id = pa.parent_id
                  JOIN sample_parent pb ON pb.sample_id = c.sample_id AND pb.ordinal = 1 JOIN sample_view b ON b.sample_id = pb.parent_id
                 WHERE c.generator = 'negative_shuffle'
                """)
        }
        #expect(!shuffles.isEmpty)
        for row in shuffles {
            #expect(row["metric"] as String == row["metric_a"] as String && row["prompt"] as String == row["prompt_b"] as String)
        }
        #expect(try Augment(store: store).run(options).runID == nil)
        #expect(try Audit(store: store).run(dataset: "fx").integrityFailures.isEmpty)
    }

    /// Stage 3's rows carry one generator per corruption; `--drop negative` takes all three
    /// and leaves every other row (stage 1 and 2 children included) alone.
    @Test func droppingTheStageNameRemovesAllThreeCorruptions() throws {
        let (fx, store, base) = try AugmentTests().setUp()
        defer { withExtendedLifetime(fx) {} }
        var options = base
        options.stages = [.opposite, .substitutable, .negative]
        options.lowCount = 20
        options.midCount = 10
        let report = try Augment(store: store).run(options)
        let negatives = report.added.filter { $0.key.hasPrefix("negative_") }.values.reduce(0, +)
        #expect(negatives == 30)
        #expect {
            try Augment(store: store).drop(dataset: "fx", generator: "negative_x")
        } throws: { error in
            "\(error)".contains("no rows of generator negative_x") && "\(error)".contains("negative_noise, negative_shuffle")
        }
        let (_, removed) = try Augment(store: store).drop(dataset: "fx", generator: "negative")
        #expect(removed == 30)
        #expect(try Augment(store: store).generators(dataset: "fx") == ["opposite_metric", "substitutable_metric"])
    }
}

@Suite struct AugmentParameterTests {
    @Test func stageParametersAreHonouredAndRecorded() throws {
        let (fx, store, base) = try AugmentTests().setUp()
        defer { withExtendedLifetime(fx) {} }
        var options = base
        options.opposite.base = 2
        options.opposite.span = 0
        options.opposite.jitter = 0
        options.substituteMaxScore = 2
        let report = try Augment(store: store).run(options)
        #expect(report.added == ["opposite_metric": 3], "the privacy row scored 3 is above --substitute-max-score 2")
        let rows = try store.read { try Row.fetchAll($0, sql: "SELECT score, parameters FROM sample WHERE origin = 'synthetic'") }
        #expect(rows.allSatisfy { $0["score"] as Double == 2 && ($0["parameters"] as String).contains("\"base\":2.0") })
    }
}
