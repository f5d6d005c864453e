import ArgumentParser
import FitPipeline
import FitStore
import Foundation

struct EncodersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoders",
        abstract: "List the encoders whose vectors the store holds: name, source, dimensions, texts covered.",
        discussion: """
            Sources: builtin (the multilingual-e5-small fitstore ships; unnamed rows are its other prefixes and length policies), imported (`fitstore vectors import`). Covered counts the texts in use that have a vector; `--encoder NAME` on train, export, run and report picks the encoder.
            """)

    @OptionGroup var storeOptions: StoreOptions

    func run() throws {
        let store = try storeOptions.open(.readOnly)
        let (encoders, inUse) = try store.read { try Encoder.textEncoders($0) }
        guard !encoders.isEmpty else {
            print("no encoder yet: `fitstore embed` computes the built-in one's vectors, `fitstore vectors import` brings others")
            return
        }
        TableFormatter.printTable(
            columns: ["name", "source", "dims", "texts covered", "key"],
            rows: encoders.map { [$0.encoder.name ?? "-", $0.encoder.source.rawValue, "\($0.encoder.dims)", "\($0.covered) of \(inUse)", $0.encoder.key] },
            rightAligned: [2, 3])
    }
}
