import Foundation
@testable import FitPipeline
import Testing

@Suite struct TrainingChoicesTests {
    /// A report of checkpoint `id` whose evaluation holds `nested` (nil: no nested comparison).
    static func report(id: Int64, nested: TrainModel.NestedBagging?) throws -> TrainModel.Report {
        var evaluation = try JSONDecoder().decode(TrainModel.Evaluation.self, from: Data("{}".utf8))
        evaluation.nestedBagging = nested
        return TrainModel.Report(runID: 1, checkpointID: id, model: .boosted, profile: "real-only", trainRows: 10, syntheticRows: 0,
                                 evaluation: evaluation, seconds: 0)
    }

    /// The learner comparison weighs each candidate as it is kept (the end-to-end learner test
    /// runs without the nested bag, for suite time, so the nested side is checked here): a kept
    /// bag by its nested bag's per-fold numbers, a bag left out by the one model's, each naming
    /// the checkpoint; a nested comparison stored without per-fold numbers gives no candidate
    /// (its fold models would be weighed against the other's bag); no nested comparison, the
    /// fold models.
    @Test func asKeptWeighsTheBagOrTheOneModelAsKept() throws {
        let bag: [Float] = [1.0, 2.0, 3.0], single: [Float] = [1.5, 2.5, 3.5]
        var nested = TrainModel.NestedBagging(bagRMSE: 2.1, singleRMSE: 2.6, kept: true, bagFoldRMSE: bag, singleFoldRMSE: single)
        let keptBag = try #require(TrainingChoices.asKept(try Self.report(id: 7, nested: nested), label: "default"))
        #expect(keptBag.checkpoint == 7 && keptBag.foldRMSE == bag.map(Double.init) && keptBag.cvRMSE == Double(Float(2.1)))
        #expect(keptBag.label == "default, bag of fold models (nested CV)")
        nested.kept = false
        let keptOne = try #require(TrainingChoices.asKept(try Self.report(id: 8, nested: nested), label: "wide"))
        #expect(keptOne.checkpoint == 8 && keptOne.foldRMSE == single.map(Double.init) && keptOne.cvRMSE == Double(Float(2.6)))
        #expect(keptOne.label == "wide, one model (nested CV)")
        nested.bagFoldRMSE = nil
        nested.singleFoldRMSE = nil
        #expect(TrainingChoices.asKept(try Self.report(id: 9, nested: nested), label: "old") == nil)
        let plain = try #require(TrainingChoices.asKept(try Self.report(id: 10, nested: nil), label: "unbagged"))
        #expect(plain.checkpoint == 10 && plain.label == "unbagged" && plain.foldRMSE.isEmpty)
    }

    /// NoiseRule's verdict in words: a gain beyond one standard error is kept ("beats its
    /// noise"), a difference within it is a tie, and a loss beyond it is reported as one (the
    /// extra-columns choice on mixed once printed a gain of -0.0512 +- 0.0113 as "within its
    /// noise"). Fold RMSEs chosen so the paired gains are exact in binary: 1/8 steps.
    @Test func verdictWordsSayWhatTheFoldsShow() {
        let simple = [2.0, 2.0, 2.0, 2.0]
        let better = NoiseRule.judge(simple: simple, complex: [1.875, 1.75, 1.875, 1.75])
        #expect(better.keepComplex && better.finding == "beats its noise")
        let worse = NoiseRule.judge(simple: simple, complex: [2.125, 2.25, 2.125, 2.25])
        #expect(!worse.keepComplex && worse.meanGain < -worse.standardError && worse.finding == "worse beyond its noise")
        #expect(worse.summary.hasSuffix(": worse beyond its noise"), "\(worse.summary)")
        let tie = NoiseRule.judge(simple: simple, complex: [1.875, 2.25, 1.75, 2.125])
        #expect(!tie.keepComplex && abs(tie.meanGain) <= tie.standardError && tie.finding == "within its noise")
        // A small loss within its noise is a tie too, not a loss.
        let smallLoss = NoiseRule.judge(simple: simple, complex: [2.25, 1.875, 2.125, 1.875])
        #expect(smallLoss.meanGain < 0 && smallLoss.finding == "within its noise")
        // Fewer than two finite folds: no standard error, the simpler variant, and a tie.
        let one = NoiseRule.judge(simple: [2.0], complex: [3.0])
        #expect(!one.keepComplex && one.finding == "within its noise")
    }
}
