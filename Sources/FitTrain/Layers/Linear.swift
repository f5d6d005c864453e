import FitNumerics
import Foundation

/// Fully connected layer on row-major buffers: out[B, O] = inp[B, I] · W[O, I]ᵀ + b[O].
///
/// Every product goes through `RowInvariantProduct`: a row's result is the same whatever
/// rows share its batch and however many threads run, so a score never depends on which
/// other rows were predicted with it, and a trained checkpoint never depends on the thread
/// count (sgemm's kernels computed a row differently by its place in their tiles).
enum Linear {
    /// Reused buffers of the products: the packed operand, a transpose, and one workspace
    /// per thread. A step allocates nothing once the largest shapes have been seen.
    final class Scratch {
        let packed = PackedWeights()
        let workspaces: [RowInvariantProduct.Workspace]
        private(set) var transposed: UnsafeMutablePointer<Float>
        private var capacity = 0

        init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
            workspaces = (0..<max(1, threads)).map { _ in RowInvariantProduct.Workspace() }
            transposed = .allocate(capacity: 1)
        }

        deinit { transposed.deallocate() }

        /// x [rows, columns] transposed into `transposed` [columns, rows].
        func transpose(_ x: UnsafePointer<Float>, rows: Int, columns: Int) -> UnsafePointer<Float> {
            if rows * columns > capacity {
                transposed.deallocate()
                capacity = rows * columns
                transposed = .allocate(capacity: capacity)
            }
            for r in 0..<rows { for c in 0..<columns { transposed[c * rows + r] = x[r * columns + c] } }
            return UnsafePointer(transposed)
        }
    }

    static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, batch B: Int, inputs I: Int, outputs O: Int,
                        scratch: Scratch) {
        scratch.packed.pack(weight, bias: bias, outputs: O, inputs: I)
        RowInvariantProduct.applyInParallel(scratch.packed, to: inp, rows: B, into: out, workspaces: scratch.workspaces)
    }

    /// Accumulates dW += doutᵀ · inp and db += Σ_rows dout; writes dinp = dout · W when asked.
    static func backward(dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                         dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         batch B: Int, inputs I: Int, outputs O: Int, scratch: Scratch) {
        if let dinp {
            // dinp[B, I] = dout[B, O] · W[O, I]: a product with W's transpose as the weights.
            scratch.packed.pack(weight, bias: nil, outputs: I, inputs: O, transposed: true)
            RowInvariantProduct.applyInParallel(scratch.packed, to: dout, rows: B, into: dinp, workspaces: scratch.workspaces)
        }
        // dW[O, I] += doutᵀ[O, B] · inp[B, I]: rows are W's rows, the batch is summed in order.
        scratch.packed.pack(inp, bias: nil, outputs: I, inputs: B, transposed: true)
        let doutT = scratch.transpose(dout, rows: B, columns: O)
        RowInvariantProduct.applyInParallel(scratch.packed, to: doutT, rows: O, into: dweight, workspaces: scratch.workspaces,
                                            accumulate: true)
        for r in 0..<B {
            let row = dout + r * O
            for o in 0..<O { dbias[o] += row[o] }
        }
    }
}
