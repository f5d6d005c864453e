/// LayerNorm over the last dimension (PyTorch's eps 1e-5).
enum LayerNorm {
    static let eps: Float = 1e-5

    static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                        inp: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, batch B: Int, channels C: Int) {
        for r in 0..<B {
            let x = inp + r * C, y = out + r * C
            var m: Float = 0
            for c in 0..<C { m += x[c] }
            m /= Float(C)
            var v: Float = 0
            for c in 0..<C { let d = x[c] - m; v += d * d }
            v /= Float(C)
            let s = 1 / (v + eps).squareRoot()
            for c in 0..<C { y[c] = (x[c] - m) * s * gamma[c] + beta[c] }
            mean[r] = m
            rstd[r] = s
        }
    }

    static func backward(dinp: UnsafeMutablePointer<Float>, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
                         dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                         mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, batch B: Int, channels C: Int) {
        for r in 0..<B {
            let x = inp + r * C, dy = dout + r * C, dx = dinp + r * C
            var meanD: Float = 0, meanDX: Float = 0
            for c in 0..<C {
                let xhat = (x[c] - mean[r]) * rstd[r]
                let d = dy[c] * gamma[c]
                meanD += d
                meanDX += d * xhat
                dbeta[c] += dy[c]
                dgamma[c] += dy[c] * xhat
            }
            meanD /= Float(C)
            meanDX /= Float(C)
            for c in 0..<C {
                let xhat = (x[c] - mean[r]) * rstd[r]
                dx[c] = (dy[c] * gamma[c] - meanD - xhat * meanDX) * rstd[r]
            }
        }
    }
}
