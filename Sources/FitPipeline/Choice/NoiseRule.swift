import Foundation

/// The rule every automatic choice between a simpler and a more complex variant follows (the
/// system prompt block, the bag of fold models, the blend with nearest neighbours, a tune
/// trial against the chosen checkpoint, a blend against its best member):
///
///     keep the more complex variant only when its mean per-fold RMSE gain over the simpler
///     one, on the same folds, is larger than the standard error of that gain across folds.
///
/// Why: the two variants are scored on the same K folds, so their per-fold differences are
/// paired and the fold-to-fold spread of the difference is the noise of the comparison (it
/// includes what the split itself does to both). A gain smaller than one standard error of
/// itself is a gain a different split could reverse; the rule keeps such a tie with the
/// simpler variant, which costs less and was already the default. (One standard error, not
/// two: the variants are few and each was proposed because it often helps; docs/trainer.md
/// shows what the rule decided on every shared task, by CV and by the held-out labels.)
public enum NoiseRule {
    public static let words = "kept only when its mean per-fold RMSE gain over the simpler variant exceeds the standard error of that gain across the folds"

    public struct Verdict: Sendable, Equatable {
        /// Mean over folds of (simpler RMSE - complex RMSE): positive when the complex one is better.
        public var meanGain: Double
        /// The standard error of that mean (sample standard deviation / sqrt(folds)).
        public var standardError: Double
        public var keepComplex: Bool

        /// What the comparison found, in words: the more complex variant beats its noise, is
        /// within it (a tie, kept with the simpler one), or is worse beyond it (a loss: saying
        /// "within its noise" of a gain of -4.5 standard errors would misreport it).
        public var finding: String {
            if keepComplex { return "beats its noise" }
            return meanGain < -standardError ? "worse beyond its noise" : "within its noise"
        }

        public var summary: String {
            String(format: "mean per-fold gain %+.4f, standard error %.4f: %@", meanGain, standardError, finding)
        }
    }

    /// The verdict on per-fold RMSEs of the two variants on the same folds (NaN folds, where a
    /// variant predicted nothing, are left out; fewer than two folds keep the simpler one).
    public static func judge(simple: [Double], complex: [Double]) -> Verdict {
        let gains = zip(simple, complex).map { $0 - $1 }.filter(\.isFinite)
        guard gains.count >= 2 else {
            return Verdict(meanGain: gains.first ?? 0, standardError: .infinity, keepComplex: false)
        }
        let n = Double(gains.count)
        let mean = gains.reduce(0, +) / n
        let variance = gains.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)
        let se = (variance / n).squareRoot()
        return Verdict(meanGain: mean, standardError: se, keepComplex: mean > 0 && mean > se)
    }

    public static func judge(simple: [Float], complex: [Float]) -> Verdict {
        judge(simple: simple.map(Double.init), complex: complex.map(Double.init))
    }
}
