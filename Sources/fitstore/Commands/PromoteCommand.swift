import ArgumentParser
import FitPipeline
import FitStore
import Foundation

struct PromoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Choose the checkpoint that predict, score and report use for a data set.",
        discussion: """
            Each data set has one chosen checkpoint: `run` chooses its winner, a data set's first checkpoint is chosen when it is trained, and `tune`, `blend` and `train` choose only with --promote. `predict`, `predict --input`, `score` and `report` use the chosen checkpoint unless --checkpoint names another, and say which. Every choice is kept with who made it and when (`SELECT * FROM chosen_checkpoint`).

            Examples:
              fitstore checkpoints          the chosen one is marked, with the best CV
              fitstore promote 7
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: ArgumentHelp("The checkpoint to choose.", valueName: "checkpoint")) var checkpoint: Int64
    @Option(help: "Data set (default: the one ingested last).") var dataset: String?

    func run() throws {
        let store = try storeOptions.open()
        let dataset = try DatasetResolver.resolve(store, name: dataset)
        let recorded = try Choices.promote(store: store, dataset: dataset, checkpoint: checkpoint)
        // One read of the list serves both numbers and both checkpoints' folds.
        let entries = try? CheckpointList(store: store).entries(dataset: dataset)
        let entry = { (id: Int64) in entries?.first { $0.id == id } }
        let cv = { (id: Int64) in entry(id)?.cvRMSE.map { String(format: "CV RMSE %.4f", $0) } ?? "no CV" }
        if let replaced = recorded.replaced {
            let otherFolds = CheckpointList.sameFolds(entry(checkpoint)?.folds, entry(replaced.checkpoint)?.folds) == false
            print("\(dataset): chosen checkpoint \(checkpoint) (\(cv(checkpoint))), replacing \(replaced.checkpoint) (\(cv(replaced.checkpoint)))"
                  + (otherFolds ? "; their CVs are in other folds, not comparable (`fitstore checkpoints --compare \(checkpoint) \(replaced.checkpoint)`)" : ""))
        } else {
            print("\(dataset): checkpoint \(checkpoint) (\(cv(checkpoint))) was already the chosen one")
        }
    }
}
