@testable import FitEncoder
import Foundation
import Testing

@Suite struct TokenizerTests {
    static let tokenizer: UnigramTokenizer = {
        let (path, _) = try! SyntheticModel.write()
        let file = try! ModelFile(path: path)
        try? FileManager.default.removeItem(atPath: path)
        return UnigramTokenizer(vocabulary: file.vocabulary, normalization: file.normalization)
    }()

    func pieces(_ text: String) -> [String] {
        Self.tokenizer.encode(text).map { Self.tokenizer.vocabulary.piece(Int($0)) }
    }

    @Test func viterbiPrefersTheBestTotalScore() {
        // "▁ab" (-2.5) beats "▁a"+"b" (-7) and "▁"+"ab" (-5.5).
        #expect(pieces("ab") == ["▁ab"])
        #expect(pieces("abab") == ["▁ab", "ab"])
        #expect(pieces("a b") == ["▁a", "▁b"])
    }

    @Test func unknownScalarsBecomeUnkOneEach() {
        #expect(pieces("ax") == ["▁a", "<unk>"])
        #expect(pieces("xy") == ["▁", "<unk>", "<unk>"])
        #expect(pieces("😀") == ["▁", "<unk>"])
    }

    @Test func spacesAndMetaspace() {
        #expect(pieces("a   b") == pieces("a b"), "runs of spaces collapse")
        #expect(pieces(" a") == ["▁a"], "a leading space is the metaspace")
        #expect(pieces("") == ["▁"])
        #expect(pieces("a ") == ["▁a", "▁"], "a trailing space is kept")
    }

    @Test func normalizationMapApplies() {
        #expect(pieces("Ａb") == ["▁ab"], "fullwidth A maps to a")
        #expect(pieces("a\u{200B}b") == ["▁ab"], "a mapping to nothing drops the scalar")
    }

    @Test func piecesAreKeyedByBytesNotCanonicalEquivalence() {
        // "é" (U+00E9) and "e" + U+0301 are equal as Swift Strings but are different pieces.
        let composed = Self.tokenizer.vocabulary.id(of: "é")
        let decomposed = Self.tokenizer.vocabulary.id(of: "e\u{301}")
        #expect(composed == 12 && decomposed == 13)
        #expect(Self.tokenizer.encode("é").last == 12)
        #expect(Self.tokenizer.encode("e\u{301}").last == 13)
    }

    @Test func longInputsTokenize() {
        let text = String(repeating: "ab ", count: 20_000)
        let ids = Self.tokenizer.encode(text)
        #expect(ids.count == 20_001)
    }
}
