import Foundation
import FitFormats
import FitNumerics

/// A BERT-family encoder's weights as float32 (the built-in file's dequantized once at load),
/// with what distinguishes the architectures: where positions start, whether token types
/// exist, and MPNet's relative position bias. Q, K and V of each layer are fused into one
/// [3H, H] matrix so one product computes all three; every matrix is packed for
/// `RowInvariantProduct`. The word-embedding table stays where it is (4-bit in the built-in
/// file, in the mapped safetensors file otherwise) and is read a row per token.
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

    /// The word-embedding table.
    enum WordTable {
        case q4(Q4Matrix)
        case rows(SafetensorsFile.Rows)

        var rows: Int {
            switch self {
            case .q4(let m): m.rows
            case .rows(let r): r.rows
            }
        }

        func row(_ id: Int, into out: UnsafeMutableBufferPointer<Float>) {
            switch self {
            case .q4(let m): m.row(id, into: out)
            case .rows(let r): r.row(id, into: out)
            }
        }
    }

    /// MPNet's attention bias: a learned value per (relative position bucket, head).
    struct RelativeBias {
        let table: [Float]  // [buckets, heads]
        let buckets: Int
        let heads: Int
        let maxDistance = 128

        /// The bucket of key position minus query position, as MPNet computes it (float32
        /// logarithm, truncated; half the buckets for keys before the query).
        func bucket(_ relative: Int) -> Int {
            let half = buckets / 2
            var n = -relative
            var b = n < 0 ? half : 0
            n = abs(n)
            let exact = half / 2
            if n < exact { return b + n }
            let large = exact + Int(logf(Float(n) / Float(exact)) / Float(log(Double(maxDistance) / Double(exact))) * Float(half - exact))
            b += min(large, half - 1)
            return b
        }
    }

    let hyper: ModelFile.Hyperparameters
    let word: WordTable
    let position: [Float]  // [positions, H]
    /// Position id of a sequence's first token (RoBERTa and MPNet: padding_idx + 1).
    let positionOffset: Int
    /// RoBERTa and MPNet count positions over the tokens that are not padding: a padding id
    /// (typed in a text, say "<pad>") sits at position padding_idx and does not advance the
    /// count, as transformers' create_position_ids_from_input_ids has it. nil for BERT.
    let paddingID: Int32?
    let tokenType: [Float]?  // row 0 of [typeVocab, H]
    let embedNormW: [Float]
    let embedNormB: [Float]
    let layers: [Layer]
    let relativeBias: RelativeBias?

    /// The built-in multilingual-e5-small file.
    init(_ file: ModelFile) throws {
        let h = file.hyper
        let H = h.hidden, FF = h.ffn
        hyper = h
        word = .q4(try file.q4Rows("emb.word", rows: h.vocab, columns: H))
        position = try file.floats("emb.pos", count: h.maxPositions * H)
        positionOffset = 0
        paddingID = nil
        tokenType = Array(try file.floats("emb.type", count: h.typeVocab * H).prefix(H))
        embedNormW = try file.floats("emb.ln.w", count: H)
        embedNormB = try file.floats("emb.ln.b", count: H)
        relativeBias = nil
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

    /// A Hugging Face folder's safetensors weights, under the names `transformers` gives
    /// each architecture (with any prefix, such as "bert." or "0.auto_model.").
    init(folder: HuggingFaceFolder, weights file: SafetensorsFile) throws {
        let c = folder.config
        let H = c.hidden, FF = c.ffn
        guard let wordName = file.tensors.keys.filter({ $0.hasSuffix("embeddings.word_embeddings.weight") }).min(by: { $0.count < $1.count }) else {
            throw ModelFolderError(path: file.path, message: "holds no embeddings.word_embeddings.weight (not a \(folder.architecture.rawValue) model?)")
        }
        let prefix = String(wordName.dropLast("embeddings.word_embeddings.weight".count))
        func f(_ name: String, _ shape: [Int]) throws -> [Float] {
            // Old BERT checkpoints call LayerNorm's weight and bias gamma and beta.
            if file.tensors[prefix + name] == nil, name.hasSuffix("LayerNorm.weight") || name.hasSuffix("LayerNorm.bias") {
                let old = name.hasSuffix(".weight") ? name.dropLast("weight".count) + "gamma" : name.dropLast("bias".count) + "beta"
                if file.tensors[prefix + old] != nil { return try file.floats(prefix + old, shape: shape) }
            }
            return try file.floats(prefix + name, shape: shape)
        }
        hyper = ModelFile.Hyperparameters(hidden: H, layers: c.layers, heads: c.heads, ffn: FF, vocab: c.vocab,
                                          maxPositions: folder.maxSequenceLength, typeVocab: max(1, c.typeVocab), eps: c.eps, blockSize: 32)
        word = .rows(try file.rows(wordName, rows: c.vocab, columns: H))
        position = try f("embeddings.position_embeddings.weight", [c.maxPositions, H])
        positionOffset = folder.architecture == .bert ? 0 : c.padTokenID + 1
        paddingID = folder.architecture == .bert ? nil : Int32(c.padTokenID)
        if folder.architecture == .mpnet {
            tokenType = nil
        } else {
            tokenType = Array(try f("embeddings.token_type_embeddings.weight", [c.typeVocab, H]).prefix(H))
        }
        embedNormW = try f("embeddings.LayerNorm.weight", [H])
        embedNormB = try f("embeddings.LayerNorm.bias", [H])
        if folder.architecture == .mpnet {
            relativeBias = RelativeBias(table: try f("encoder.relative_attention_bias.weight", [c.relativeBuckets, c.heads]),
                                        buckets: c.relativeBuckets, heads: c.heads)
        } else {
            relativeBias = nil
        }
        layers = try (0..<c.layers).map { l in
            let p = "encoder.layer.\(l)."
            let (q, k, v, o, attnNorm) = folder.architecture == .mpnet
                ? ("attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm")
                : ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "attention.output.LayerNorm")
            return Layer(
                qkv: PackedWeights(try f(p + q + ".weight", [H, H]) + f(p + k + ".weight", [H, H]) + f(p + v + ".weight", [H, H]),
                                   bias: try f(p + q + ".bias", [H]) + f(p + k + ".bias", [H]) + f(p + v + ".bias", [H]),
                                   outputs: 3 * H, inputs: H),
                out: PackedWeights(try f(p + o + ".weight", [H, H]), bias: try f(p + o + ".bias", [H]), outputs: H, inputs: H),
                attnNormW: try f(p + attnNorm + ".weight", [H]), attnNormB: try f(p + attnNorm + ".bias", [H]),
                ffnIn: PackedWeights(try f(p + "intermediate.dense.weight", [FF, H]), bias: try f(p + "intermediate.dense.bias", [FF]),
                                     outputs: FF, inputs: H),
                ffnOut: PackedWeights(try f(p + "output.dense.weight", [H, FF]), bias: try f(p + "output.dense.bias", [H]),
                                      outputs: H, inputs: FF),
                outNormW: try f(p + "output.LayerNorm.weight", [H]), outNormB: try f(p + "output.LayerNorm.bias", [H]))
        }
        guard positionOffset + folder.maxSequenceLength <= c.maxPositions else {
            throw ModelFolderError(path: folder.path, message: "max sequence length \(folder.maxSequenceLength) needs more than its \(c.maxPositions) position embeddings")
        }
    }
}
