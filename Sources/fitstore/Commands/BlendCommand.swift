import ArgumentParser
import FitPipeline
import FitStore
import Foundation

extension Blend.Weighting: ExpressibleByArgument {}

struct BlendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blend",
        abstract: "Make a checkpoint that blends earlier checkpoints' predictions, with an honest CV.",
        discussion: """
            The weights come from the members' out-of-fold predictions (kept by every `fitstore train` with CV), so nothing is trained again: --weights fit (the default) fits non-negative weights by least squares, --weights mean gives each member the same weight. The blend's CV is honest: each fold's rows are predicted with weights fitted on the other folds only. The members must have been cross-validated on the same rows (same data set, same real rows), for example two models or two encoders on one store.

            The blend is a checkpoint like the others: `predict` computes each member's predictions and sums them with the weights; `score`, `checkpoints` and the report show it; a blend can be a member of another blend.

            Example:
              fitstore train --encoder e5-small && fitstore train --encoder minilm
              fitstore checkpoints
              fitstore blend 1 2 && fitstore predict
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: ArgumentHelp("The checkpoints to blend (two or more ids).", valueName: "checkpoint")) var members: [Int64]
    @Option(help: "Data set (default: the one ingested last).") var dataset: String?
    @Option(help: ArgumentHelp("fit (non-negative least squares) or mean.", valueName: "how")) var weights: Blend.Weighting = .fit
    @Flag(help: "Make the blend the data set's chosen checkpoint, when it beats its best member beyond its noise.")
    var promote = false

    func run() throws {
        let store = try storeOptions.open()
        let dataset = try DatasetResolver.resolve(store, name: dataset)
        let r = try Blend(store: store).run(dataset: dataset, members: members, weighting: weights)
        print(r.reused ? "the same blend exists: checkpoint \(r.checkpointID)" : "blend: checkpoint \(r.checkpointID)")
        TableFormatter.printTable(columns: ["member", "weight", "its CV RMSE"],
                                  rows: r.members.map { ["\($0.checkpoint)", String(format: "%.4f", $0.weight), $0.cvRMSE.map { String(format: "%.4f", $0) } ?? "–"] },
                                  rightAligned: [0, 1, 2])
        let cv = r.evaluation
        print(String(format: "  %d-fold CV of the blend on %d real rows (weights fitted without each held-out fold):", cv.folds, cv.rows))
        print(String(format: "    RMSE %.4f   per-metric mean %.4f   constant mean %.4f", cv.rmse, cv.perMetricMeanRMSE, cv.constantMeanRMSE))
        if !r.belowFloor.isEmpty {
            print("  a member's weight is below the floor \(Blend.weightFloor): this is not a blend of checkpoint\(r.belowFloor.count > 1 ? "s" : "") "
                  + r.belowFloor.map(String.init).joined(separator: ", "))
        }
        print("  against the best member, checkpoint \(r.bestMember): \(r.verdict.summary): "
              + (r.beatsBestMember ? "the blend is better" : "NOT better than checkpoint \(r.bestMember): keep that one"))
        let recorded = try Choices.record(store: store, dataset: dataset, comparisons: r.comparison.map { [$0] } ?? [],
                                          choose: promote && r.beatsBestMember ? (r.checkpointID, "promoted by `fitstore blend --promote`") : nil)
        if promote && !r.beatsBestMember { print("  not promoted: it does not beat its best member beyond its noise") }
        if let chosen = recorded.chosen { print("  chosen: checkpoint \(chosen.checkpoint)" + (recorded.replaced != nil ? " (promoted now)" : "")) }
    }
}
