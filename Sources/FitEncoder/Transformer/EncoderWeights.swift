import FitNumerics
/// The BERT encoder's weights as float32, dequantized once at load (the word-embedding table
/// stays 4-bit and is dequantized per token). Q, K and V of each layer are fused into one
/// [3H, H] matrix so one product computes all three; every matrix is packed for
/// `RowInvariantProduct`.
struct EncoderWeights: @unchecked Sendable {
    struct Layer {
        var qkv: PackedWeights  // [3H, H]
        var out: PackedWeights  // [H, H]
        var attnNormW: [Float]
        var attnNormB: [Float]
        var ffnIn: PackedWeights  // [FF, H]
        var ffnOut: PackedWeights  // [H, FF]
        var outNormW: [Float]
        var outNormB: [Float]
    }

    let hyper: ModelFile.Hyperparameters
    let word: Q4Matrix
    let position: [Float]  // [maxPositions, H]
    let tokenType: [Float]  // row 0 of [typeVocab, H]
    let embedNormW: [Float]
    let embedNormB: [Float]
    let layers: [Layer]

    init(_ file: ModelFile) throws {
        let h = file.hyper
        let H = h.hidden, FF = h.ffn
        hyper = h
        word = try file.q4Rows("emb.word", rows: h.vocab, columns: H)
        position = try file.floats("emb.pos", count: h.maxPositions * H)
        tokenType = Array(try file.floats("emb.type", count: h.typeVocab * H).prefix(H))
        embedNormW = try file.floats("emb.ln.w", count: H)
        embedNormB = try file.floats("emb.ln.b", count: H)
        layers = try (0..<h.layers).map { l in
            func f(_ name: String, _ n: Int) throws -> [Float] { try file.floats("l\(l).\(name)", count: n) }
            return Layer(
                qkv: PackedWeights(try f("q.w", H * H) + f("k.w", H * H) + f("v.w", H * H),
                                   bias: try f("q.b", H) + f("k.b", H) + f("v.b", H), outputs: 3 * H, inputs: H),
                out: PackedWeights(try f("ao.w", H * H), bias: try f("ao.b", H), outputs: H, inputs: H),
                attnNormW: try f("aln.w", H), attnNormB: try f("aln.b", H),
                ffnIn: PackedWeights(try f("fi.w", FF * H), bias: try f("fi.b", FF), outputs: FF, inputs: H),
                ffnOut: PackedWeights(try f("fo.w", H * FF), bias: try f("fo.b", H), outputs: H, inputs: FF),
                outNormW: try f("oln.w", H), outNormB: try f("oln.b", H))
        }
    }
}
