import ArgumentParser
import FitEncoder
import FitPipeline
import FitStore
import Foundation

struct RelationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relations",
        abstract: "Work with metric relations files (the data behind augmentation stages 1 and 2).",
        subcommands: [Suggest.self])

    struct Suggest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Propose substitutable metric pairs from nearest neighbours in metric-embedding space.",
            discussion: """
                Pairs are mutual nearest neighbours (within --neighbours of each other) whose cosine is
                at least --min-cosine, using the data set's given metric vectors, else the encoder's
                vectors of the metric definitions (run `fitstore embed` first). The pairs are printed
                for review; --out writes them as a relations file that `fitstore augment --relations`
                reads. Opposites are never proposed: nearness cannot tell a criterion from its opposite.
                """)

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var encoder: EncoderOptions
        @Option(help: "Data set (default: the one ingested last).") var dataset: String?
        @Option(help: "How many nearest neighbours count as near.") var neighbours: Int = 1
        @Option(help: "Smallest cosine for a pair.") var minCosine: Float = 0.8
        @Option(help: ArgumentHelp("Write the relations file here.", valueName: "file")) var out: String?

        func run() throws {
            let store = try storeOptions.open(.readOnly)
            let name = try DatasetResolver.resolve(store, name: dataset)
            let key = try? TextEmbedder.identity(modelPath: ModelLocator.path(explicit: encoder.model), configuration: encoder.configuration)
            let (pairs, source) = try RelationsSuggest(store: store).suggest(dataset: name, encoderKey: key, neighbours: neighbours, minimumCosine: minCosine)
            print("\(name): \(pairs.count) suggested substitutable pair(s) from \(source)")
            for p in pairs { print(String(format: "  %.4f  %@  <->  %@", p.cosine, p.a, p.b)) }
            if let out {
                try RelationsSuggest.relationsJSON(pairs, dataset: name, source: source).write(toFile: out, atomically: true, encoding: .utf8)
                print("wrote \(out): review it, then `fitstore augment --relations \(out)`")
            }
        }
    }
}
