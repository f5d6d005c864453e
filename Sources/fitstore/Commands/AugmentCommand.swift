import ArgumentParser
import FitEncoder
import FitPipeline
import FitStore
import Foundation

struct AugmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment",
        abstract: "Write the seed's synthetic training rows, with provenance, into the store.",
        discussion: """
            Stages (the seed report's section 3):
              opposite_metric       each real row whose metric has an opposite -> a row under the
                                    opposite with a low score (1 + 2(10 - s)/10 + U(0,1), so 1-4)
              substitutable_metric  each real row with score <= 5 -> a row under every metric that
                                    can substitute for its own, same score
              negative              negatives in embedding space (section 4): shuffle, Gaussian noise
                                    and metric swap, --low-count rows labelled U[1,3] and --mid-count
                                    rows labelled U[4,7] with milder corruption; stored as recipes
                                    (parents, metric, seed, sigma), materialized when used
            Metric relations come from --relations FILE, or from the file fitstore ships for the
            DA5401 metrics when the data set uses them. Every synthetic row records its generator,
            version, parameters, seed, parent rows and run (docs/provenance.md shows the SQL).
            Rerunning adds nothing; new real rows get children next time; --drop removes one
            generator's rows and nothing else.

            Whether synthetic rows help is a per-data-set question: measure it (CV on real rows).
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Data set (default: the one ingested last).") var dataset: String?
    @Option(help: ArgumentHelp("A metric relations JSON file (see Sources/FitAugment/Resources/relations-da5401.json).", valueName: "file"))
    var relations: String?
    @Option(help: "Stages to run, comma-separated: opposite_metric, substitutable_metric, negative.")
    var stages: String = Augment.Stage.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "Seed of the generators' randomness.") var seed: UInt64 = 5401
    @Option(help: "Stage 3 rows in the low band (labels 1-3).") var lowCount: Int = 12_000
    @Option(help: "Stage 3 rows in the mid band (labels 4-7).") var midCount: Int = 5_000
    @OptionGroup var encoder: EncoderOptions
    @Option(help: ArgumentHelp("Remove this generator's rows instead of generating.", valueName: "generator"))
    var drop: String?

    func validate() throws {
        for s in stages.split(separator: ",") where Augment.Stage(rawValue: String(s)) == nil {
            throw ValidationError("unknown stage '\(s)'; stages are \(Augment.Stage.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let store = try storeOptions.open()
        let name = try DatasetResolver.resolve(store, name: dataset)
        if let drop {
            let (run, removed) = try Augment(store: store).drop(dataset: name, generator: drop)
            print(run == nil ? "\(name): no rows of generator \(drop); nothing removed" : "\(name): removed \(removed) rows of \(drop) (run \(run!))")
            return
        }
        var options = Augment.Options(dataset: name)
        options.relationsFile = relations.map { URL(fileURLWithPath: $0) }
        options.stages = Set(stages.split(separator: ",").compactMap { Augment.Stage(rawValue: String($0)) })
        options.seed = seed
        options.lowCount = lowCount
        options.midCount = midCount
        options.encoderKey = try? TextEmbedder.identity(modelPath: ModelLocator.path(explicit: encoder.model), configuration: encoder.configuration)
        let report = try Augment(store: store).run(options)
        for s in report.skipped { print("\(name): skipped: \(s)") }
        guard let run = report.runID else {
            print("\(name): nothing new to generate; nothing written")
            return
        }
        print("\(name): augment run \(run) with relations \(report.relations ?? "none")")
        for (g, n) in report.added.sorted(by: { $0.key < $1.key }) { print("  +\(n) \(g)") }
        if report.retired > 0 { print("  \(report.retired) synthetic rows retired with their retired parents") }
    }
}
