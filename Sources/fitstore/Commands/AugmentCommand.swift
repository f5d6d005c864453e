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
            Stage opposite_metric (seed report section 3.2): each real row whose metric has an opposite gives a row under the opposite with a low score, 1 + 2(10 - s)/10 + U(0,1), so 1-4.

            Stage substitutable_metric (section 3.3): each real row scored at most 5 gives a row under every metric that can substitute for its own, with the same score.

            Stage negative (section 4): negatives in embedding space by shuffle, Gaussian noise and metric swap (generators negative_shuffle, negative_noise, negative_metric_swap): --low-count rows labelled U[1,3] and --mid-count rows labelled U[4,7] with milder corruption. They are stored as recipes (parents, metric, seed, sigma) and materialized when used.

            Metric relations come from --relations FILE, or from the file fitstore ships for the DA5401 metrics when the data set uses them. Every synthetic row records its generator, version, parameters, seed, parent rows and run (docs/provenance.md shows the SQL). Rerunning adds nothing; new real rows get children next time; --drop removes one generator's (or one stage's) rows and nothing else.

            Whether synthetic rows help is a per-data-set question: measure it (CV on real rows).
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Data set (default: the one ingested last).") var dataset: String?
    @Option(help: ArgumentHelp("A metric relations JSON file (see Sources/FitAugment/Resources/relations-da5401.json).", valueName: "file"))
    var relations: String?
    @Option(help: "Stages to run, comma-separated: opposite_metric, substitutable_metric, negative.")
    var stages: CommaList<Augment.Stage> = CommaList(Augment.Stage.allCases)
    @Option(help: "Seed of the generators' randomness.") var seed: UInt64 = 5401
    @Option(help: "Stage 3 rows in the low band (labels 1-3).") var lowCount: Int = 12_000
    @Option(help: "Stage 3 rows in the mid band (labels 4-7).") var midCount: Int = 5_000
    @Option(help: "Stage 1: s' = base + span (10 - s)/10 + jitter U(0,1); the base.") var oppositeBase: Double = 1
    @Option(help: "Stage 1: the span.") var oppositeSpan: Double = 2
    @Option(help: "Stage 1: the jitter.") var oppositeJitter: Double = 1
    @Option(help: "Stage 2: expand real rows scored at most this.") var substituteMaxScore: Double = 5
    @Option(help: "Stage 3: labels of the low band, LOW-HIGH within 0-10.") var lowBand: ScoreBand = ScoreBand(1...3)
    @Option(help: "Stage 3: labels of the mid band, LOW-HIGH within 0-10.") var midBand: ScoreBand = ScoreBand(4...7)
    @Option(help: "Stage 3: noise sigma in the low band (vectors are unit-norm, 384-d).") var lowSigma: Double = 0.05
    @Option(help: "Stage 3: noise sigma in the mid band.") var midSigma: Double = 0.02
    @OptionGroup var encoder: EncoderOptions

    @Option(help: ArgumentHelp("Remove this generator's rows instead of generating: a generator name as stored in sample.generator, or a stage name (negative drops all three of its corruptions). The rows are retired, as every removal is: they leave every selection and stay for lineage. A name with no rows is an error.", valueName: "generator"))
    var drop: String?

    func run() throws {
        let store = try storeOptions.open()
        let name = try DatasetResolver.resolve(store, name: dataset)
        if let drop {
            let (run, removed) = try Augment(store: store).drop(dataset: name, generator: drop)
            print("\(name): retired \(removed) rows of \(drop) (run \(run)); they stay in the store for lineage")
            return
        }
        var options = Augment.Options(dataset: name)
        options.relationsFile = relations.map { URL(fileURLWithPath: $0) }
        options.stages = Set(stages.values)
        options.seed = seed
        options.lowCount = lowCount
        options.opposite.base = oppositeBase
        options.opposite.span = oppositeSpan
        options.opposite.jitter = oppositeJitter
        options.substituteMaxScore = substituteMaxScore
        options.lowBand = lowBand.range
        options.midBand = midBand.range
        options.lowSigma = lowSigma
        options.midSigma = midSigma
        options.midCount = midCount
        options.encoderKey = try? encoder.encoderKey(in: store)
        let report = try Augment(store: store).run(options)
        for s in report.skipped { print("\(name): skipped: \(s)") }
        if let run = report.runID {
            print("\(name): augment run \(run) with relations \(report.relations ?? "none")")
        } else {
            print("\(name): nothing new to generate; nothing written")
        }
        AugmentPrinter.print(report)
        if report.retired > 0 { print("  \(report.retired) synthetic rows retired with their retired parents") }
    }
}

enum AugmentPrinter {
    /// Per generator: requested, written, and what was not written and why.
    static func print(_ report: Augment.Report) {
        for (generator, t) in report.tally.sorted(by: { $0.key < $1.key }) {
            let written = report.added[generator] ?? 0
            Swift.print("  \(generator): \(t.requested) requested, \(written) written" + (t.skipped.isEmpty ? "" : ", skipped:"))
            for (reason, n) in t.skipped.sorted(by: { $0.value > $1.value }) { Swift.print("      \(n)  \(reason)") }
        }
        if report.contradictions > 0 {
            Swift.print("  warning: \(report.contradictions) synthetic row(s) contradict a real label of the same metric, prompt and response by more than 1 (`fitstore audit` lists them), e.g.:")
            for c in report.worstContradictions {
                Swift.print(String(format: "      sample %lld  %@  synthetic %.1f  real %.1f", c.sample, c.metric, c.synthetic, c.real))
            }
        }
    }
}
