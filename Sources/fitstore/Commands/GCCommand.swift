import ArgumentParser
import FitEncoder
import FitPipeline
import FitStore
import Foundation

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove the vectors of model encoders other than the active one, then compact the file.",
        discussion: """
            The active encoder is chosen by the same options as `fitstore embed`. Given vectors (a data set's own .npy) and encoders that a checkpoint uses are always kept. --dry-run shows what would go.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var encoder: EncoderOptions

    @Flag(help: "Only list what would be removed.")
    var dryRun = false

    func run() throws {
        let store = try storeOptions.open()
        let key = try encoder.encoderKey(in: store)
        let report = try GarbageCollect(store: store).run(keeping: key, dryRun: dryRun)
        for (name, vectors) in report.encoders {
            print("\(dryRun ? "would remove" : "removed") \(vectors) vectors of encoder \(name)")
        }
        if report.encoders.isEmpty { print("nothing to remove: only the active encoder \(key) has vectors") }
    }
}
