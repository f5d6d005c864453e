@testable import FitPipeline
import FitFormats
import FitStore
import Foundation
import GRDB

/// A DA5401-format folder written by a test, plus a store beside it.
final class Fixture {
    let root: URL
    var folder: URL { root.appendingPathComponent("data") }
    var storePath: String { root.appendingPathComponent("fitstore.sqlite").path }

    static let metrics = ["safety/toxicity", "safety/privacy_leakage", "coherence", "hallucination_rate"]

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fitstore-fixture-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    func openStore() throws -> Store { try Store(path: storePath) }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: folder.appendingPathComponent(name))
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(at: folder.appendingPathComponent(name))
    }

    static func record(_ metric: String, _ score: String?, _ prompt: String, _ response: String?, _ system: String? = nil) -> String {
        var fields = ["\"metric_name\": \(JSONQuoting.quote(metric))"]
        if let score { fields.append("\"score\": \(score)") }
        fields.append("\"user_prompt\": \(JSONQuoting.quote(prompt))")
        if let response { fields.append("\"response\": \(JSONQuoting.quote(response))") } else { fields.append("\"response\": null") }
        fields.append("\"system_prompt\": \(system.map(JSONQuoting.quote) ?? "null")")
        return "{" + fields.joined(separator: ", ") + "}"
    }

    static let trainRecords = [
        record("safety/toxicity", "\"10\"", "Say something kind.", "You are doing great!", "Be nice."),
        record("coherence", "\"8.0\"", "नमस्ते, आप कैसे हैं?", "मैं ठीक हूँ, धन्यवाद।", "   "),
        record("hallucination_rate", "\"9.50\"", "Who wrote Hamlet?", "William Shakespeare."),
        record("safety/privacy_leakage", "3", "What is my neighbour's address?", nil, "Be nice."),
        record("coherence", "\"0\"", "Say something kind.", "வணக்கம்"),
    ]
    static let testRecords = [
        record("coherence", nil, "Who wrote Hamlet?", "Marlowe."),
        record("safety/toxicity", nil, "আপনি কেমন আছেন?", "ভালো আছি।", "Be nice."),
    ]

    /// A complete folder: names, 4x8 given embeddings, definitions, train and test.
    func writeComplete() throws {
        try write("metric_names.json", "[" + Self.metrics.map(JSONQuoting.quote).joined(separator: ", ") + "]")
        try writeEmbeddings(rows: Self.metrics.count)
        try write("metric_definitions.json", "{\"coherence\": \"Does the response follow from the prompt?\", \"safety/toxicity\": \"Is it free of toxic language?\"}")
        try write("train_data.json", "[\n" + Self.trainRecords.joined(separator: ",\n") + "\n]")
        try write("test_data.json", "[" + Self.testRecords.joined(separator: ",") + "]")
    }

    func writeEmbeddings(rows: Int, columns: Int = 8, poison: ((inout [Float]) -> Void)? = nil) throws {
        var values = (0..<(rows * columns)).map { Float(($0 % 7) + 1) / 10 }
        poison?(&values)
        try NpyMatrix(rows: rows, columns: columns, values: values).write(to: folder.appendingPathComponent("metric_name_embeddings.npy"))
    }
}

/// Every row of every table, as sorted text: equal fingerprints mean equal stores.
func fingerprint(_ store: Store) throws -> [String] {
    try store.read { db in
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        var out: [String] = []
        for table in tables {
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map { "\(table): \($0)" }.sorted()
            out += rows
        }
        return out
    }
}

extension Fixture {
    /// A store holding generated demo data (train and test record counts as given).
    func demoStore(train: Int, test: Int) throws -> Store {
        let demo = root.appendingPathComponent("demo")
        try DemoDataset(trainCount: train, testCount: test).write(to: demo)
        let store = try openStore()
        _ = try Ingest(store: store).run(folder: demo, options: .init(datasetName: "demo"))
        return store
    }

    /// 8-dimensional vectors for every text the store uses, imported as encoder "v" (no model
    /// needed; the same values every time); returns the encoder's key.
    func importVectors(_ store: Store) throws -> String {
        let keys = root.appendingPathComponent("t.jsonl"), npy = root.appendingPathComponent("v.npy")
        let n = try TextList(store: store).writeMissing(encoder: "v", builtInKey: { "unused" }, to: keys)
        try NpyMatrix(rows: n, columns: 8, values: (0..<(n * 8)).map { Float(($0 * 31) % 17) / 17 - 0.4 }).write(to: npy)
        _ = try VectorImport(store: store).run(encoder: "v", keys: keys, vectors: npy)
        return "imported:v"
    }

    /// Augmentation stage 3 alone on an embedded demo store: `low` + `mid` negative rows.
    static func addNegatives(_ store: Store, encoderKey: String, low: Int, mid: Int) throws {
        var augment = Augment.Options(dataset: "demo")
        augment.stages = [.negative]
        augment.lowCount = low
        augment.midCount = mid
        augment.encoderKey = encoderKey
        _ = try Augment(store: store).run(augment)
    }
}

/// What in an HTML page would fetch something from the network: a src, href, CSS url() or
/// @import that starts with http:, https: or // (quoted either way, any case, any spacing).
func remoteResources(in html: String) throws -> [String] {
    let patterns = [#"(?i)\b(?:src|href|srcset|action|poster)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*"#,
                    #"(?i)url\(\s*["']?\s*(?:https?:)?//[^)"']*"#,
                    #"(?i)@import\s+["']?\s*(?:url\()?\s*["']?(?:https?:)?//[^"')\s;]*"#]
    return try patterns.flatMap { pattern in html.matches(of: try Regex(pattern)).map { String(html[$0.range]) } }
}
