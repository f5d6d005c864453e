/// SentencePiece Unigram tokenization as the e5 model file defines it:
///
/// 1. map every codepoint through the normalization map;
/// 2. collapse runs of spaces (U+0020) into one;
/// 3. metaspace: prefix "▁" unless the text starts with a space, and turn spaces into "▁";
/// 4. Viterbi best path over Unicode scalars, trying every piece that starts at each scalar
///    (up to the longest piece in bytes), with a single-scalar unknown fallback scored
///    lowest-piece-score - 10. Ties keep the earlier path.
///
/// Linear in the input: each position tries at most `maxPieceBytes` extensions
/// (`UnigramVocabulary.forEachPiece`, shared with `UnigramModel`).
public struct UnigramTokenizer: Sendable {
    public let vocabulary: UnigramVocabulary
    public let normalization: NormalizationMap
    static let metaspace: UInt32 = 0x2581

    public init(vocabulary: UnigramVocabulary, normalization: NormalizationMap) {
        self.vocabulary = vocabulary
        self.normalization = normalization
    }

    /// The content token ids of `text` (no `<s>`/`</s>`).
    public func encode(_ text: String) -> [Int32] {
        // 1-2. normalize, collapse spaces.
        var scalars: [UInt32] = []
        scalars.reserveCapacity(text.utf8.count + 1)
        var normalized: [UInt32] = []
        for s in text.unicodeScalars {
            normalized.removeAll(keepingCapacity: true)
            normalization.apply(s.value, into: &normalized)
            for cp in normalized {
                if cp == 0x20, scalars.last == 0x20 { continue }
                scalars.append(cp)
            }
        }
        // 3. metaspace, to UTF-8 with scalar boundaries.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count * 3 + 3)
        var starts: [Int] = []
        starts.reserveCapacity(scalars.count + 2)
        if scalars.first != 0x20 {
            starts.append(0)
            Self.appendUTF8(Self.metaspace, to: &bytes)
        }
        for cp in scalars {
            starts.append(bytes.count)
            Self.appendUTF8(cp == 0x20 ? Self.metaspace : cp, to: &bytes)
        }
        starts.append(bytes.count)
        // 4. Viterbi.
        let n = starts.count - 1
        if n == 0 { return [] }
        var best = [Float](repeating: -.infinity, count: n + 1)
        var piece = [Int32](repeating: -1, count: n + 1)
        var from = [Int32](repeating: 0, count: n + 1)
        best[0] = 0
        let unknownScore = vocabulary.unknownScore
        let unk = vocabulary.unk
        vocabulary.scores.withUnsafeBufferPointer { scores in
            bytes.withUnsafeBufferPointer { buf in
                for i in 0..<n where best[i] > -.infinity {
                    vocabulary.forEachPiece(buf, starts: starts, from: i) { e, idx in
                        guard idx != unk else { return }
                        let score = best[i] + scores[idx]
                        if score > best[e] { best[e] = score; piece[e] = Int32(idx); from[e] = Int32(i) }
                    }
                    let fallback = best[i] + unknownScore
                    if fallback > best[i + 1] { best[i + 1] = fallback; piece[i + 1] = -1; from[i + 1] = Int32(i) }
                }
            }
        }
        var ids: [Int32] = []
        var i = n
        while i > 0 {
            ids.append(piece[i] < 0 ? Int32(unk) : piece[i])
            i = Int(from[i])
        }
        return ids.reversed()
    }

    @inline(__always)
    static func appendUTF8(_ cp: UInt32, to out: inout [UInt8]) {
        switch cp {
        case 0..<0x80:
            out.append(UInt8(cp))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (cp >> 6))); out.append(UInt8(0x80 | (cp & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (cp >> 12))); out.append(UInt8(0x80 | ((cp >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (cp & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (cp >> 18))); out.append(UInt8(0x80 | ((cp >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((cp >> 6) & 0x3F))); out.append(UInt8(0x80 | (cp & 0x3F)))
        }
    }
}
