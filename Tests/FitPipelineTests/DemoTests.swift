@testable import FitPipeline
import FitFormats
import FitStore
import Foundation
import Testing

@Suite struct DemoTests {
    @Test func demoIsDeterministicAndValid() throws {
        let fx = try Fixture()
        let a = fx.root.appendingPathComponent("a"), b = fx.root.appendingPathComponent("b")
        try DemoDataset(trainCount: 120, testCount: 40).write(to: a)
        try DemoDataset(trainCount: 120, testCount: 40).write(to: b)
        for file in ["metric_names.json", "train_data.json", "test_data.json", "test_labels.csv"] {
            #expect(try Data(contentsOf: a.appendingPathComponent(file)) == Data(contentsOf: b.appendingPathComponent(file)))
        }
        let report = try Ingest(store: fx.openStore()).run(folder: a)
        #expect(report.counts.trainAdded == 120 && report.counts.testAdded == 40)
        #expect(report.counts.definitionsChanged == DemoCorpus.metrics.count)
        // Several languages and a spread of scores, low ones included.
        let store = try fx.openStore()
        let scores = try store.read { try Double.fetchAll($0, sql: "SELECT score FROM sample WHERE split = 'train'") }
        #expect(scores.contains { $0 < 3 } && scores.contains { $0 > 9 })
        let labels = try String(contentsOf: a.appendingPathComponent("test_labels.csv"), encoding: .utf8)
        #expect(labels.split(separator: "\n").count == 41)
    }

    @Test func differentSeedsDiffer() throws {
        let fx = try Fixture()
        let a = fx.root.appendingPathComponent("a"), b = fx.root.appendingPathComponent("b")
        try DemoDataset(trainCount: 50, testCount: 10, seed: 1).write(to: a)
        try DemoDataset(trainCount: 50, testCount: 10, seed: 2).write(to: b)
        #expect(try Data(contentsOf: a.appendingPathComponent("train_data.json")) != Data(contentsOf: b.appendingPathComponent("train_data.json")))
    }
}
