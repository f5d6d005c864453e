/// WordPiece, as Hugging Face `tokenizers` applies it to one pre-tokenized word: greedy
/// longest match first, left to right; a piece after the first carries the continuation
/// prefix ("##"); a word with no full cover, or longer than `maxInputCharsPerWord` scalars,
/// becomes the unknown token alone.
public struct WordPieceModel: Sendable {
    /// Piece -> id, keyed by UTF-8 bytes (String equality is canonical equivalence, which
    /// would merge pieces that differ in normalization form).
    let ids: [[UInt8]: Int32]
    public let unknown: Int32
    public let continuingPrefix: [UInt8]
    public let maxInputCharsPerWord: Int
    let longestPiece: Int

    public init(vocabulary: [(String, Int32)], unknown: Int32, continuingPrefix: String = "##", maxInputCharsPerWord: Int = 100) {
        var ids: [[UInt8]: Int32] = [:]
        var longest = 1
        for (piece, id) in vocabulary {
            ids[Array(piece.utf8)] = id
            longest = max(longest, piece.unicodeScalars.count)
        }
        self.ids = ids
        self.unknown = unknown
        self.continuingPrefix = Array(continuingPrefix.utf8)
        self.maxInputCharsPerWord = maxInputCharsPerWord
        longestPiece = longest
    }

    public var count: Int { ids.count }

    /// The largest id this model can emit (a piece's, or the unknown one).
    public var largestID: Int32 { max(unknown, ids.values.max() ?? 0) }

    public func id(of piece: String) -> Int32? { ids[Array(piece.utf8)] }

    /// The ids of one word's pieces, appended to `out`.
    public func encode(word: String, into out: inout [Int32]) {
        let scalars = Array(word.unicodeScalars)
        if scalars.isEmpty { return }
        if scalars.count > maxInputCharsPerWord { out.append(unknown); return }
        // UTF-8 offsets of each scalar boundary.
        var bytes: [UInt8] = []
        var starts: [Int] = []
        for s in scalars {
            starts.append(bytes.count)
            bytes.append(contentsOf: String(s).utf8)
        }
        starts.append(bytes.count)
        var pieces: [Int32] = []
        var start = 0
        while start < scalars.count {
            var end = min(scalars.count, start + longestPiece)
            var found: Int32?
            while end > start {
                var key = start > 0 ? continuingPrefix : []
                key.append(contentsOf: bytes[starts[start]..<starts[end]])
                if let id = ids[key] { found = id; break }
                end -= 1
            }
            guard let id = found else { out.append(unknown); return }
            pieces.append(id)
            start = end
        }
        out.append(contentsOf: pieces)
    }
}
