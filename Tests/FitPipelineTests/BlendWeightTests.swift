import FitFormats
import Foundation
@testable import FitPipeline
import Testing

@Suite struct BlendWeightTests {
    /// A member that predicts the labels exactly takes all the weight from one that is noise;
    /// equal weighting gives each the same.
    @Test func leastSquaresFindsTheExactMemberAndStaysNonNegative() {
        var rng = SystemRandomNumberGenerator()
        let y = (0..<200).map { _ in Double.random(in: 0...10, using: &rng) }
        let noise = (0..<200).map { _ in Double.random(in: 0...10, using: &rng) }
        let anti = y.map { 10 - $0 }
        let w = Blend.weights([noise, y, anti], y, rows: Array(0..<200), weighting: .fit)
        #expect(abs(w[1] - 1) < 1e-6 && abs(w[0]) < 1e-6 && abs(w[2]) < 1e-6, "\(w)")
        #expect(w.allSatisfy { $0 >= 0 })
        #expect(Blend.weights([noise, y], y, rows: [0, 1, 2], weighting: .mean) == [0.5, 0.5])
    }

    /// Two members with independent errors of the same size: the fitted blend is better than
    /// either, with about equal weights.
    @Test func independentErrorsAverageOut() {
        var g = SplitMix64(seed: 7)
        let y = (0..<2000).map { _ in g.nextUnit() * 10 }
        let a = y.map { $0 + g.nextGaussian() }, b = y.map { $0 + g.nextGaussian() }
        let w = Blend.weights([a, b], y, rows: Array(y.indices), weighting: .fit)
        let blended = y.indices.map { w[0] * a[$0] + w[1] * b[$0] }
        let all = Array(y.indices)
        #expect(Blend.rmse(blended, y, all) < 0.8 * min(Blend.rmse(a, y, all), Blend.rmse(b, y, all)))
        #expect(abs(w[0] - w[1]) < 0.1, "\(w)")
    }
}
