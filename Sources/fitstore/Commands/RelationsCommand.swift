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
            abstract: "Propose substitutable metric pairs (near in embedding space) and opposite pairs (negatively correlated scores).",
            discussion: """
                Substitutes are mutual nearest neighbours (within --neighbours of each other) whose cosine is at least --min-cosine, using the data set's given metric vectors, else the encoder's vectors of the metric definitions (run `fitstore embed` first).

                Opposites cannot come from nearness (embeddings put a criterion beside its opposite); they come from the labels: two metrics judged on the same prompt and response at least --min-shared times whose scores correlate at or below --max-correlation. Each metric keeps its most negative partner. When none qualifies, the most negative correlation found is printed, so you can see why.

                Each substitute pair also shows what the real labels say of it: on how many items both metrics are judged, and on how many their scores differ by more than 1. A pair whose labels disagree on more than --max-disagreement of at least --min-shared shared items is left out of the file (printed, with the reason): copying one metric's scores to the other would teach the model what the judge contradicts. (Augmentation never copies onto a (metric, item) pair a real row labels.)

                Everything is printed for review; --out writes a relations file that `fitstore augment --relations` reads.
                """)

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var encoder: EncoderOptions
        @Option(help: "Data set (default: the one ingested last).") var dataset: String?
        @Option(help: "How many nearest neighbours count as near.") var neighbours: Int = 1
        @Option(help: "Smallest cosine for a pair.") var minCosine: Float = 0.8
        @Option(help: "Opposites: fewest items judged under both metrics.") var minShared: Int = 20
        // .unconditional: the value is negative, and would otherwise be read as an option.
        @Option(parsing: .unconditional, help: "Opposites: largest score correlation that counts as opposite (a negative number, e.g. --max-correlation -0.1).")
        var maxCorrelation: Float = -0.3
        @Option(help: "Substitutes: the largest share of shared items whose labels may disagree (by more than 1) before a pair is left out.")
        var maxDisagreement: Double = 0.5
        @Option(help: ArgumentHelp("Write the relations file here.", valueName: "file")) var out: String?

        func run() throws {
            if let out { try storeOptions.checkOutput(out) }
            let store = try storeOptions.open(.readOnly)
            let name = try DatasetResolver.resolve(store, name: dataset)
            let key = try? encoder.encoderKey(in: store)
            let (found, source) = try RelationsSuggest(store: store).suggest(dataset: name, encoderKey: key, neighbours: neighbours, minimumCosine: minCosine)
            let refuted = found.filter { $0.refuted(minimumShared: minShared, maximumShare: maxDisagreement) }
            let pairs = found.filter { !$0.refuted(minimumShared: minShared, maximumShare: maxDisagreement) }
            print("\(name): \(pairs.count) suggested substitutable pair(s) from \(source)")
            func evidence(_ p: RelationsSuggest.Pair) -> String {
                p.sharedItems == 0 ? "no shared items" : "labels disagree on \(p.disagreeing) of \(p.sharedItems) shared items"
            }
            for p in pairs { print(String(format: "  %.4f  %@  <->  %@  (%@)", p.cosine, p.a, p.b, evidence(p))) }
            if !refuted.isEmpty {
                print(String(format: "  left out, their labels disagree on more than %.0f%% of at least %d shared items:", maxDisagreement * 100, minShared))
                for p in refuted { print(String(format: "  %.4f  %@  <->  %@  (%@)", p.cosine, p.a, p.b, evidence(p))) }
            }
            let opposites = try RelationsSuggest(store: store).suggestOpposites(dataset: name, minimumItems: minShared, maximumCorrelation: maxCorrelation)
            print("\(name): \(opposites.pairs.count) suggested opposite pair(s) from scores (\(opposites.examined) metric pairs share at least \(minShared) items)")
            for c in opposites.pairs {
                let ci = c.interval95
                print(String(format: "  r = %+.3f on %d items (95%% interval %+.2f to %+.2f%@)  %@  <->  %@", c.r, c.items,
                             ci.lowerBound, ci.upperBound, ci.upperBound < 0 ? "" : ": not clear of zero, weak evidence", c.a, c.b))
            }
            if opposites.pairs.isEmpty {
                if let m = opposites.mostNegative {
                    print(String(format: "  none at or below r = %+.2f: the most negative is r = %+.3f (%@ / %@, %d items)", maxCorrelation, m.r, m.a, m.b, m.items))
                } else {
                    print("  no two metrics are judged on the same items often enough to compare")
                }
            }
            if let out {
                let file = try OutputFile(URL(fileURLWithPath: out), store: store.path)
                try file.write(Data(RelationsSuggest.relationsJSON(pairs, opposites: opposites.pairs, dataset: name, source: source).utf8))
                try file.commit()
                print("wrote \(out): review it, then `fitstore augment --relations \(out)`")
            }
        }
    }
}
