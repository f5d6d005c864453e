import FitEncoder
import FitFormats
import Foundation
import Testing

/// A text's vector is a function of the text alone: the same bytes whatever else is in the
/// batch, in any order, with any batch size and any thread count. With the real model.
@Suite(.serialized) struct BatchInvarianceTests {
    /// Short and long texts in several scripts, the edge cases of packing (empty and
    /// whitespace-only texts share their token ids), and two texts of several windows.
    static let texts: [String] = {
        var texts = ReferenceParityTests.corpus.dropLast().map { $0 }
        texts += ["a", "ok", "नमस्ते", "Tamil தமிழ்", "The quick brown fox jumps over the lazy dog."]
        texts += (1...12).map { i in String(repeating: "Sentence number \(i) in a longer text. ", count: i * 3) }
        texts.append(String(repeating: ReferenceParityTests.paragraph, count: 30))  // ~8 windows
        texts.append(String(repeating: "मैं ठीक हूँ, धन्यवाद। ", count: 400))
        return texts
    }()

    static func embedder(threads: Int, batchTokens: Int) throws -> TextEmbedder? {
        let path = ModelLocator.path()
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("no model at \(path): run tools/setup")
            return nil
        }
        return try TextEmbedder(modelPath: path, configuration: .init(prefix: "query: ", lengthPolicy: .windowed(overlap: 64),
                                                                     batchTokens: batchTokens, threads: threads))
    }

    static func bits(_ v: [Float]) -> [UInt32] { v.map(\.bitPattern) }

    @Test func vectorsDependOnTheTextAlone() throws {
        guard let reference = try Self.embedder(threads: 2, batchTokens: 8192) else { return }
        let expected = reference.embed(Self.texts).map(Self.bits)
        #expect(expected[12] == expected[13], "\"\" and \"   \" have the same token ids, so the same vector")
        var random = SplitMix64(seed: 11)
        for trial in 0..<12 {
            let threads = 1 + Int(random.next() % 4)
            let batchTokens = [512, 700, 1024, 2048, 8192][Int(random.next() % 5)]
            // A random subset of at least one text, in a random order.
            var chosen = Self.texts.indices.filter { _ in random.next() % 2 == 0 }
            if chosen.isEmpty { chosen = [Int(random.next() % UInt64(Self.texts.count))] }
            for i in stride(from: chosen.count - 1, to: 0, by: -1) {
                chosen.swapAt(i, Int(random.next() % UInt64(i + 1)))
            }
            guard let embedder = try Self.embedder(threads: threads, batchTokens: batchTokens) else { return }
            let got = embedder.embed(chosen.map { Self.texts[$0] })
            for (k, i) in chosen.enumerated() {
                #expect(Self.bits(got[k]) == expected[i],
                        "trial \(trial) (\(threads) threads, \(batchTokens)-token batches, \(chosen.count) texts): text \(i) differs")
            }
        }
        // Each text alone.
        for (i, text) in Self.texts.enumerated() where i % 5 == 0 {
            #expect(Self.bits(reference.embed([text])[0]) == expected[i], "text \(i) alone differs")
        }
    }

    /// The stage clock reads the time and changes nothing else: the same bytes with it as
    /// without, and every stage the real model runs gets time (the clock is wired to each).
    @Test func theStageClockChangesNoBitAndTimesEveryStage() throws {
        guard let embedder = try Self.embedder(threads: 2, batchTokens: 2048) else { return }
        let plain = embedder.embed(Self.texts).map(Self.bits)
        let clock = EncoderStageClock(workers: 2)
        embedder.stageClock = clock
        defer { embedder.stageClock = nil }
        #expect(embedder.embed(Self.texts).map(Self.bits) == plain)
        let seconds = clock.seconds
        for stage in EncoderStageClock.Stage.allCases {
            #expect((seconds[stage] ?? 0) > 0, "\(stage.label) got no time")
        }
        // The products are most of a forward pass: more than any other stage.
        let products = seconds[.products] ?? 0
        #expect(seconds.filter { $0.key != .products }.allSatisfy { $0.value < products }, "\(seconds)")
    }
}
