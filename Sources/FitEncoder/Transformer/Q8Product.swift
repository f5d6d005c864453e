import CFitKernels

/// A weight matrix in the int8 product's packed form (`fit_q8_pack`): int8 weights with a
/// float scale per 32-input block, grouped 16 outputs at a time for the SIMD paths. It owns
/// the packed bytes (freed with it), as `PackedWeights` owns its panels.
public final class Q8Weights: @unchecked Sendable {
    public let outputs: Int
    public let inputs: Int
    public let bias: [Float]?
    let packed: UnsafeMutableRawPointer

    public struct Refused: Error, CustomStringConvertible {
        public let description: String
    }

    /// weights: row-major int8 [outputs, inputs] in -127...127; scales: [outputs, inputs / 32].
    public init(weights: [Int8], scales: [Float], outputs: Int, inputs: Int, bias: [Float]? = nil) throws {
        guard inputs > 0, inputs % 32 == 0, outputs > 0 else {
            throw Refused(description: "an int8 weight matrix needs inputs in whole blocks of 32 (got \(outputs) x \(inputs))")
        }
        guard weights.count == outputs * inputs, scales.count == outputs * inputs / 32, bias.map({ $0.count == outputs }) ?? true else {
            throw Refused(description: "an int8 weight matrix of \(outputs) x \(inputs) got \(weights.count) weights, \(scales.count) scales")
        }
        guard scales.allSatisfy(\.isFinite) else { throw Refused(description: "an int8 weight matrix has a scale that is not finite") }
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

    /// y [rows, outputs] from quantized rows [rows, inputs] and their block scales.
    public static func apply(_ w: Q8Weights, q: UnsafePointer<Int8>, scales: UnsafePointer<Float>, rows: Int,
                             into y: UnsafeMutablePointer<Float>, path: Path = best) {
        if let bias = w.bias {
            bias.withUnsafeBufferPointer { b in
                fit_q8_product(w.packed, Int32(w.outputs), Int32(w.inputs), q, scales, Int32(rows), b.baseAddress!, y, path.rawValue)
            }
        } else {
            fit_q8_product(w.packed, Int32(w.outputs), Int32(w.inputs), q, scales, Int32(rows), nil, y, path.rawValue)
        }
    }
}
