import CFitSystem
import FitNumerics
import Foundation

/// The speed our forward pass could reach if it did nothing but its dense matrix products:
/// per token, one layer multiplies by Q/K/V (3H x H), the attention output (H x H) and the
/// two feed-forward matrices (FF x H, H x FF). `sgemm` times OpenBLAS on those shapes, the
/// rows of a packed batch split across the threads in one call each: the best-tuned product
/// kernel on this CPU, the ceiling bench/encoder reports against. `rowInvariant` times our
/// own kernel (`RowInvariantProduct`) the way the encoder calls it, in blocks of rows, so
/// the two numbers say what the invariance costs in the products alone.
public enum ProductCeiling {
    public enum Kernel: Sendable { case sgemm, rowInvariant }

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
        let rowsPerBlock = TransformerEncoder.maximumRowsPerBlock
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
                        case .rowInvariant:
                            let blocks = (T + rowsPerBlock - 1) / rowsPerBlock
                            let workers = min(threads, blocks)
                            Kernels.parallelFor(workers) { worker in
                                var block = worker
                                while block < blocks {
                                    let start = block * rowsPerBlock
                                    RowInvariantProduct.apply(packed[i], to: x.baseAddress! + start * inputs,
                                                              rows: min(rowsPerBlock, T - start),
                                                              into: y.baseAddress! + start * outputs, workspace: spaces[worker])
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
