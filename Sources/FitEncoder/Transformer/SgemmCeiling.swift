import Foundation

/// The speed our forward pass could reach if it did nothing but its dense matrix products:
/// per token, one layer multiplies by Q/K/V (3H x H), the attention output (H x H) and the
/// two feed-forward matrices (FF x H, H x FF). This times exactly those sgemm calls, as
/// `linear` issues them, on a packed batch of `tokens` rows.
public enum SgemmCeiling {
    public static func tokensPerSecond(hidden H: Int = 384, ffn FF: Int = 1536, layers: Int = 12,
                                       tokens T: Int = 8192, threads: Int, repeats: Int = 3) -> Double {
        Threads.configure(threads)
        let x = [Float](repeating: 0.01, count: T * FF)
        var y = [Float](repeating: 0, count: T * max(3 * H, FF))
        let shapes = [(3 * H, H), (H, H), (FF, H), (H, FF)]
        let weights = shapes.map { [Float](repeating: 0.02, count: $0.0 * $0.1) }
        let biases = shapes.map { [Float](repeating: 0, count: $0.0) }
        func pass() {
            x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in
                    for (i, (outputs, inputs)) in shapes.enumerated() {
                        weights[i].withUnsafeBufferPointer { w in
                            biases[i].withUnsafeBufferPointer { b in
                                Kernels.linear(x.baseAddress!, rows: T, inputs: inputs, w.baseAddress!, b.baseAddress!,
                                               outputs: outputs, into: y.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        pass()  // warm up
        let start = Date()
        for _ in 0..<(repeats * layers) { pass() }
        let perModel = Date().timeIntervalSince(start) / Double(repeats)
        return Double(T) / perModel
    }
}
