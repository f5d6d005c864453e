import ArgumentParser
import FitEncoder
import FitPipeline
import FitStore
import Foundation

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove the vectors of the built-in model's other settings (and of encoders you name), then compact the file.",
        discussion: """
            Kept always: the active encoder (chosen by the same options as `fitstore embed`), encoders that a checkpoint uses, given vectors (a data set's own .npy), and imported or folder encoders unless named with --remove. Removed: vectors of the built-in model under other prefixes, length policies or arithmetic versions. The file is then compacted when it has free pages, even when nothing was removed. --dry-run shows what would go.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var encoder: EncoderOptions

    @Flag(help: "Only list what would be removed.")
    var dryRun = false

    @Option(name: .customLong("remove"), help: ArgumentHelp("Also remove this named encoder's vectors (repeatable).", valueName: "name"))
    var remove: [String] = []

    @Flag(help: "Instead: remove the data set's checkpoints that were never chosen and that no kept blend uses (the variants choices compared; their comparisons keep the numbers), and say how many bytes that frees.")
    var checkpoints = false

    @Option(help: "With --checkpoints: the data set (default: the one ingested last).") var dataset: String?

    func run() throws {
        let store = try storeOptions.open()
        if checkpoints {
            let name = try DatasetResolver.resolve(store, name: dataset)
            let report = try GarbageCollect(store: store).removeCheckpoints(dataset: name, dryRun: dryRun)
            print("\(name): \(dryRun ? "would remove" : "removed") \(report.removed.count) checkpoint(s) "
                  + (report.removed.isEmpty ? "" : "(\(report.removed.map(String.init).joined(separator: ", "))) ")
                  + String(format: "holding %.1f MB; kept %d (ever chosen, or used by a kept blend)", Double(report.bytes) / 1e6, report.kept))
            if let deferred = report.compactionDeferred { print(deferred) }
            if let (before, after) = report.compacted {
                print(String(format: "compacted the file: %.1f MB -> %.1f MB", Double(before) / 1e6, Double(after) / 1e6))
            }
            return
        }
        let key = try encoder.encoderKey(in: store)
        let report = try GarbageCollect(store: store).run(keeping: key, removing: remove, dryRun: dryRun)
        for (name, checkpoints) in report.kept {
            let list = checkpoints.map(String.init).joined(separator: ", ")
            print("kept encoder \(name): checkpoint\(checkpoints.count == 1 ? "" : "s") \(list) use\(checkpoints.count == 1 ? "s" : "") it")
        }
        for (name, vectors) in report.encoders {
            print("\(dryRun ? "would remove" : "removed") \(vectors) vectors of encoder \(name)")
        }
        if report.encoders.isEmpty { print("no vectors to remove (kept: \(key), named and checkpointed encoders)") }
        if let deferred = report.compactionDeferred { print(deferred) }
        if let (before, after) = report.compacted {
            print(String(format: "compacted the file: %.1f MB -> %.1f MB", Double(before) / 1e6, Double(after) / 1e6))
        }
    }
}
