import Foundation
import FitFormats
import FitNumerics

/// A BERT-family encoder's weights, with what distinguishes the architectures: where
/// positions start, whether token types exist, and MPNet's relative position bias. Q, K and V
/// of each layer are fused into one [3H, H] matrix so one product computes all three. Every
/// matrix is packed once at load for the precision asked: float32 for `RowInvariantProduct`
/// (the built-in file's 4-bit blocks dequantized), or int8 blocks for `Q8Product`. The
/// word-embedding table stays where it is (4-bit in the built-in file, in the mapped
/// safetensors file otherwise) and is read a row per token.
struct EncoderWeights: @unchecked Sendable {
    /// One weight matrix with its bias, packed for the product of its precision.
    enum Linear {
        case float32(PackedWeights)
        case int8(Q8Weights)

        var inputs: Int {
            switch self {
            case .float32(let w): w.inputs
            case .int8(let w): w.inputs
            }
        }

        /// Input columns of a folder model's int8 products kept in float32: the outliers.
        static let floatColumns = 8

        /// Float32 weights packed as they are, or, given their inputs' activation maxima
        /// (calibration), as int8 with the columns of the largest maxima kept in float32.
        init(_ weights: [Float], bias: [Float], outputs: Int, inputs: Int, int8Calibration maxima: [Float]?) throws {
            guard let maxima else {
                self = .float32(PackedWeights(weights, bias: bias, outputs: outputs, inputs: inputs))
                return
            }
            guard maxima.count == inputs else {
                throw Q8Weights.Refused(description: "calibration gave \(maxima.count) maxima for \(inputs) inputs")
            }
            self = .int8(try Q8Weights(keepingInFloat: Q8Weights.outlierColumns(maxima, count: Self.floatColumns),
                                       weights: weights, outputs: outputs, inputs: inputs, bias: bias))
        }
    }

    /// The largest |input| per column of each of a layer's products (calibration).
    struct LayerMaxima {
        var qkv, out, ffnIn, ffnOut: [Float]
    }

    struct Layer {
        var qkv: Linear  // [3H, H]
        var out: Linear  // [H, H]
        var attnNormW: [Float]
        var attnNormB: [Float]
        var ffnIn: Linear  // [FF, H]
        var ffnOut: Linear  // [H, FF]
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

    /// body, with a refusal of int8 packing (a weight that is not finite gives a block scale
    /// that is not) reported against the weights file and the layer.
    private static func refusalsNamed<T>(_ path: String, layer: Int, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let refused as Q8Weights.Refused {
            throw ModelFolderError(path: path, message: "layer \(layer): \(refused.description)")
        }
    }

    /// The built-in multilingual-e5-small file.
    init(_ file: ModelFile, precision: Precision = .float32) throws {
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
            /// The matrix of the named tensors stacked by output; for int8, their 4-bit blocks
            /// taken as they are (exact), not dequantized and rounded again.
            func linear(_ names: [String], outputs: Int, inputs: Int, bias: [Float]) throws -> Linear {
                let count = outputs / names.count * inputs
                switch precision {
                case .float32:
                    return try Linear(try names.flatMap { try f($0, count) }, bias: bias, outputs: outputs, inputs: inputs, int8Calibration: nil)
                case .int8:
                    let blocks = try names.map { try file.int8Blocks("l\(l).\($0)", count: count) }
                    return .int8(try Q8Weights(weights: blocks.flatMap(\.values), scales: blocks.flatMap(\.scales),
                                               outputs: outputs, inputs: inputs, bias: bias))
                }
            }
            return Layer(
                qkv: try linear(["q.w", "k.w", "v.w"], outputs: 3 * H, inputs: H, bias: try f("q.b", H) + f("k.b", H) + f("v.b", H)),
                out: try linear(["ao.w"], outputs: H, inputs: H, bias: try f("ao.b", H)),
                attnNormW: try f("aln.w", H), attnNormB: try f("aln.b", H),
                ffnIn: try linear(["fi.w"], outputs: FF, inputs: H, bias: try f("fi.b", FF)),
                ffnOut: try linear(["fo.w"], outputs: H, inputs: FF, bias: try f("fo.b", H)),
                outNormW: try f("oln.w", H), outNormB: try f("oln.b", H))
        }
    }

    /// A Hugging Face folder's safetensors weights, under the names `transformers` gives
    /// each architecture (with any prefix, such as "bert." or "0.auto_model."): float32, or
    /// int8 given each product input's activation maxima (`TransformerEncoder.inputMaxima`).
    init(folder: HuggingFaceFolder, weights file: SafetensorsFile, int8Calibration activationMaxima: [LayerMaxima]? = nil) throws {
        let c = folder.config
        let H = c.hidden, FF = c.ffn
        guard let wordName = file.tensors.keys.filter({ $0.hasSuffix("embeddings.word_embeddings.weight") }).min(by: { $0.count < $1.count }) else {
            throw ModelFolderError(path: file.path, message: "holds no embeddings.word_embeddings.weight (not a \(folder.architecture.rawValue) model?)")
        }
        let prefix = String(wordName.dropLast("embeddings.word_embeddings.weight".count))
        if let activationMaxima, activationMaxima.count != c.layers {
            throw ModelFolderError(path: file.path, message: "calibration gave \(activationMaxima.count) layers of maxima for \(c.layers) layers")
        }
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
        layers = try (0..<c.layers).map { l in try Self.refusalsNamed(file.path, layer: l) {
            let p = "encoder.layer.\(l)."
            let (q, k, v, o, attnNorm) = folder.architecture == .mpnet
                ? ("attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm")
                : ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "attention.output.LayerNorm")
            return Layer(
                qkv: try Linear(try f(p + q + ".weight", [H, H]) + f(p + k + ".weight", [H, H]) + f(p + v + ".weight", [H, H]),
                                bias: try f(p + q + ".bias", [H]) + f(p + k + ".bias", [H]) + f(p + v + ".bias", [H]),
                                outputs: 3 * H, inputs: H, int8Calibration: activationMaxima?[l].qkv),
                out: try Linear(try f(p + o + ".weight", [H, H]), bias: try f(p + o + ".bias", [H]), outputs: H, inputs: H,
                                int8Calibration: activationMaxima?[l].out),
                attnNormW: try f(p + attnNorm + ".weight", [H]), attnNormB: try f(p + attnNorm + ".bias", [H]),
                ffnIn: try Linear(try f(p + "intermediate.dense.weight", [FF, H]), bias: try f(p + "intermediate.dense.bias", [FF]),
                                  outputs: FF, inputs: H, int8Calibration: activationMaxima?[l].ffnIn),
                ffnOut: try Linear(try f(p + "output.dense.weight", [H, FF]), bias: try f(p + "output.dense.bias", [H]),
                                   outputs: H, inputs: FF, int8Calibration: activationMaxima?[l].ffnOut),
                outNormW: try f(p + "output.LayerNorm.weight", [H]), outNormB: try f(p + "output.LayerNorm.bias", [H]))
        } }
        guard positionOffset + folder.maxSequenceLength <= c.maxPositions else {
            throw ModelFolderError(path: folder.path, message: "max sequence length \(folder.maxSequenceLength) needs more than its \(c.maxPositions) position embeddings")
        }
    }
}
