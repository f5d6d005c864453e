@testable import FitPipeline
import FitFormats
@testable import FitStore
import Foundation
import GRDB
import Testing

/// Well-formed but wrong vector blobs in a store (the wrong dimension, NaN, infinity, huge
/// values) through every command that reads vectors: export, train, predict, relations
/// suggest, report, augment. Each refuses with the table and row named, or (for harmless
/// values such as subnormals) goes on; none crashes, and no run is left 'running'.
@Suite(.serialized) struct DamagedVectorTests {
    /// A demo store with 8-dimensional vectors imported for every text (no model needed)
    /// and a trained checkpoint.
    static func store(_ fx: Fixture) throws -> (Store, key: String) {
        let store = try fx.demoStore(train: 30, test: 6)
        var options = TrainModel.Options(dataset: "demo", encoderKey: try fx.importVectors(store))
        options.cvFolds = 0
        options.boosting.trees = 10
        _ = try TrainModel(store: store).run(options)
        return (store, "imported:v")
    }

    @Test func everyReaderRefusesDamagedVectorsByName() throws {
        let fx = try Fixture()
        let (store, key) = try Self.store(fx)
        let (promptText, metricText) = try store.read { db in
            (try Int64.fetchOne(db, sql: "SELECT prompt_text_id FROM sample WHERE split = 'train' ORDER BY id LIMIT 1")!,
             // The metric vector comes from the definition when there is one.
             try Int64.fetchOne(db, sql: "SELECT COALESCE(definition_text_id, name_text_id) FROM metric ORDER BY id LIMIT 1")!)
        }
        var rng = SplitMix64(seed: 7)
        var cases: [(String, [Float], UInt8)] = []
        let zeros = [Float](repeating: 0, count: 6)
        cases.append(("wrong dimension", [Float](repeating: 0.1, count: 5), 1))
        cases.append(("NaN", [0.1, Float.nan] + zeros, 1))
        cases.append(("infinity", [0.1, Float.infinity] + zeros, 1))
        cases.append(("huge", [Float(3e38), Float(3e38)] + zeros, 1))
        cases.append(("float16 infinity", [0.1, 70_000] + zeros, 2))
        cases.append(("subnormal", [Float(1e-45), 0.2] + zeros, 1))
        let pool: [Float] = [.nan, 1e-44, 5, -0.3]
        for i in 0..<24 {
            let count = [8, 8, 7, 9][i % 4]
            let values = (0..<count).map { _ in pool[Int(rng.next() % 4)] }
            cases.append(("random \(i)", values, UInt8(1 + i % 2)))
        }
        for (name, values, dtype) in cases {
            for text in [promptText, metricText] {
                let blob = FuzzBlob.make(dtype: dtype, values: values)
                let original = try store.read { try Data.fetchOne($0, sql: "SELECT vector FROM text_embedding WHERE text_id = ?", arguments: [text])! }
                try store.write { try $0.execute(sql: "UPDATE text_embedding SET vector = ? WHERE text_id = ?", arguments: [blob, text]) }
                defer { try? store.write { try $0.execute(sql: "UPDATE text_embedding SET vector = ? WHERE text_id = ?", arguments: [original, text]) } }
                let harmless = values.count == 8 && values.allSatisfy(\.isFinite) && values.reduce(0, { $0 + $1 * $1 }).isFinite
                    && (dtype == 1 || values.allSatisfy { $0.magnitude <= 65_504 })
                // Which readers must meet this text's vector: features read prompts and metric
                // vectors; relations, report and augment read metric vectors only; predict
                // reads the test rows, which may not use this train prompt.
                let mustRead: Set<String> = text == promptText ? ["export", "train"]
                    : ["export", "train", "predict", "relations", "report", "augment"]
                func check(_ what: String, _ body: () throws -> Void) {
                    do {
                        try body()
                        #expect(harmless || !mustRead.contains(what), "\(name) (text \(text)): \(what) accepted a damaged vector")
                    } catch {
                        #expect(!harmless, "\(name): \(what) refused a harmless vector: \(error)")
                        #expect("\(error)".contains("is damaged") && "\(error)".contains("text \(text)"), "\(name): \(what): \(error)")
                    }
                }
                check("export") { _ = try Export(store: store).run(FeatureSelection(dataset: "demo", split: .all, encoderKey: key),
                                                                    to: fx.root.appendingPathComponent("x")) }
                check("train") {
                    var options = TrainModel.Options(dataset: "demo", encoderKey: key)
                    options.cvFolds = 0
                    options.boosting.trees = 3
                    options.boosting.seed = rng.next()
                    _ = try TrainModel(store: store).run(options)
                }
                check("predict") { _ = try Predict(store: store).run(dataset: "demo", checkpoint: 1, out: fx.root.appendingPathComponent("s.csv")) }
                check("relations") { _ = try RelationsSuggest(store: store).suggest(dataset: "demo", encoderKey: key) }
                check("report") { _ = try HTMLReport(store: store).write(dataset: "demo", to: fx.root.appendingPathComponent("r.html")) }
                check("augment") {
                    var options = Augment.Options(dataset: "demo")
                    options.stages = [.negative]
                    options.encoderKey = key
                    options.lowCount = 10
                    options.midCount = 0
                    options.seed = rng.next()
                    _ = try Augment(store: store).run(options)
                }
                let running = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM run WHERE status = 'running'") }
                #expect(running == 0, "\(name): a run was left running")
            }
        }
    }

    /// A checkpoint whose weights are damaged, or whose weights are not as many as its
    /// settings need, is "checkpoint N is damaged", not "invalid vector blob"; predict stores
    /// nothing and leaves no run running.
    @Test func aDamagedCheckpointIsNamed() throws {
        let fx = try Fixture()
        let (store, _) = try Self.store(fx)
        let original = try store.read { try Data.fetchOne($0, sql: "SELECT weights FROM checkpoint WHERE id = 1")! }
        for blob in [Data(original.prefix(original.count - 3)), FuzzBlob.make(dtype: 1, values: [1, 2, 3]),
                     FuzzBlob.make(dtype: 1, values: [.nan, 1, 2, 3])] {
            try store.write { try $0.execute(sql: "UPDATE checkpoint SET weights = ? WHERE id = 1", arguments: [blob]) }
            #expect(throws: (any Error).self) {
                do {
                    _ = try Predict(store: store).run(dataset: "demo", checkpoint: 1, out: fx.root.appendingPathComponent("s.csv"))
                } catch {
                    #expect("\(error)".hasPrefix("checkpoint 1 is damaged"), "\(error)")
                    throw error
                }
            }
        }
        let state = try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM prediction"), try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM run WHERE status = 'running'"))
        }
        #expect(state.0 == 0 && state.1 == 0)
    }
}

/// A vector blob with a correct checksum over whatever values it holds.
enum FuzzBlob {
    static func make(dtype: UInt8, values: [Float]) -> Data {
        var raw: [UInt8] = []
        for v in values {
            if dtype == 2 {
                withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { raw += $0 }
            } else {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { raw += $0 }
            }
        }
        var out = Data(VectorCodec.magic)
        out += [VectorCodec.formatVersion, dtype, 0, 0]
        withUnsafeBytes(of: UInt32(values.count).littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt32(raw.count).littleEndian) { out += $0 }
        withUnsafeBytes(of: CRC32.checksum(raw).littleEndian) { out += $0 }
        return out + raw
    }
}
