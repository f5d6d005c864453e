/// AdamW (Loshchilov and Hutter) over the flat parameter buffer, as PyTorch computes it:
/// decoupled weight decay p ← p (1 - lr λ), then the bias-corrected Adam step.
public struct AdamW: Sendable {
    public var learningRate: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var weightDecay: Float
    var m: [Float]
    var v: [Float]
    public private(set) var step = 0

    public init(count: Int, learningRate: Float = 1e-3, weightDecay: Float = 1e-5) {
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
    }

    public mutating func update(_ parameters: inout [Float], _ gradients: [Float]) {
        precondition(parameters.count == m.count && gradients.count == m.count)
        step += 1
        let c1 = 1 - Float(Foundation.pow(Double(beta1), Double(step)))
        let c2 = 1 - Float(Foundation.pow(Double(beta2), Double(step)))
        let lr = learningRate, decay = 1 - learningRate * weightDecay
        let (b1, b2, eps) = (beta1, beta2, eps)
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                parameters.withUnsafeMutableBufferPointer { p in
                    gradients.withUnsafeBufferPointer { g in
                        for i in 0..<p.count {
                            p[i] *= decay
                            m[i] = b1 * m[i] + (1 - b1) * g[i]
                            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                            let mhat = m[i] / c1
                            let denominator = (v[i] / c2).squareRoot() + eps
                            p[i] -= lr * mhat / denominator
                        }
                    }
                }
            }
        }
    }
}

import Foundation
