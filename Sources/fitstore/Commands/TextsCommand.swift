import ArgumentParser
import FitPipeline
import FitStore
import Foundation

struct TextsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "texts",
        abstract: "Write the texts in use that lack a vector under an encoder, to embed them elsewhere.",
        discussion: """
            One JSON object a line: {"sha256": "<hex sha256 of the text's UTF-8>", "text": "..."}. The texts in use are every prompt, response and system prompt of an active sample and every metric name and definition, each once. An encoder name the store does not know lacks them all.

            Embed the lines (on a GPU machine, say) into an .npy whose row i is the vector of line i, then bring them back:
              fitstore texts --missing --encoder mpnet --out texts.jsonl
              fitstore vectors import --encoder mpnet --keys texts.jsonl vectors.npy
            docs/encoder.md shows the five lines of Python for sentence-transformers.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var encoder: EncoderOptions

    @Flag(help: "Only the texts without a vector under --encoder (the only listing there is, for now).")
    var missing = false

    @Option(help: ArgumentHelp("Where to write the JSON lines.", valueName: "path"))
    var out: String

    func validate() throws {
        guard missing else { throw ValidationError("texts lists the texts without vectors: pass --missing") }
    }

    func run() throws {
        try storeOptions.checkOutput(out)
        let store = try storeOptions.open(.readOnly)
        let name = encoder.encoder ?? "e5-small"
        let count = try TextList(store: store).writeMissing(encoder: name, builtInKey: encoder.builtInKey, to: URL(fileURLWithPath: out))
        print("\(count) text(s) without a vector under \(name) -> \(out)")
    }
}
