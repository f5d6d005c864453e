@testable import FitEncoder
import FitFormats
import Foundation
import Testing

/// The int8 mode (`--precision int8`, issue #27): vectors within a cosine of 0.999 of the
/// float32 ones on the multilingual texts of the encoder tests, with the built-in model and
/// with a folder (MiniLM, whose activations have outlier columns that smoothing must tame);
/// the same bits whatever the batch and thread count; an identity of their own.
@Suite(.serialized) struct Int8EncoderTests {
    /// The issue's bound: int8 vectors at least this close to float32's, text by text.
    static let minimumCosine = 0.999

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var d = 0.0, na = 0.0, nb = 0.0
        for i in a.indices { d += Double(a[i]) * Double(b[i]); na += Double(a[i] * a[i]); nb += Double(b[i] * b[i]) }
        return d / (na * nb).squareRoot()
    }

    static func builtIn(_ precision: Precision, threads: Int = 2, batchTokens: Int = 8192) throws -> TextEmbedder? {
        let path = ModelLocator.path()
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("no model at \(path): run tools/setup")
            return nil
        }
        return try TextEmbedder(modelPath: path, configuration: .init(prefix: "query: ", lengthPolicy: .windowed(overlap: 64),
                                                                     batchTokens: batchTokens, threads: threads, precision: precision))
    }

    static func compare(_ float: TextEmbedder, _ int8: TextEmbedder, label: String) {
        let texts = BatchInvarianceTests.texts
        let a = float.embed(texts), b = int8.embed(texts)
        var worst = 1.0
        for i in texts.indices {
            let c = cosine(a[i], b[i])
            worst = min(worst, c)
            #expect(c >= minimumCosine, "\(label): text \(i): cosine \(c) of int8 to float32")
        }
        // Not the same numbers: the int8 products ran (a path that silently fell back to
        // float32 would give cosines of exactly 1).
        #expect(worst < 0.999_999_9, "\(label): int8 vectors equal float32's")
        print("\(label): \(texts.count) texts, worst cosine of int8 to float32 \(worst)")
    }

    @Test func builtInInt8VectorsAreCloseToFloat32AndKeyedApart() throws {
        guard let float = try Self.builtIn(.float32), let int8 = try Self.builtIn(.int8) else { return }
        Self.compare(float, int8, label: "e5-small")
        #expect(int8.identity == float.identity + ":int8")
        #expect(float.configuration.builtInName == TextEmbedder.builtInName && int8.configuration.builtInName == nil)
    }

    /// The randomized subsets, orders, batch sizes and thread counts of BatchInvarianceTests,
    /// in int8: the int8 product and rounding are row-local too.
    @Test func int8VectorsDependOnTheTextAlone() throws {
        guard let reference = try Self.builtIn(.int8) else { return }
        let texts = BatchInvarianceTests.texts
        let expected = reference.embed(texts).map(BatchInvarianceTests.bits)
        var random = SplitMix64(seed: 12)
        // Fewer trials than the float32 test (which covers the shared packing and batching):
        // what is new here is the int8 kernels' row-locality, which every trial checks.
        for trial in 0..<3 {
            let threads = 1 + Int(random.next() % 4)
            let batchTokens = [512, 700, 1024, 2048, 8192][Int(random.next() % 5)]
            var chosen = texts.indices.filter { _ in random.next() % 2 == 0 }
            if chosen.isEmpty { chosen = [0] }
            for i in stride(from: chosen.count - 1, to: 0, by: -1) { chosen.swapAt(i, Int(random.next() % UInt64(i + 1))) }
            guard let embedder = try Self.builtIn(.int8, threads: threads, batchTokens: batchTokens) else { return }
            let got = embedder.embed(chosen.map { texts[$0] })
            for (k, i) in chosen.enumerated() {
                #expect(BatchInvarianceTests.bits(got[k]) == expected[i],
                        "trial \(trial) (\(threads) threads, \(batchTokens)-token batches): text \(i) differs")
            }
        }
    }

    /// MiniLM in int8: calibrated smoothing keeps every text within the bound (plain per-block
    /// rounding did not: 0.9986 on some texts); loading twice gives the same bits (the
    /// calibration is seeded, its maxima merged in an order-free way).
    @Test func folderInt8VectorsAreCloseToFloat32AndReproducible() throws {
        let path = ModelLocator.huggingFaceFolder("all-MiniLM-L6-v2")
        try #require(FileManager.default.fileExists(atPath: path), "no MiniLM folder at \(path): run tools/setup")
        let folder = try HuggingFaceFolder(path: path)
        func embedder(_ precision: Precision, threads: Int) throws -> TextEmbedder {
            try TextEmbedder(folder: folder, configuration: .init(prefix: "", lengthPolicy: .truncate, threads: threads, precision: precision))
        }
        let float = try embedder(.float32, threads: 2), int8 = try embedder(.int8, threads: 2)
        Self.compare(float, int8, label: "all-MiniLM-L6-v2")
        #expect(int8.identity == float.identity + ":int8")
        let again = try embedder(.int8, threads: 1)
        let texts = Array(BatchInvarianceTests.texts.prefix(12))
        #expect(again.embed(texts).map(BatchInvarianceTests.bits) == int8.embed(texts).map(BatchInvarianceTests.bits),
                "a second load with another thread count calibrates to the same int8 weights")
    }
}

/// The built-in format's int8 weights: its 4-bit blocks taken as they are (exact), and a
/// block scale that is not finite refused by tensor and block, not packed.
@Suite struct Int8ModelFileTests {
    @Test func fourBitBlocksBecomeInt8Exactly() throws {
        let (path, weights) = try SyntheticModel.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try ModelFile(path: path)
        let H = SyntheticModel.hidden
        for name in ["l0.q.w", "l1.fo.w"] {
            let expected = try #require(weights[name])
            let (values, scales) = try file.int8Blocks(name, count: expected.count)
            #expect(values.allSatisfy { (-8...7).contains($0) })
            #expect(values.indices.map { (Float(values[$0]) * scales[$0 / 32]).bitPattern } == expected.map(\.bitPattern), "\(name)")
        }
        #expect(throws: ModelFileError.self) { try file.int8Blocks("l0.q.w", count: H) }
        // The whole model loads in int8.
        _ = try TransformerEncoder(file, precision: .int8)
    }

    @Test func aScaleThatIsNotFiniteIsRefusedByTensorAndBlock() throws {
        let (path, _) = try SyntheticModel.write()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let tensor = try #require(try ModelFile(path: path).tensors["l1.fi.w"])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let block = 3, at = tensor.offset + block * Q4Blocks.blockBytes
        bytes[at] = 0x00; bytes[at + 1] = 0x7E  // fp16 NaN
        let damaged = path + ".nan"
        try bytes.write(to: URL(fileURLWithPath: damaged))
        defer { try? FileManager.default.removeItem(atPath: damaged) }
        #expect {
            _ = try TransformerEncoder(ModelFile(path: damaged), precision: .int8)
        } throws: { error in
            "\(error)".contains("l1.fi.w") && "\(error)".contains("block 3") && "\(error)".contains("not finite")
        }
    }
}
