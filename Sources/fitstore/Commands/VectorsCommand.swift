import ArgumentParser
import FitPipeline
import FitStore
import Foundation

struct VectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Bring in vectors computed elsewhere.",
        subcommands: [Import.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Store row i of VECTORS.npy as the vector of the text on line i of --keys, under --encoder.",
            discussion: """
                --keys is the file `fitstore texts --missing` writes (only each line's "sha256" is read). VECTORS is a float32, float64 (numpy's default) or float16 .npy with one row per line; float64 values are first rounded to the nearest float32 (as numpy's astype(np.float32) rounds), and every vector is then stored as all vectors are, in the compact float16 encoding (docs/storage.md); the summary says which type it read. The first import under a name creates that encoder (source 'imported') and fixes its dimension; later imports add to it. Then `--encoder NAME` on train, export, run or report uses these vectors.

                Everything is checked before anything is written, in one transaction: a wrong row count, a bad line, a hash the store does not have, a non-finite value or a dimension change is refused with the line or row named, and the store stays as it was. A text that already has a vector under the name keeps it.
                """)

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: ArgumentHelp("The encoder name to store the vectors under.", valueName: "name"))
        var encoder: String

        @Option(help: ArgumentHelp("The JSON-lines file of text digests, row order.", valueName: "path"))
        var keys: String

        @Argument(help: ArgumentHelp("The vectors (.npy, float32, float64 or float16, one row per key).", valueName: "vectors"))
        var vectors: String

        func validate() throws {
            guard encoder != "e5-small", !encoder.isEmpty else {
                throw ValidationError("e5-small is the built-in model: import under another name")
            }
        }

        func run() throws {
            let store = try storeOptions.open()
            let report = try VectorImport(store: store).run(encoder: encoder, keys: URL(fileURLWithPath: keys),
                                                            vectors: URL(fileURLWithPath: vectors))
            print("\(report.created ? "created encoder" : "encoder") \(report.encoder) (\(report.dims) dimensions): "
                  + "\(report.added) vector(s) added, \(report.alreadyPresent) already there, run \(report.runID)"
                  + (report.dtype == "float32" ? "" : " (read as \(report.dtype))"))
        }
    }
}
