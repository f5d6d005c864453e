import CFitKernels
import CFitSystem
import FitNumerics
import Foundation

/// The speed our forward pass could reach if it did nothing but its dense matrix products:
/// per token, one layer multiplies by Q/K/V (3H x H), the attention output (H x H) and the
/// two feed-forward matrices (FF x H, H x FF). `sgemm` times OpenBLAS on those shapes, the
/// rows of a packed batch split across the threads in one call each: the best-tuned product
/// kernel on this CPU, the ceiling bench/encoder reports against. `rowInvariant` times our
/// own kernel (`RowInvariantProduct`) the way the encoder calls it, in blocks of rows, so
/// the two numbers say what the invariance costs in the products alone. `int8` times the
/// int8 product (`Q8Product`) on one path the same way, its activations already rounded (the
/// encoder rounds them for the float path too).
public enum ProductCeiling {
    public enum Kernel: Sendable, Equatable { case sgemm, rowInvariant, int8(Q8Product.Path) }

    /// OpenBLAS is not on this machine (the binary does not need it for anything else).
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    public static func tokensPerSecond(_ kernel: Kernel, hidden H: Int = 384, ffn FF: Int = 1536, layers: Int = 12,
                                       tokens T: Int = 8192, threads: Int, repeats: Int = 3) throws -> Double {
        if kernel == .sgemm {
            var reason = [CChar](repeating: 0, count: 512)
            if fitstore_openblas_load(&reason, reason.count) != 0 {
                throw Unavailable(description: String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        Threads.configure(threads)
        let x = [Float](repeating: 0.01, count: T * FF)
        var y = [Float](repeating: 0, count: T * max(3 * H, FF))
        let shapes = [(3 * H, H), (H, H), (FF, H), (H, FF)]
        let weights = shapes.map { [Float](repeating: 0.02, count: $0.0 * $0.1) }
        let biases = shapes.map { [Float](repeating: 0, count: $0.0) }
        let packed = shapes.enumerated().map { i, shape in
            PackedWeights(weights[i], bias: biases[i], outputs: shape.0, inputs: shape.1)
        }
        let quantized = shapes.enumerated().map { i, shape -> Q8Weights? in
            guard case .int8 = kernel else { return nil }
            return try? Q8Weights(quantizing: weights[i], outputs: shape.0, inputs: shape.1, bias: biases[i])
        }
        // The rounded rows, in buffers of their own (the workers read them through pointers).
        let (q, s) = Q8Product.quantize(x, rows: T, width: FF)
        let qx = UnsafeMutablePointer<Int8>.allocate(capacity: q.count), sx = UnsafeMutablePointer<Float>.allocate(capacity: s.count)
        qx.initialize(from: q, count: q.count)
        sx.initialize(from: s, count: s.count)
        defer { qx.deallocate(); sx.deallocate() }
        let rowsPerBlock = TransformerEncoder.rowsPerBlock(T, workers: threads)
        let spaces = (0..<threads).map { _ in RowInvariantProduct.Workspace() }
        func pass() {
            x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in
                    for (i, (outputs, inputs)) in shapes.enumerated() {
                        switch kernel {
                        case .sgemm:
                            weights[i].withUnsafeBufferPointer { w in
                                biases[i].withUnsafeBufferPointer { b in
                                    sgemmRows(x.baseAddress!, rows: T, inputs: inputs, w.baseAddress!, b.baseAddress!,
                                              outputs: outputs, into: y.baseAddress!)
                                }
                            }
                        case .rowInvariant, .int8:
                            let blocks = (T + rowsPerBlock - 1) / rowsPerBlock
                            let workers = min(threads, blocks)
                            Kernels.parallelFor(workers) { worker in
                                var block = worker
                                while block < blocks {
                                    let start = block * rowsPerBlock, n = min(rowsPerBlock, T - start)
                                    if case .int8(let path) = kernel, let w = quantized[i] {
                                        // The quantized input's rows are FF wide; a product reads the first `inputs` of
                                        // each as if they were the row (the values do not matter for the time).
                                        Q8Product.apply(w, q: qx + start * inputs, scales: sx + start * inputs / 32,
                                                        rows: n, into: y.baseAddress! + start * outputs, path: path)
                                    } else {
                                        RowInvariantProduct.apply(packed[i], to: x.baseAddress! + start * inputs, rows: n,
                                                                  into: y.baseAddress! + start * outputs, workspace: spaces[worker])
                                    }
                                    block += workers
                                }
                            }
                        }
                    }
                }
            }
        }
        pass()  // warm up
        let start = Date()
        for _ in 0..<(repeats * layers) { pass() }
        let perModel = Date().timeIntervalSince(start) / Double(repeats)
        return Double(T) / perModel
    }

    /// Multiply-adds per token of the products `tokensPerSecond` times (layers x the four
    /// shapes' outputs x inputs), to turn its tokens/s into the rates `instructionPeaks` gives.
    public static func multiplyAddsPerToken(hidden H: Int = 384, ffn FF: Int = 1536, layers: Int = 12) -> Double {
        Double(layers * (3 * H * H + H * H + FF * H + H * FF))
    }

    /// What the instructions themselves allow with `threads` threads, each timing its own
    /// core at once: 8-lane FMA flops/s, the AVX2 int8 path's step and vpdpbusd in byte
    /// multiply-adds/s (nil without AVX2+FMA, AVX2 or AVX-512 VNNI). A product kernel's rate
    /// over these is how much of the machine it uses; sgemm's over the FMA peak says the same
    /// of OpenBLAS.
    public static func instructionPeaks(threads: Int, seconds: Double = 0.5)
        -> (fmaFlops: Double?, avx2Int8MultiplyAdds: Double?, vnniMultiplyAdds: Double?) {
        Threads.configure(threads)
        let rates = UnsafeMutablePointer<Double>.allocate(capacity: threads)
        defer { rates.deallocate() }
        // The threads' rates summed, each thread timing its own core at the same time.
        func summed(_ peak: (Double) -> Double) -> Double? {
            Kernels.parallelFor(threads) { t in rates[t] = peak(seconds) }
            let total = (0..<threads).reduce(0) { $0 + rates[$1] }
            return total > 0 ? total : nil
        }
        return (summed(fit_peak_fma_flops), summed(fit_peak_avx2_int8_multiply_adds), summed(fit_peak_vnni_multiply_adds))
    }

    /// Y[T, out] = X[T, in] · W[out, in]ᵀ + b, the rows split across our workers, each
    /// running a single-threaded sgemm.
    static func sgemmRows(_ x: UnsafePointer<Float>, rows: Int, inputs: Int,
                          _ w: UnsafePointer<Float>, _ b: UnsafePointer<Float>, outputs: Int,
                          into y: UnsafeMutablePointer<Float>) {
        Kernels.parallelChunks(rows, minimumPerChunk: 32) { range in
            let yr = y + range.lowerBound * outputs
            for r in 0..<range.count { (yr + r * outputs).update(from: b, count: outputs) }
            fitstore_sgemm_nt(Int32(range.count), Int32(outputs), Int32(inputs),
                              1, x + range.lowerBound * inputs, Int32(inputs), w, Int32(inputs), 1, yr, Int32(outputs))
        }
    }
}
