import FitAugment
import Foundation
import Testing

@Suite struct RelationsAndGeneratorTests {
    static func write(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("relations-\(UUID()).json")
        try Data(text.utf8).write(to: url)
        return url
    }

    @Test func shippedDA5401RelationsAreValidAndApplyOnlyToTheirMetrics() throws {
        let relations = try #require(try MetricRelations.shipped("relations-da5401"))
        #expect(relations.opposites.count == 70 && relations.substitutes.count == 66)
        #expect(relations.opposites["hallucination_rate"] == "truthfulness")
        #expect(relations.opposites["privacy_leakage"] == "data_confidentiality")
        #expect(relations.substitutes["toxicity_level/explicit_toxicity"]?.contains("toxicity_level/implicit_or_subtle_toxicity") == true)
        #expect(try MetricRelations.builtIn(for: relations.names.union(["extra"]))?.source == "builtin:relations-da5401.json")
        #expect(try MetricRelations.builtIn(for: ["translation/adequacy"]) == nil)
    }

    @Test(arguments: [
        (#"{"opposites": {"a": "b"}}"#, "must be symmetric"),
        (#"{"opposites": {"a": "a"}}"#, "its own opposite"),
        (#"{"opposites": {"a": "zz", "zz": "a"}}"#, "unknown metric 'zz'"),
        (#"{"substitutes": {"a": ["b"]}}"#, "must be symmetric"),
        (#"{"substitutes": {"a": ["a"]}}"#, "cannot substitute itself"),
        (#"{"opposites": {"a": "b", "b": "a"}, "substitutes": {"a": ["b"], "b": ["a"]}}"#, "both opposites and substitutes"),
        (#"{"opposites": ["a", "b"]}"#, "'opposites' must be an object"),
        (#"{"substitutes": {"a": "b"}}"#, "expected a list"),
    ])
    func validationNamesTheProblem(text: String, message: String) throws {
        let url = try Self.write(text)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect {
            try MetricRelations.load(url, metrics: ["a", "b", "c"])
        } throws: { error in
            "\(error)".contains(message) && "\(error)".hasPrefix(url.path)
        }
    }

    static let relations = MetricRelations(opposites: ["hall": "truth", "truth": "hall"],
                                           substitutes: ["tox/a": ["tox/b", "tox/c"], "tox/b": ["tox/a", "tox/c"], "tox/c": ["tox/a", "tox/b"]],
                                           source: "test")
    static let parents = [
        ParentSample(id: 1, metric: "hall", score: 10), ParentSample(id: 2, metric: "truth", score: 0),
        ParentSample(id: 3, metric: "tox/a", score: 2), ParentSample(id: 4, metric: "tox/b", score: 9),
        ParentSample(id: 5, metric: "other", score: 1),
    ]

    @Test func oppositeStageGivesLowScoresDeterministically() {
        let specs = OppositeMetricAugmenter(seed: 7).generate(Self.parents, relations: Self.relations)
        #expect(specs.map(\.metric) == ["truth", "hall"] && specs.map(\.parents) == [[1], [2]])
        #expect(specs[0].score >= 1 && specs[0].score <= 2, "a 10 maps into [1, 2]")
        #expect(specs[1].score >= 3 && specs[1].score <= 4, "a 0 maps into [3, 4]")
        #expect(OppositeMetricAugmenter(seed: 7).generate(Self.parents, relations: Self.relations) == specs)
        #expect(OppositeMetricAugmenter(seed: 8).generate(Self.parents, relations: Self.relations).map(\.key) != specs.map(\.key))
        // A row's child does not depend on which other rows exist.
        #expect(OppositeMetricAugmenter(seed: 7).generate([Self.parents[0]], relations: Self.relations) == [specs[0]])
        #expect(Set(specs.map(\.key)).count == 2 && specs.allSatisfy { $0.key.hasPrefix("syn:") })
    }

    @Test func substitutableStageCopiesLowRowsOnly() {
        let specs = SubstitutableMetricAugmenter().generate(Self.parents, relations: Self.relations)
        #expect(specs.map(\.metric) == ["tox/b", "tox/c"], "only the row scored <= 5 is expanded, to every substitute")
        #expect(specs.allSatisfy { $0.score == 2 && $0.parents == [3] })
    }
}
