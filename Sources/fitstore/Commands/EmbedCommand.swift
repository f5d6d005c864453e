import ArgumentParser
import FitEncoder
import FitPipeline
import FitStore
import Foundation

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed every text in the store that has no vector under the active encoder.",
        discussion: """
            The active encoder is the built-in model (or `--encoder NAME`, a model folder registered with `fitstore encoders add`; `--encoder a,b` embeds under each in turn). For the built-in model it is the model file plus --prefix and --length-policy; each choice has its own identity (see `SELECT key FROM encoder`), and vectors of other encoders stay queryable until `fitstore gc` removes them. Texts are prompts, responses, system prompts and metric names and definitions, each embedded once however often it is used.

            Work is committed in batches: stop it at any moment (even kill -9) and run it again to continue; nothing is lost or duplicated. With nothing new it returns at once.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var encoder: EncoderOptions

    @Option(help: "Texts per committed batch.")
    var batch: Int = 256

    @Option(help: "Embed at most this many texts, then stop (the rest on the next run).")
    var limit: Int?

    func run() throws {
        let store = try storeOptions.open()
        // --encoder a,b embeds under each, in turn.
        for var options in try encoder.embedOptionsEach(in: store) {
            options.batchTexts = batch
            options.limit = limit
            let report = try Embed(store: store, progress: TerminalProgress()).run(options)
            if report.interruptedRunsMarked > 0 {
                print("marked \(report.interruptedRunsMarked) interrupted embed run(s) as failed; their committed vectors are kept")
            }
            guard let run = report.runID else {
                print("every text in use already has a vector under \(report.encoderKey); nothing to do")
                continue
            }
            print(String(format: "embedded %d texts (%d tokens) as run %lld in %.1f s (%.1f texts/s) under %@",
                         report.embedded, report.tokens, run, report.seconds, Double(report.embedded) / max(report.seconds, 1e-9), report.encoderKey))
            if report.remaining > 0 { print("\(report.remaining) texts remain; run `fitstore embed` again to continue") }
        }
    }
}
