/// BatchNorm1d over the batch dimension, as PyTorch defines it: training normalizes with the
/// batch mean and biased variance and moves the running statistics toward the batch's
/// (running variance uses the unbiased estimate); evaluation uses the running statistics.
enum BatchNorm {
    static let eps: Float = 1e-5

    /// `mean`/`rstd` are the cache for backward (training mode only).
    static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                        mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                        runningMean: UnsafeMutablePointer<Float>, runningVar: UnsafeMutablePointer<Float>,
                        batch B: Int, channels C: Int, training: Bool, momentum: Float = 0.1) {
        if training {
            for c in 0..<C { mean[c] = 0 }
            for r in 0..<B { let row = inp + r * C; for c in 0..<C { mean[c] += row[c] } }
            for c in 0..<C { mean[c] /= Float(B) }
            for c in 0..<C { rstd[c] = 0 }
            for r in 0..<B { let row = inp + r * C; for c in 0..<C { let d = row[c] - mean[c]; rstd[c] += d * d } }
            for c in 0..<C {
                let variance = rstd[c] / Float(B)
                runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean[c]
                let unbiased = B > 1 ? variance * Float(B) / Float(B - 1) : variance
                runningVar[c] = (1 - momentum) * runningVar[c] + momentum * unbiased
                rstd[c] = 1 / (variance + eps).squareRoot()
            }
            for r in 0..<B {
                let x = inp + r * C, y = out + r * C
                for c in 0..<C { y[c] = (x[c] - mean[c]) * rstd[c] * gamma[c] + beta[c] }
            }
        } else {
            for r in 0..<B {
                let x = inp + r * C, y = out + r * C
                for c in 0..<C { y[c] = (x[c] - runningMean[c]) / (runningVar[c] + eps).squareRoot() * gamma[c] + beta[c] }
            }
        }
    }

    /// dinp from dout through the batch statistics; accumulates dgamma and dbeta. `sum1` and
    /// `sum2` are C floats of scratch.
    static func backward(dinp: UnsafeMutablePointer<Float>, dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
                         dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                         mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                         sum1 s1: UnsafeMutablePointer<Float>, sum2 s2: UnsafeMutablePointer<Float>, batch B: Int, channels C: Int) {
        // Per channel: s1 = Σ dxhat, s2 = Σ dxhat · xhat; dx = rstd (dxhat - s1/B - xhat s2/B).
        s1.update(repeating: 0, count: C)
        s2.update(repeating: 0, count: C)
        for r in 0..<B {
            let x = inp + r * C, dy = dout + r * C
            for c in 0..<C {
                let xhat = (x[c] - mean[c]) * rstd[c]
                dbeta[c] += dy[c]
                dgamma[c] += dy[c] * xhat
                let dxhat = dy[c] * gamma[c]
                s1[c] += dxhat
                s2[c] += dxhat * xhat
            }
        }
        let invB = 1 / Float(B)
        for r in 0..<B {
            let x = inp + r * C, dy = dout + r * C, dx = dinp + r * C
            for c in 0..<C {
                let xhat = (x[c] - mean[c]) * rstd[c]
                dx[c] = rstd[c] * (dy[c] * gamma[c] - s1[c] * invB - xhat * s2[c] * invB)
            }
        }
    }
}
