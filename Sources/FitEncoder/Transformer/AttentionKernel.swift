/// Scaled dot-product attention of one sequence and one head, in our own loops so that, like
/// `RowInvariantProduct`, the arithmetic is fixed by this code: every score is the fma chain
/// of q·k over the head's dimensions in order, then times the scale; every context value the
/// fma chain of p·v over the keys in order. (A sequence's attention never depended on other
/// sequences, but sgemm's kernels differ between CPUs; these loops make a vector the same
/// on every x86-64 machine.)
enum AttentionKernel {
    typealias V8 = SIMD8<Float>

    /// Per-thread buffers, grown to the longest sequence seen.
    final class Workspace {
        private(set) var keys: UnsafeMutablePointer<Float>  // [paddedLength / 16][headDim][16]
        private(set) var values: UnsafeMutablePointer<Float>  // [length][headDim]
        private(set) var scores: UnsafeMutablePointer<Float>  // [length][paddedLength]
        private var keyCapacity = 0, valueCapacity = 0, scoreCapacity = 0

        init() {
            keys = .allocate(capacity: 1)
            values = .allocate(capacity: 1)
            scores = .allocate(capacity: 1)
        }

        func reserve(headDim: Int, length: Int) {
            let padded = AttentionKernel.padded(length)
            if headDim * padded > keyCapacity {
                keys.deallocate(); keyCapacity = headDim * padded; keys = .allocate(capacity: keyCapacity)
            }
            if length * headDim > valueCapacity {
                values.deallocate(); valueCapacity = length * headDim; values = .allocate(capacity: valueCapacity)
            }
            if length * padded > scoreCapacity {
                scores.deallocate(); scoreCapacity = length * padded; scores = .allocate(capacity: scoreCapacity)
            }
        }

        deinit { keys.deallocate(); values.deallocate(); scores.deallocate() }
    }

    /// Score rows are padded to a multiple of 16 keys (zero keys past the end), so the score
    /// loop always takes two full vectors.
    @inline(__always)
    static func padded(_ length: Int) -> Int { (length + 15) / 16 * 16 }

    /// context[i] = Σ_j softmax_j(scale · q_i·k_j + bias(i, j)) v_j for i, j < length.
    /// q, k and v rows are `stride` floats apart, as are the context rows; `headDim` is a
    /// multiple of 8. `bias`, when given, adds a term per (query, key) to the scaled score
    /// (MPNet's relative position buckets).
    static func attend(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int,
                       length L: Int, headDim hd: Int, scale: Float, bias: ((Int, Int) -> Float)? = nil,
                       into context: UnsafeMutablePointer<Float>, contextStride: Int, workspace: Workspace) {
        workspace.reserve(headDim: hd, length: L)
        let Lp = padded(L)
        let kt = workspace.keys, s = workspace.scores
        // Keys transposed in blocks of 16, [j / 16][d][16], zero past L, so 8 keys' d-th values
        // are one vector and a 16-key tile's keys are one contiguous run of hd lines. (As one
        // [d][j] matrix, a tile read hd lines a whole row apart: for rows of 256 or 512 keys,
        // 1 or 2 KB, those fell on 4 or 2 of L1's 64 sets and evicted each other. In blocks the
        // score loop took 17% less time alone, on e5-small's lengths of the bench texts, and the
        // built-in file's attention 3% less over 2,000 of them; the same bits.)
        var j0 = 0
        while j0 < Lp {
            let block = kt + j0 * hd, keys = min(16, L - j0)
            for d in 0..<hd {
                let row = block + d * 16
                for j in 0..<keys { row[j] = k[(j0 + j) * stride + d] }
                for j in keys..<16 { row[j] = 0 }
            }
            j0 += 16
        }
        scores(q: q, stride: stride, keys: kt, length: L, padded: Lp, headDim: hd, scale: scale, into: s)
        if let bias {
            for i in 0..<L { for j in 0..<L { s[i * Lp + j] += bias(i, j) } }
        }
        // The padding keys' scores become -inf, so every row is whole vectors: the softmax of
        // a row then computes what it computed with a partial last vector filled with -inf
        // (the same lanes, the same order: the same bits), without the scalar tail loops.
        if Lp > L {
            for i in 0..<L { for j in L..<Lp { s[i * Lp + j] = -.infinity } }
        }
        Kernels.softmaxRows(s, rows: L, width: Lp, stride: Lp)
        // The head's values side by side. In place, a head's value rows sit a whole token row
        // apart (3 x hidden floats: 4,608 bytes for MiniLM), which maps them onto an eighth of
        // L1's sets, so every pass of query rows fetched them again from L2 (the weighted
        // values' loads waited on those misses). The same values, so the same bits.
        // 8 lanes at a time (headDim is a multiple of 8): a memmove call per 32-float row cost
        // as much as the copy.
        let vh = workspace.values
        for j in 0..<L {
            let from = UnsafeRawPointer(v + j * stride), to = UnsafeMutableRawPointer(vh + j * hd)
            var d = 0
            while d < hd {
                to.storeBytes(of: from.loadUnaligned(fromByteOffset: d &* 4, as: V8.self), toByteOffset: d &* 4, as: V8.self)
                d &+= 8
            }
        }
        weightedValues(s, stride: Lp, values: vh, valueStride: hd, length: L, headDim: hd,
                       into: context, contextStride: contextStride)
    }

    /// s[i][j] = (Σ_d q[i][d] · k[j][d]) · scale, the keys read from kt's blocks of 16, six query
    /// rows and 16 keys at a time: twelve independent fma chains, enough to keep both FMA ports
    /// busy through their latency (eight, with four rows, left them idle part of the time). Each
    /// score is still one chain over d in order from zero, so the row grouping changes no bit.
    private static func scores(q: UnsafePointer<Float>, stride: Int, keys kt: UnsafePointer<Float>, length L: Int,
                               padded Lp: Int, headDim hd: Int, scale: Float, into s: UnsafeMutablePointer<Float>) {
        let rs = UnsafeMutableRawPointer(s)
        var i = 0
        while i < L {
            let rows = min(6, L - i)
            // Rows past the end repeat the last real row; their results are not stored.
            @inline(__always) func row(_ r: Int) -> UnsafePointer<Float> { q + (i + min(r, rows - 1)) * stride }
            let q0 = row(0), q1 = row(1), q2 = row(2), q3 = row(3), q4 = row(4), q5 = row(5)
            var j = 0
            while j < Lp {
                var a0 = V8(), a1 = V8(), a2 = V8(), a3 = V8(), a4 = V8(), a5 = V8()
                var b0 = V8(), b1 = V8(), b2 = V8(), b3 = V8(), b4 = V8(), b5 = V8()
                var k = UnsafeRawPointer(kt + j * hd)
                for d in 0..<hd {
                    let k0 = k.loadUnaligned(as: V8.self), k1 = k.loadUnaligned(fromByteOffset: 32, as: V8.self)
                    var x = V8(repeating: q0[d]); a0 = a0.addingProduct(x, k0); b0 = b0.addingProduct(x, k1)
                    x = V8(repeating: q1[d]); a1 = a1.addingProduct(x, k0); b1 = b1.addingProduct(x, k1)
                    x = V8(repeating: q2[d]); a2 = a2.addingProduct(x, k0); b2 = b2.addingProduct(x, k1)
                    x = V8(repeating: q3[d]); a3 = a3.addingProduct(x, k0); b3 = b3.addingProduct(x, k1)
                    x = V8(repeating: q4[d]); a4 = a4.addingProduct(x, k0); b4 = b4.addingProduct(x, k1)
                    x = V8(repeating: q5[d]); a5 = a5.addingProduct(x, k0); b5 = b5.addingProduct(x, k1)
                    k = k.advanced(by: 64)
                }
                @inline(__always) func store(_ first: V8, _ second: V8, row r: Int) {
                    rs.storeBytes(of: first * scale, toByteOffset: ((i + r) * Lp + j) * 4, as: V8.self)
                    rs.storeBytes(of: second * scale, toByteOffset: ((i + r) * Lp + j + 8) * 4, as: V8.self)
                }
                store(a0, b0, row: 0)
                if rows > 1 { store(a1, b1, row: 1) }
                if rows > 2 { store(a2, b2, row: 2) }
                if rows > 3 { store(a3, b3, row: 3) }
                if rows > 4 { store(a4, b4, row: 4) }
                if rows > 5 { store(a5, b5, row: 5) }
                j += 16
            }
            i += rows
        }
    }

    /// c[i][0..<hd] = Σ_j p[i][j] · v[j][0..<hd], three query rows and 32 dimensions at a time
    /// (then 8 at a time for a head size that is not a multiple of 32).
    private static func weightedValues(_ p: UnsafePointer<Float>, stride Lp: Int, values v: UnsafePointer<Float>,
                                       valueStride: Int, length L: Int, headDim hd: Int,
                                       into c: UnsafeMutablePointer<Float>, contextStride: Int) {
        let rv = UnsafeRawPointer(v), rc = UnsafeMutableRawPointer(c)
        var i = 0
        while i < L {
            let rows = min(3, L - i)
            // Rows past the end repeat the last real row; their results are not stored.
            let p0 = p + i * Lp, p1 = p + (i + min(1, rows - 1)) * Lp, p2 = p + (i + min(2, rows - 1)) * Lp
            var d0 = 0
            while d0 + 32 <= hd {
                var a0 = V8(), a1 = V8(), a2 = V8(), a3 = V8(), b0 = V8(), b1 = V8(), b2 = V8(), b3 = V8()
                var e0 = V8(), e1 = V8(), e2 = V8(), e3 = V8()
                var base = d0 * 4
                for j in 0..<L {
                    let v0 = rv.loadUnaligned(fromByteOffset: base, as: V8.self)
                    let v1 = rv.loadUnaligned(fromByteOffset: base + 32, as: V8.self)
                    let v2 = rv.loadUnaligned(fromByteOffset: base + 64, as: V8.self)
                    let v3 = rv.loadUnaligned(fromByteOffset: base + 96, as: V8.self)
                    var x = V8(repeating: p0[j])
                    a0 = a0.addingProduct(x, v0); a1 = a1.addingProduct(x, v1); a2 = a2.addingProduct(x, v2); a3 = a3.addingProduct(x, v3)
                    x = V8(repeating: p1[j])
                    b0 = b0.addingProduct(x, v0); b1 = b1.addingProduct(x, v1); b2 = b2.addingProduct(x, v2); b3 = b3.addingProduct(x, v3)
                    x = V8(repeating: p2[j])
                    e0 = e0.addingProduct(x, v0); e1 = e1.addingProduct(x, v1); e2 = e2.addingProduct(x, v2); e3 = e3.addingProduct(x, v3)
                    base += valueStride * 4
                }
                @inline(__always) func store(_ r: Int, _ x0: V8, _ x1: V8, _ x2: V8, _ x3: V8) {
                    let out = ((i + r) * contextStride + d0) * 4
                    rc.storeBytes(of: x0, toByteOffset: out, as: V8.self)
                    rc.storeBytes(of: x1, toByteOffset: out + 32, as: V8.self)
                    rc.storeBytes(of: x2, toByteOffset: out + 64, as: V8.self)
                    rc.storeBytes(of: x3, toByteOffset: out + 96, as: V8.self)
                }
                store(0, a0, a1, a2, a3)
                if rows > 1 { store(1, b0, b1, b2, b3) }
                if rows > 2 { store(2, e0, e1, e2, e3) }
                d0 += 32
            }
            while d0 < hd {
                for r in 0..<rows {
                    let pr = p + (i + r) * Lp
                    var acc = V8()
                    var base = d0 * 4
                    for j in 0..<L {
                        acc = acc.addingProduct(V8(repeating: pr[j]), rv.loadUnaligned(fromByteOffset: base, as: V8.self))
                        base += valueStride * 4
                    }
                    rc.storeBytes(of: acc, toByteOffset: ((i + r) * contextStride + d0) * 4, as: V8.self)
                }
                d0 += 8
            }
            i += rows
        }
    }
}
