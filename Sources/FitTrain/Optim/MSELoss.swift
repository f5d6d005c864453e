/// Mean squared error and its derivative with respect to the predictions.
public enum MSELoss {
    public static func forward(_ predictions: [Float], _ targets: [Float]) -> Float {
        precondition(predictions.count == targets.count && !targets.isEmpty)
        var sum: Double = 0
        for i in 0..<targets.count { let d = Double(predictions[i] - targets[i]); sum += d * d }
        return Float(sum / Double(targets.count))
    }

    public static func backward(_ predictions: [Float], _ targets: [Float]) -> [Float] {
        let scale = 2 / Float(targets.count)
        return (0..<targets.count).map { scale * (predictions[$0] - targets[$0]) }
    }

    /// The loss of `predictions` against the first `predictions.count` targets, and its
    /// gradient written into the first `predictions.count` places of `gradient` (the
    /// trainer's reused buffers: no allocation per step).
    public static func forwardBackward(_ predictions: UnsafeBufferPointer<Float>, _ targets: [Float],
                                       into gradient: inout [Float]) -> Float {
        let n = predictions.count
        let scale = 2 / Float(n)
        var sum: Double = 0
        for i in 0..<n {
            let d = predictions[i] - targets[i]
            sum += Double(d) * Double(d)
            gradient[i] = scale * d
        }
        return Float(sum / Double(n))
    }
}
