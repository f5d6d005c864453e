import Dispatch
import Foundation

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
                        let buffers = _AdamWBuffers(p: p.baseAddress!, m: m.baseAddress!, v: v.baseAddress!, g: g.baseAddress!)
                        let count = p.count
                        // Element-wise, so splitting the buffer between threads changes no result;
                        // the step is memory-bound and a second core nearly halves it.
                        let chunks = count >= 1 << 16 ? max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8)) : 1
                        DispatchQueue.concurrentPerform(iterations: chunks) { c in
                            let (p, m, v, g) = (buffers.p, buffers.m, buffers.v, buffers.g)
                            for i in (count * c / chunks)..<(count * (c + 1) / chunks) {
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
}


/// The four buffers of one AdamW step, shared by its threads, which touch disjoint ranges.
struct _AdamWBuffers: @unchecked Sendable {
    let p: UnsafeMutablePointer<Float>
    let m: UnsafeMutablePointer<Float>
    let v: UnsafeMutablePointer<Float>
    let g: UnsafePointer<Float>
}
