import Foundation

/// Y[rows, outputs] = X[rows, inputs] · Wᵀ + b, where every output element is computed by
/// the same sequence of operations whatever the row's neighbours, its position, the number
/// of rows or the thread count: y = b, then y = fma(x[k], w[k], y) for k = 0, 1, ... in order
/// (with `accumulate`, y starts from its stored value instead of b).
///
/// Why not sgemm: OpenBLAS's kernels compute a row differently depending on where it falls
/// in their micro-tiles (on Zen/Haswell, rows 0-5 and 6-11 of each 12-row tile differ in the
/// last bit, and tail tiles differ again), and the int8 rounding before every product turns
/// a last-bit difference into a whole step. A text's vector then depended on which texts
/// shared its batch. Here the arithmetic of a row is fixed by this code alone, so it is also
/// the same on every x86-64 CPU that runs this binary (AVX2 and FMA; FMA rounds once, as
/// IEEE 754 defines it). Speed on the encoder's shapes is within a few percent of OpenBLAS
/// single-threaded (docs/encoder.md).
///
/// Blocking: the inputs are cut into chunks of `inputBlock` (partial sums stored between
/// chunks are exact float32, so the order of operations is unchanged) and the rows into
/// blocks of `rowBlock`, packed [tiles][k][6] so that one 6-row tile's k-th column is six
/// consecutive floats. The micro-kernel keeps a 6 x 16 tile of Y in twelve 8-lane registers.
public enum RowInvariantProduct {
    typealias V8 = SIMD8<Float>
    static let tileRows = 6
    static let inputBlock = 384
    static let rowBlock = 96

    /// Per-thread scratch: the packed row block and one 6 x 16 tile for partial edges.
    public final class Workspace: @unchecked Sendable {
        let packed: UnsafeMutablePointer<Float>
        let edge: UnsafeMutablePointer<Float>
        public init() {
            packed = .allocate(capacity: (RowInvariantProduct.rowBlock + RowInvariantProduct.tileRows) * RowInvariantProduct.inputBlock)
            edge = .allocate(capacity: RowInvariantProduct.tileRows * PackedWeights.panelWidth)
        }
        deinit { packed.deallocate(); edge.deallocate() }
    }

    /// Y = X · Wᵀ + b (or, `accumulate`, Y += X · Wᵀ) on the calling thread. x is
    /// [rows, w.inputs] with row stride `w.inputs`; y is [rows, w.outputs] with row stride
    /// `w.outputs`.
    public static func apply(_ w: PackedWeights, to x: UnsafePointer<Float>, rows: Int,
                             into y: UnsafeMutablePointer<Float>, workspace: Workspace, accumulate: Bool = false) {
        let K = w.inputs, N = w.outputs, width = PackedWeights.panelWidth
        var k0 = 0
        while k0 < K {
            let kc = min(inputBlock, K - k0)
            var m0 = 0
            while m0 < rows {
                let mc = min(rowBlock, rows - m0)
                let tiles = (mc + tileRows - 1) / tileRows
                pack(x + m0 * K + k0, rows: mc, stride: K, columns: kc, tiles: tiles, into: workspace.packed)
                for p in 0..<w.panelCount {
                    let b = w.panels + p * K * width + k0 * width
                    let bias = w.bias + p * width
                    let columns = min(width, N - p * width)
                    for t in 0..<tiles {
                        let a = workspace.packed + t * kc * tileRows
                        let r0 = m0 + t * tileRows
                        let tileRowCount = min(tileRows, rows - r0)
                        let target = y + r0 * N + p * width
                        let start = k0 == 0 && !accumulate ? bias : nil
                        if tileRowCount == tileRows && columns == width {
                            kernel(kc, a, b, bias: start, target, rowStride: N)
                        } else {
                            // A partial tile goes through the same kernel in a scratch tile; the
                            // rows and columns past the edge are computed from zeros and dropped.
                            let edge = workspace.edge
                            if start == nil {
                                for r in 0..<tileRowCount { (edge + r * width).update(from: target + r * N, count: columns) }
                            }
                            kernel(kc, a, b, bias: start, edge, rowStride: width)
                            for r in 0..<tileRowCount { (target + r * N).update(from: edge + r * width, count: columns) }
                        }
                    }
                }
                m0 += mc
            }
            k0 += kc
        }
    }

    /// `apply` with the rows split into one contiguous share per workspace, run in parallel.
    /// The split changes no result (every row is computed the same way wherever it falls).
    public static func applyInParallel(_ w: PackedWeights, to x: UnsafePointer<Float>, rows: Int,
                                       into y: UnsafeMutablePointer<Float>, workspaces: [Workspace], accumulate: Bool = false) {
        let shares = max(1, min(workspaces.count, rows / (2 * tileRows)))
        if shares == 1 {
            apply(w, to: x, rows: rows, into: y, workspace: workspaces[0], accumulate: accumulate)
            return
        }
        let per = (rows + shares - 1) / shares
        let job = _UncheckedSendable { (s: Int) in
            let start = s * per
            guard start < rows else { return }
            apply(w, to: x + start * w.inputs, rows: min(per, rows - start), into: y + start * w.outputs,
                  workspace: workspaces[s], accumulate: accumulate)
        }
        DispatchQueue.concurrentPerform(iterations: shares) { job.value($0) }
    }

    /// Copies x[rows, columns] (row stride `stride`) into [tiles][columns][6], zero-filling the
    /// rows of the last tile past `rows`.
    @inline(__always)
    static func pack(_ x: UnsafePointer<Float>, rows: Int, stride: Int, columns: Int, tiles: Int,
                     into out: UnsafeMutablePointer<Float>) {
        for t in 0..<tiles {
            let tile = out + t * columns * tileRows
            for r in 0..<tileRows {
                let row = t * tileRows + r
                if row < rows {
                    let source = x + row * stride
                    for k in 0..<columns { tile[k * tileRows + r] = source[k] }
                } else {
                    for k in 0..<columns { tile[k * tileRows + r] = 0 }
                }
            }
        }
    }

    /// One 6 x 16 tile: c = bias (first input block) or c as stored (later blocks), then
    /// c[r][j] = fma(a[k][r], b[k][j], c[r][j]) for k in 0..<kc.
    @inline(__always)
    static func kernel(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                       _ c: UnsafeMutablePointer<Float>, rowStride: Int) {
        let rc = UnsafeMutableRawPointer(c)
        let s = rowStride * 4
        var c00: V8, c01: V8, c10: V8, c11: V8, c20: V8, c21: V8, c30: V8, c31: V8, c40: V8, c41: V8, c50: V8, c51: V8
        if let bias {
            let rb = UnsafeRawPointer(bias)
            let b0 = rb.loadUnaligned(as: V8.self), b1 = rb.loadUnaligned(fromByteOffset: 32, as: V8.self)
            c00 = b0; c10 = b0; c20 = b0; c30 = b0; c40 = b0; c50 = b0
            c01 = b1; c11 = b1; c21 = b1; c31 = b1; c41 = b1; c51 = b1
        } else {
            c00 = rc.loadUnaligned(as: V8.self); c01 = rc.loadUnaligned(fromByteOffset: 32, as: V8.self)
            c10 = rc.loadUnaligned(fromByteOffset: s, as: V8.self); c11 = rc.loadUnaligned(fromByteOffset: s + 32, as: V8.self)
            c20 = rc.loadUnaligned(fromByteOffset: 2 * s, as: V8.self); c21 = rc.loadUnaligned(fromByteOffset: 2 * s + 32, as: V8.self)
            c30 = rc.loadUnaligned(fromByteOffset: 3 * s, as: V8.self); c31 = rc.loadUnaligned(fromByteOffset: 3 * s + 32, as: V8.self)
            c40 = rc.loadUnaligned(fromByteOffset: 4 * s, as: V8.self); c41 = rc.loadUnaligned(fromByteOffset: 4 * s + 32, as: V8.self)
            c50 = rc.loadUnaligned(fromByteOffset: 5 * s, as: V8.self); c51 = rc.loadUnaligned(fromByteOffset: 5 * s + 32, as: V8.self)
        }
        let rb = UnsafeRawPointer(b)
        var ap = a
        for k in 0..<kc {
            let b0 = rb.loadUnaligned(fromByteOffset: k * 64, as: V8.self)
            let b1 = rb.loadUnaligned(fromByteOffset: k * 64 + 32, as: V8.self)
            var x = V8(repeating: ap[0]); c00 = c00.addingProduct(x, b0); c01 = c01.addingProduct(x, b1)
            x = V8(repeating: ap[1]); c10 = c10.addingProduct(x, b0); c11 = c11.addingProduct(x, b1)
            x = V8(repeating: ap[2]); c20 = c20.addingProduct(x, b0); c21 = c21.addingProduct(x, b1)
            x = V8(repeating: ap[3]); c30 = c30.addingProduct(x, b0); c31 = c31.addingProduct(x, b1)
            x = V8(repeating: ap[4]); c40 = c40.addingProduct(x, b0); c41 = c41.addingProduct(x, b1)
            x = V8(repeating: ap[5]); c50 = c50.addingProduct(x, b0); c51 = c51.addingProduct(x, b1)
            ap += tileRows
        }
        rc.storeBytes(of: c00, as: V8.self); rc.storeBytes(of: c01, toByteOffset: 32, as: V8.self)
        rc.storeBytes(of: c10, toByteOffset: s, as: V8.self); rc.storeBytes(of: c11, toByteOffset: s + 32, as: V8.self)
        rc.storeBytes(of: c20, toByteOffset: 2 * s, as: V8.self); rc.storeBytes(of: c21, toByteOffset: 2 * s + 32, as: V8.self)
        rc.storeBytes(of: c30, toByteOffset: 3 * s, as: V8.self); rc.storeBytes(of: c31, toByteOffset: 3 * s + 32, as: V8.self)
        rc.storeBytes(of: c40, toByteOffset: 4 * s, as: V8.self); rc.storeBytes(of: c41, toByteOffset: 4 * s + 32, as: V8.self)
        rc.storeBytes(of: c50, toByteOffset: 5 * s, as: V8.self); rc.storeBytes(of: c51, toByteOffset: 5 * s + 32, as: V8.self)
    }
}

/// A closure handed to concurrent workers that touch disjoint memory.
struct _UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
