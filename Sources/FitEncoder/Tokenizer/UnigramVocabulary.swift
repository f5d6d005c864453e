/// The pieces of a SentencePiece Unigram model, looked up by their UTF-8 bytes.
///
/// Keyed by bytes on purpose: Swift `String` equality is canonical equivalence, so a
/// `[String: Int]` would merge pieces that differ only in normalization form (Devanagari
/// nukta forms, for one) and give wrong ids.
public struct UnigramVocabulary: Sendable {
    let blob: [UInt8]
    let offsets: [UInt32]
    public let scores: [Float]
    public let bos: Int
    public let eos: Int
    public let pad: Int
    public let unk: Int
    /// Open-addressing table of piece index + 1 (0 = empty), hashed with FNV-1a.
    let table: [Int32]
    let mask: Int
    public let maxPieceBytes: Int
    /// Score of the single-character unknown fallback: the lowest piece score minus 10.
    public let unknownScore: Float

    public var count: Int { scores.count }

    init(blob: [UInt8], offsets: [UInt32], scores: [Float], bos: Int, eos: Int, pad: Int, unk: Int) {
        self.blob = blob
        self.offsets = offsets
        self.scores = scores
        self.bos = bos
        self.eos = eos
        self.pad = pad
        self.unk = unk
        var size = 2
        while size < scores.count * 2 { size <<= 1 }
        mask = size - 1
        var table = [Int32](repeating: 0, count: size)
        var longest = 1
        for i in 0..<scores.count {
            let start = Int(offsets[i]), end = Int(offsets[i + 1])
            guard end > start else { continue }
            longest = max(longest, end - start)
            var h = Self.fnvOffset
            for b in blob[start..<end] { h = (h ^ UInt64(b)) &* Self.fnvPrime }
            var slot = Int(h & UInt64(mask))
            while table[slot] != 0 { slot = (slot + 1) & mask }
            table[slot] = Int32(i + 1)
        }
        self.table = table
        maxPieceBytes = longest
        unknownScore = (scores.min() ?? 0) - 10
    }

    static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01b3

    /// The piece bytes of id `i`.
    public func pieceBytes(_ i: Int) -> ArraySlice<UInt8> { blob[Int(offsets[i])..<Int(offsets[i + 1])] }

    public func piece(_ i: Int) -> String { String(decoding: pieceBytes(i), as: UTF8.self) }

    /// The lattice edges out of scalar position `i`: calls `body(e, id)` for every piece that
    /// spells bytes[starts[i] ..< starts[e]], e = i + 1, i + 2, ... up to the longest piece.
    /// The FNV-1a hash of a candidate is extended byte by byte, not recomputed, so a position
    /// costs at most `maxPieceBytes` steps. Both Viterbi passes (`UnigramTokenizer`,
    /// `UnigramModel`) enumerate edges here; they differ only in how they score them.
    @inline(__always)
    func forEachPiece(_ bytes: UnsafeBufferPointer<UInt8>, starts: [Int], from i: Int, _ body: (_ end: Int, _ id: Int) -> Void) {
        let b0 = starts[i], n = starts.count - 1
        var hash = Self.fnvOffset, hashed = b0
        var e = i + 1
        while e <= n {
            let end = starts[e]
            if end - b0 > maxPieceBytes { break }
            while hashed < end {
                hash = (hash ^ UInt64(bytes[hashed])) &* Self.fnvPrime
                hashed += 1
            }
            if let id = lookup(bytes, b0, end, hash: hash) { body(e, id) }
            e += 1
        }
    }

    /// The id of the piece whose bytes are `bytes[start..<end]`, given their FNV-1a hash.
    @inline(__always)
    func lookup(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, hash: UInt64) -> Int? {
        let length = end - start
        var slot = Int(hash & UInt64(mask))
        return table.withUnsafeBufferPointer { table in
            blob.withUnsafeBufferPointer { blob in
                offsets.withUnsafeBufferPointer { offsets in
                    while true {
                        let v = Int(table[slot])
                        if v == 0 { return nil }
                        let idx = v - 1
                        let ps = Int(offsets[idx])
                        if Int(offsets[idx + 1]) - ps == length
                            && memcmp(blob.baseAddress! + ps, bytes.baseAddress! + start, length) == 0 {
                            return idx
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    public func id(of piece: String) -> Int? {
        let bytes = Array(piece.utf8)
        var h = Self.fnvOffset
        for b in bytes { h = (h ^ UInt64(b)) &* Self.fnvPrime }
        return bytes.withUnsafeBufferPointer { lookup($0, 0, bytes.count, hash: h) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
