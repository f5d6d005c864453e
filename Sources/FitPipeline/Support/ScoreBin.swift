/// The whole score 0...10 nearest a score, for histograms. Clamped before the conversion to
/// `Int`, so a prediction far outside the scale (or a damaged one) cannot trap it.
enum ScoreBin {
    static func of(_ score: Double) -> Int {
        guard score.isFinite else { return score > 0 ? 10 : 0 }
        return Int(min(10, max(0, score.rounded())))
    }

    static func of(_ score: Float) -> Int { of(Double(score)) }
}
