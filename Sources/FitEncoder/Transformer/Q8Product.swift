import CFitKernels

/// A weight matrix in the int8 product's packed form (`fit_q8_pack`): int8 weights with a
/// float scale per 32-input block, grouped 16 outputs at a time for the SIMD paths. It owns
/// the packed bytes (freed with it), as `PackedWeights` owns its panels.
public final class Q8Weights: @unchecked Sendable {
    public let outputs: Int
    public let inputs: Int
    public let bias: [Float]?
    /// Input columns computed in float32 beside the int8 product (ascending; empty: none),
    /// as LLM.int8 keeps outlier features: their activations are zeroed before rounding and
    /// their weights are out of the int8 matrix (`init(keepingInFloat:)`).
    public let floatColumns: [Int]
    /// Their weights, [floatColumns.count][outputs].
    let floatWeights: [Float]
    /// floatColumns as the product's C code takes them.
    let floatColumnIndices: [Int32]
    /// 1 per input column, 0 at the float columns: what the activations are multiplied by
    /// before rounding (nil without float columns).
    let roundingMask: [Float]?
    let packed: UnsafeMutableRawPointer

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    /// weights: row-major int8 [outputs, inputs] in -127...127; scales: [outputs, inputs / 32].
    public init(weights: [Int8], scales: [Float], outputs: Int, inputs: Int, bias: [Float]? = nil,
                floatColumns: [Int] = [], floatWeights: [Float] = []) throws {
        guard inputs > 0, inputs % 32 == 0, outputs > 0 else {
            throw Refused(description: "an int8 weight matrix needs inputs in whole blocks of 32 (got \(outputs) x \(inputs))")
        }
        guard weights.count == outputs * inputs, scales.count == outputs * inputs / 32, bias.map({ $0.count == outputs }) ?? true else {
            throw Refused(description: "an int8 weight matrix of \(outputs) x \(inputs) got \(weights.count) weights, \(scales.count) scales")
        }
        guard scales.allSatisfy(\.isFinite) else { throw Refused(description: "an int8 weight matrix has a scale that is not finite") }
        guard zip(floatColumns, floatColumns.dropFirst()).allSatisfy({ $0 < $1 }), floatColumns.allSatisfy({ (0..<inputs).contains($0) }),
              floatWeights.count == floatColumns.count * outputs else {
            throw Refused(description: "an int8 weight matrix of \(outputs) x \(inputs) got float columns \(floatColumns.prefix(8)) with \(floatWeights.count) weights")
        }
        let packed = UnsafeMutableRawPointer.allocate(byteCount: fit_q8_packed_bytes(Int32(outputs), Int32(inputs)), alignment: 64)
        let status = weights.withUnsafeBufferPointer { w in
            scales.withUnsafeBufferPointer { s in fit_q8_pack(w.baseAddress!, s.baseAddress!, Int32(outputs), Int32(inputs), packed) }
        }
        guard status == 0 else {
            packed.deallocate()
            throw Refused(description: "an int8 weight matrix holds -128 (weights are -127...127)")
        }
        self.outputs = outputs
        self.inputs = inputs
        self.bias = bias
        self.floatColumns = floatColumns
        self.floatWeights = floatWeights
        floatColumnIndices = floatColumns.map { Int32($0) }
        if floatColumns.isEmpty {
            roundingMask = nil
        } else {
            var mask = [Float](repeating: 1, count: inputs)
            for j in floatColumns { mask[j] = 0 }
            roundingMask = mask
        }
        self.packed = packed
    }

    /// Weights rounded to int8 per 32-input block (max |w| / 127 steps), as the activations are.
    public convenience init(quantizing weights: [Float], outputs: Int, inputs: Int, bias: [Float]? = nil) throws {
        guard inputs > 0, inputs % 32 == 0, weights.count == outputs * inputs else {
            throw Refused(description: "an int8 weight matrix needs inputs in whole blocks of 32 (got \(outputs) x \(inputs))")
        }
        let (q, s) = Q8Product.quantize(weights, rows: outputs, width: inputs)
        try self.init(weights: q, scales: s, outputs: outputs, inputs: inputs, bias: bias)
    }

    /// Float32 weights with the given input columns kept in float32 and the rest rounded to
    /// int8 with the least-squares scale of each block (`Q8Product.quantizeWeights`).
    public convenience init(keepingInFloat columns: [Int], weights: [Float], outputs: Int, inputs: Int, bias: [Float]?) throws {
        let columns = Array(Set(columns)).sorted()
        guard inputs > 0, inputs % 32 == 0, weights.count == outputs * inputs, columns.allSatisfy({ (0..<inputs).contains($0) }) else {
            throw Refused(description: "an int8 weight matrix needs inputs in whole blocks of 32 and float columns among them (got \(outputs) x \(inputs), columns \(columns.prefix(8)))")
        }
        var rest = weights, kept = [Float](repeating: 0, count: columns.count * outputs)
        for (c, j) in columns.enumerated() {
            for o in 0..<outputs { kept[c * outputs + o] = weights[o * inputs + j]; rest[o * inputs + j] = 0 }
        }
        let (q, s) = Q8Product.quantizeWeights(rest, rows: outputs, width: inputs)
        try self.init(weights: q, scales: s, outputs: outputs, inputs: inputs, bias: bias, floatColumns: columns, floatWeights: kept)
    }

    /// The `count` columns with the largest activation maxima (ties: the lower column), the
    /// outlier features that int8 blocks of 32 would round coarsely with everything beside
    /// them. On MiniLM, 8 of them in float32 bring the worst cosine to float32 vectors from
    /// 0.9981 to 0.9994 on one-word texts, where no averaging over tokens hides the noise.
    public static func outlierColumns(_ maxima: [Float], count: Int) -> [Int] {
        // NaN (a calibration that met one) counts as the largest, so the order stays total.
        let key = maxima.map { $0.isNaN ? Float.infinity : $0 }
        return Array(key.indices.sorted { (key[$0], -$0) > (key[$1], -$1) }.prefix(count)).sorted()
    }

    deinit { packed.deallocate() }
}

/// The int8 product: exact integer sums per 32-input block, then one fused multiply-add per
/// block and output in block order (CFitKernels.h), the same bits on every path.
public enum Q8Product {
    /// The instruction sets it can run on, fastest last.
    public enum Path: Int32, Sendable, CaseIterable {
        case portable = 0, avx2 = 1, avx512VNNI = 2
    }

    /// The fastest path this CPU runs.
    public static let best = Path(rawValue: fit_q8_best_path()) ?? .portable

    /// Rows of x rounded to int8 per 32-value block: the values and each block's scale.
    public static func quantize(_ x: [Float], rows: Int, width: Int) -> (q: [Int8], scales: [Float]) {
        var q = [Int8](repeating: 0, count: rows * width), s = [Float](repeating: 0, count: rows * width / 32)
        x.withUnsafeBufferPointer { x in
            q.withUnsafeMutableBufferPointer { q in
                s.withUnsafeMutableBufferPointer { s in
                    fit_q8_quantize_rows(x.baseAddress!, Int32(rows), Int32(width), q.baseAddress!, s.baseAddress!)
                }
            }
        }
        return (q, s)
    }

    /// The same rounding from and into memory the caller owns (the encoder's block buffers).
    public static func quantize(_ x: UnsafePointer<Float>, rows: Int, width: Int, multipliers: UnsafePointer<Float>? = nil,
                                into q: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>, path: Path = best) {
        fit_q8_quantize_rows_path(x, Int32(rows), Int32(width), multipliers, q, scales, path.rawValue)
    }

    /// A product input's rows rounded for `w`, its float columns zeroed.
    public static func quantize(_ x: UnsafePointer<Float>, rows: Int, for w: Q8Weights, into q: UnsafeMutablePointer<Int8>,
                                scales: UnsafeMutablePointer<Float>) {
        guard let mask = w.roundingMask else { return quantize(x, rows: rows, width: w.inputs, into: q, scales: scales) }
        mask.withUnsafeBufferPointer { quantize(x, rows: rows, width: w.inputs, multipliers: $0.baseAddress, into: q, scales: scales) }
    }

    /// y = x · Wᵀ + b through int8: x rounded (into q and scales, the caller's buffers), then
    /// `multiply`.
    public static func project(_ w: Q8Weights, _ x: UnsafePointer<Float>, rows: Int, q: UnsafeMutablePointer<Int8>,
                               scales: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        quantize(x, rows: rows, for: w, into: q, scales: scales)
        multiply(w, x, rows: rows, q: q, scales: scales, into: y)
    }

    /// y from x already rounded for `w` (q, scales): the int8 product plus the bias, then each
    /// float column's term (from x itself) in column order, one fused multiply-add per output
    /// (inside the product's store of each tile: CFitKernels.h), so a value's bits depend on
    /// its row alone. `apply` alone leaves out the float columns.
    public static func multiply(_ w: Q8Weights, _ x: UnsafePointer<Float>, rows: Int, q: UnsafePointer<Int8>,
                                scales: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, path: Path = best) {
        product(w, x: x, q: q, scales: scales, rows: rows, into: y, path: path)
    }

    /// Weights rounded to int8 per 32-value block with, of 21 candidate steps around
    /// max |w| / 127, the one whose rounding leaves the least squared error, each block's scale
    /// then the least-squares one for its integers (Σ w q / Σ q q). Done once at load, where
    /// time is cheap; halves of the error that plain max-scaled rounding leaves on some blocks.
    public static func quantizeWeights(_ w: [Float], rows: Int, width: Int) -> (q: [Int8], scales: [Float]) {
        let blocks = rows * width / 32
        var q = [Int8](repeating: 0, count: rows * width), scales = [Float](repeating: 0, count: blocks)
        w.withUnsafeBufferPointer { w in
            q.withUnsafeMutableBufferPointer { q in
                scales.withUnsafeMutableBufferPointer { scales in
                    let (wp, qp, sp) = (w.baseAddress!, q.baseAddress!, scales.baseAddress!)
                    Kernels.parallelChunks(blocks, minimumPerChunk: 1024) { range in
                        for b in range { leastSquaresBlock(wp + b * 32, into: qp + b * 32, scale: sp + b) }
                    }
                }
            }
        }
        return (q, scales)
    }

    private static func leastSquaresBlock(_ v: UnsafePointer<Float>, into q: UnsafeMutablePointer<Int8>, scale: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        let raw = UnsafeRawPointer(v)
        let lo = raw.loadUnaligned(as: V.self), hi = raw.loadUnaligned(fromByteOffset: 64, as: V.self)
        let largest = VectorMath.maximum(VectorMath.abs(lo), VectorMath.abs(hi))
        // x - x is 0 for every finite x, NaN for infinities and NaN (which the maximum's
        // comparisons would skip, and whose conversion to Int8 would trap).
        let finite = all((lo - lo) .== 0) && all((hi - hi) .== 0)
        guard largest > 0, finite else {
            for i in 0..<32 { q[i] = 0 }
            scale.pointee = finite ? 0 : .nan  // not finite: refused by the packer
            return
        }
        // Clamped with selects, not pointwiseMin/Max: using those here made the compiler
        // emit one shared out-of-line copy that softmax and GELU then called per vector
        // instead of inlining (attention 5x slower).
        @inline(__always) func clamp127(_ x: V) -> V {
            x.replacing(with: 127, where: x .> 127).replacing(with: -127, where: x .< -127)
        }
        var bestError = Float.infinity, bestStep: Float = 0, bestLo = V(), bestHi = V()
        for k in -10...10 {
            let inverse = (127 + 0.5 * Float(k)) / largest
            let tl = clamp127(VectorMath.roundToNearest(lo * inverse))
            let th = clamp127(VectorMath.roundToNearest(hi * inverse))
            let qq = (tl * tl + th * th).sum()
            guard qq > 0 else { continue }
            let step = (lo * tl + hi * th).sum() / qq
            let el = lo - step * tl, eh = hi - step * th
            let error = (el * el + eh * eh).sum()
            if error < bestError { bestError = error; bestStep = step; bestLo = tl; bestHi = th }
        }
        for i in 0..<16 { q[i] = Int8(bestLo[i]); q[i + 16] = Int8(bestHi[i]) }
        scale.pointee = bestStep
    }

    /// y [rows, outputs] from quantized rows [rows, inputs] and their block scales.
    public static func apply(_ w: Q8Weights, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>, rows: Int,
                             into y: UnsafeMutablePointer<Float>, path: Path = best) {
        product(w, x: nil, q: q, scales: scales, rows: rows, into: y, path: path)
    }

    private static func product(_ w: Q8Weights, x: UnsafePointer<Float>?, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>,
                                rows: Int, into y: UnsafeMutablePointer<Float>, path: Path) {
        // Without float columns (count 0) the C code reads neither `columns` nor `cw`.
        let count = x == nil ? 0 : Int32(w.floatColumns.count)
        func call(bias: UnsafePointer<Float>?) {
            w.floatColumnIndices.withUnsafeBufferPointer { columns in
                w.floatWeights.withUnsafeBufferPointer { cw in
                    fit_q8_product(w.packed, Int32(w.outputs), Int32(w.inputs), q, scales, Int32(rows), bias, x,
                                   columns.baseAddress, count, cw.baseAddress, y, path.rawValue)
                }
            }
        }
        // An empty array's base address need not be nil, so no bias is an explicit nil.
        if let bias = w.bias { bias.withUnsafeBufferPointer { call(bias: $0.baseAddress) } } else { call(bias: nil) }
    }
}
