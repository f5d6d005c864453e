import ArgumentParser
import FitPipeline
import FitStore
import Foundation

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Write a small generated multilingual data set in DA5401 format and ingest it.",
        discussion: """
            The demo data is GENERATED: prompts and responses written by the fitstore team in English, Hindi, Bengali, Tamil and Nepali, scored by a rule (see the README.md written beside the data). It lets every command run without downloads; it says nothing about any real judge.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: ArgumentHelp("Where to write the demo folder.", valueName: "dir"))
    var out: String = "./fitstore-demo"

    @Option(help: "Train records to generate.") var train: Int = 600
    @Option(help: "Test records to generate.") var test: Int = 200
    @Option(help: "Seed of the generator.") var seed: UInt64 = 5401

    func validate() throws {
        guard train > 0, test > 0 else { throw ValidationError("--train and --test must be positive") }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: out)
        try DemoDataset(trainCount: train, testCount: test, seed: seed).write(to: folder, store: storeOptions.store)
        print("wrote generated demo data (\(train) train, \(test) test records) to \(folder.path)")
        let store = try storeOptions.open(create: true)
        let report = try Ingest(store: store, progress: TerminalProgress()).run(folder: folder, options: .init(datasetName: "demo"))
        IngestPrinter.print(report, store: store.path)
        print("next: fitstore stats --store \(store.path)")
    }
}
