@testable import FitPipeline
import FitFormats
import FitStore
import FitTestSupport
import Foundation
import GRDB
import Testing

/// `fitstore export` files, read back by numpy (tools/check_export.py), equal the store's rows.
@Suite(.serialized) struct ExportTests {
    @Test(.enabled(if: Reference.available(Python.numpy), "python3 with numpy is missing (tools/setup installs it with torch)"))
    func numpyReadsWhatTheStoreHolds() throws {
        let fx = try Fixture()
        let store = try fx.demoStore(train: 40, test: 9)
        let embed = try Embed(store: store).run(EmbedTests.options())
        let beforeAugment = try store.read { try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM run") }!
        try Fixture.addNegatives(store, encoderKey: embed.encoderKey, low: 30, mid: 10)

        let selection = FeatureSelection(dataset: "demo", split: .all, encoderKey: embed.encoderKey, generators: .all, extras: true)
        let out = fx.root.appendingPathComponent("export")
        // Batches of 7 rows: the streaming path crosses many batch boundaries.
        let report = try Export(store: store).run(selection, to: out, batchRows: 7)
        let expected = try store.read { try FeatureMatrix.load($0, selection) }
        let synthetic = try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sample WHERE origin = 'synthetic'") }!
        let n = 49 + synthetic
        #expect(synthetic > 0 && report.rows == n && expected.rows == n && report.columns == expected.width)

        let check = try Python.tool("check_export.py", [out.path])
        #expect(check.status == 0, "\(check.error)")
        let json = try JSONSerialization.jsonObject(with: Data(check.output.utf8)) as! [String: Any]
        #expect(json["X_shape"] as! [Int] == [n, expected.width] && json["X_dtype"] as! String == "float32")
        let bytes = expected.values.withUnsafeBytes { Array($0) }
        var hasher = SHA256(); hasher.update(bytes)
        #expect(json["X_sha256"] as! String == hasher.finalize().hexString, "X equals the store's features bit for bit")
        #expect((json["sample_id"] as! [Int]).map(Int64.init) == expected.sampleIDs)
        #expect((json["split"] as! [String]) == expected.splits)
        #expect((json["origin"] as! [String]) == expected.generators)
        let y = (json["y"] as! [Any]).map { $0 as? Double }
        #expect(y.map { $0.map(Float.init) } == expected.targets, "test rows are NaN, train rows their scores")
        #expect(json["safetensors_equal"] as! Bool)
        #expect(json["manifest_digest"] as! String == report.digest)

        // As of the run before augmentation: real rows only.
        var past = selection
        past.asOfRun = beforeAugment
        let old = try Export(store: store).run(past, to: fx.root.appendingPathComponent("old"))
        #expect(old.rows == 49)
    }

    @Test func aFailedExportLeavesNoFiles() throws {
        let fx = try Fixture()
        let store = try fx.demoStore(train: 10, test: 2)
        let out = fx.root.appendingPathComponent("export")
        #expect(throws: (any Error).self) {
            _ = try Export(store: store).run(FeatureSelection(dataset: "demo", split: .train, encoderKey: "none"), to: out)
        }
        // Nothing under the final name, and no temporary folder beside it.
        #expect(!FileManager.default.fileExists(atPath: out.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: fx.root.path).filter { $0.hasPrefix(".export.") }.isEmpty)
    }
}
