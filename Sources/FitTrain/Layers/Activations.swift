import FitFormats
/// ReLU and inverted dropout.
enum ReLU {
    static func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { out[i] = max(0, inp[i]) }
    }

    /// Gradient through ReLU, using its output (positive where the input was).
    static func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, out: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { dinp[i] = out[i] > 0 ? dout[i] : 0 }
    }
}

enum Dropout {
    /// Keeps each value with probability 1 - p, scaled by 1 / (1 - p); the mask holds the
    /// scale (0 or 1/(1-p)) for backward. p = 0 (or evaluation) copies.
    static func forward(out: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                        count n: Int, p: Float, training: Bool, rng: inout SplitMix64) {
        guard training, p > 0 else {
            for i in 0..<n { out[i] = inp[i]; mask[i] = 1 }
            return
        }
        // Four 16-bit uniforms per random draw: the mask needs p only to 1/65536, and the
        // generator was a visible share of an epoch when it ran once per value.
        let scale = 1 / (1 - p)
        let threshold = UInt64((p * 65536).rounded())
        var i = 0
        while i < n {
            var bits = rng.next()
            for _ in 0..<min(4, n - i) {
                mask[i] = (bits & 0xFFFF) >= threshold ? scale : 0
                out[i] = inp[i] * mask[i]
                bits >>= 16
                i += 1
            }
        }
    }

    static func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, mask: UnsafePointer<Float>, count n: Int) {
        for i in 0..<n { dinp[i] = dout[i] * mask[i] }
    }
}

