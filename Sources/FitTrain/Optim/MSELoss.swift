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
}
