import Foundation

/// Writes a tiny model in the E5S1 format (hidden 32, 2 heads, 2 layers, FFN 64), with a toy
/// vocabulary and seeded random weights, so the reader, tokenizer and forward pass can be
/// tested without the real 72 MB file.
struct SyntheticModel {
    static let hidden = 32, layers = 2, heads = 2, ffn = 64, maxPositions = 16, typeVocab = 2
    static let pieces: [(String, Float)] = [
        ("<s>", 0), ("<pad>", 0), ("</s>", 0), ("<unk>", 0),
        ("▁", -2), ("▁a", -3), ("a", -4), ("b", -4), ("ab", -3.5), ("▁ab", -2.5), ("c", -5), ("▁b", -3),
        ("é", -4), ("e\u{301}", -4.5),  // canonically equivalent to "é", but a different piece
    ]
    /// Fullwidth 'Ａ' normalizes to 'a'; ZERO WIDTH SPACE is dropped.
    static let normalization: [(UInt32, [UInt32])] = [(0xFF21, [0x61]), (0x200B, [])]

    var seed: UInt64 = 42

    mutating func random() -> Float {
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: seed >> 11) % 2001 - 1000) / 1000 * 0.2
    }

    static func appendU32(_ out: inout [UInt8], _ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    static func appendI32(_ out: inout [UInt8], _ v: Int) { appendU32(&out, UInt32(bitPattern: Int32(v))) }
    static func appendF32(_ out: inout [UInt8], _ v: Float) { appendU32(&out, v.bitPattern) }

    /// Q4_0 quantization of values (count a multiple of 32); also returns what it decodes to.
    static func q4(_ values: [Float]) -> (bytes: [UInt8], decoded: [Float]) {
        var bytes: [UInt8] = []
        var decoded = [Float](repeating: 0, count: values.count)
        for b in 0..<(values.count / 32) {
            let block = values[(b * 32)..<(b * 32 + 32)]
            let amax = block.map(abs).max() ?? 0
            let scale = Float16(amax / 7)
            let d = Float(scale)
            withUnsafeBytes(of: scale.bitPattern.littleEndian) { bytes += $0 }
            var q = [UInt8](repeating: 0, count: 32)
            for j in 0..<32 {
                let v = d > 0 ? Int((block[block.startIndex + j] / d).rounded()) : 0
                q[j] = UInt8(max(0, min(15, v + 8)))
                decoded[b * 32 + j] = Float(Int(q[j]) - 8) * d
            }
            for j in 0..<16 { bytes.append(q[j] | (q[j + 16] << 4)) }
        }
        return (bytes, decoded)
    }

    /// The file bytes and the (dequantized) weights they hold, by tensor name.
    mutating func build() -> (bytes: [UInt8], weights: [String: [Float]]) {
        let H = Self.hidden, FF = Self.ffn
        var tensors: [(String, UInt8, [UInt8], Int)] = []  // name, dtype, bytes, elements
        var weights: [String: [Float]] = [:]
        func f32(_ name: String, _ n: Int, constant: Float? = nil) {
            let v = (0..<n).map { _ in constant ?? random() }
            var b: [UInt8] = []
            for x in v { Self.appendF32(&b, x) }
            tensors.append((name, 0, b, n)); weights[name] = v
        }
        func q(_ name: String, _ n: Int) {
            let (b, d) = Self.q4((0..<n).map { _ in random() * 2 })
            tensors.append((name, 1, b, n)); weights[name] = d
        }
        q("emb.word", Self.pieces.count * H + (32 - (Self.pieces.count * H) % 32) % 32)
        f32("emb.pos", Self.maxPositions * H)
        f32("emb.type", Self.typeVocab * H)
        f32("emb.ln.w", H, constant: 1); f32("emb.ln.b", H)
        for l in 0..<Self.layers {
            for p in ["q", "k", "v", "ao"] { q("l\(l).\(p).w", H * H); f32("l\(l).\(p).b", H) }
            f32("l\(l).aln.w", H); f32("l\(l).aln.b", H)
            q("l\(l).fi.w", FF * H); f32("l\(l).fi.b", FF)
            q("l\(l).fo.w", H * FF); f32("l\(l).fo.b", H)
            f32("l\(l).oln.w", H); f32("l\(l).oln.b", H)
        }

        var out = Array("E5S1".utf8)
        Self.appendU32(&out, 1)
        for v in [H, Self.layers, Self.heads, FF, Self.pieces.count, Self.maxPositions, Self.typeVocab] { Self.appendI32(&out, v) }
        Self.appendF32(&out, 1e-12)
        Self.appendI32(&out, 32)
        Self.appendI32(&out, Self.pieces.count)
        for id in [0, 2, 1, 3] { Self.appendI32(&out, id) }
        let blob = Self.pieces.flatMap { Array($0.0.utf8) }
        withUnsafeBytes(of: UInt64(blob.count).littleEndian) { out += $0 }
        var offset: UInt32 = 0
        Self.appendU32(&out, 0)
        for p in Self.pieces { offset += UInt32(p.0.utf8.count); Self.appendU32(&out, offset) }
        for p in Self.pieces { Self.appendF32(&out, p.1) }
        out += blob
        var map: [UInt8] = []
        for (cp, repl) in Self.normalization {
            Self.appendU32(&map, cp); map.append(UInt8(repl.count))
            for r in repl { Self.appendU32(&map, r) }
        }
        Self.appendI32(&out, Self.normalization.count)
        Self.appendU32(&out, UInt32(map.count))
        out += map
        Self.appendI32(&out, tensors.count)
        // Directory first (fixed size per entry), then data.
        let directorySize = tensors.reduce(0) { $0 + 2 + $1.0.utf8.count + 1 + 4 + 8 + 8 }
        var dataOffset = out.count + directorySize
        var data: [UInt8] = []
        for (name, dtype, bytes, elements) in tensors {
            withUnsafeBytes(of: UInt16(name.utf8.count).littleEndian) { out += $0 }
            out += Array(name.utf8)
            out.append(dtype)
            Self.appendU32(&out, UInt32(elements))
            withUnsafeBytes(of: UInt64(dataOffset).littleEndian) { out += $0 }
            withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { out += $0 }
            data += bytes
            dataOffset += bytes.count
        }
        return (out + data, weights)
    }

    static func write() throws -> (path: String, weights: [String: [Float]]) {
        var model = SyntheticModel()
        let (bytes, weights) = model.build()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("synthetic-\(UUID()).bin").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return (path, weights)
    }
}
