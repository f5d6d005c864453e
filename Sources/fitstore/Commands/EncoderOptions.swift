import ArgumentParser
import FitEncoder
import FitPipeline
import FitStore
import Foundation

/// Options that choose and configure the encoder: `--encoder NAME`, and for the built-in
/// model its file, prefix, length policy and threads.
struct EncoderOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Whose vectors: e5-small (the built-in model, the default) or the name of an encoder the store has (`fitstore encoders` lists them; `encoders add` and `vectors import` add one). train, export and run also take several names, a,b: their vectors are concatenated in each feature block.", valueName: "name"))
    var encoder: String?

    @Option(name: .customLong("model-file"), help: ArgumentHelp("The encoder's model file (default: $FITSTORE_MODEL, else $FITSTORE_MODEL_DIR or ~/.cache/fitstore/models, /e5-small-q4.bin).", valueName: "path"))
    var model: String?

    @Option(help: ArgumentHelp("Text put before every input: query, passage, none, or any literal text. e5 was trained with \"query: \" and \"passage: \" (default query); a model folder's default is none.", valueName: "prefix"))
    var prefix: String?

    @Option(help: ArgumentHelp("Texts longer than 510 tokens: windowed-N (windows overlapping by N tokens, averaged), windowed (= windowed-64) or truncate.", valueName: "policy"))
    var lengthPolicy: LengthPolicy = .default

    @Option(help: "Threads for matrix products and attention.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Tokens packed into one forward pass.")
    var batchTokens: Int = 8192

    @Option(help: ArgumentHelp("The matrix products' arithmetic: float32 (the default) or int8 (weights and each product's input rounded to int8 per block of 32 values, summed exactly in integers; a folder model keeps its 8 outlier input columns per product in float32: about 1.75x faster where the CPU has AVX-512 VNNI, vectors within a cosine of 0.999 of float32's; see docs/encoder.md). int8 vectors are another encoder's: they never mix with float32 ones, and train, export and run use them when given --precision int8 too. A folder encoder's precision is set at `encoders add`.", valueName: "precision"))
    var precision: Precision?

    func validate() throws {
        guard threads >= 1, batchTokens >= 512 else { throw ValidationError("--threads must be >= 1 and --batch-tokens >= 512") }
    }

    var configuration: TextEmbedder.Configuration {
        TextEmbedder.Configuration(prefix: ModelLocator.prefix(named: prefix ?? "query"), lengthPolicy: lengthPolicy,
                                   batchTokens: batchTokens, threads: threads, precision: precision ?? .float32)
    }

    /// The settings for a model folder: no prefix unless one is asked for.
    var folderConfiguration: TextEmbedder.Configuration {
        var c = configuration
        c.prefix = ModelLocator.prefix(named: prefix ?? "none")
        return c
    }

    /// The names --encoder lists (a,b: several), in order; empty: the built-in model.
    var encoderNames: [String] {
        guard let encoder else { return [] }
        return encoder.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// The model folder --encoder names, when it names a folder rather than an encoder.
    var folderPath: String? {
        guard let encoder, encoderNames.count == 1 else { return nil }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: encoder, isDirectory: &isDirectory) && isDirectory.boolValue ? encoder : nil
    }

    var modelPath: String { ModelLocator.path(explicit: model) }

    /// The built-in model, or the model folder --encoder names.
    func makeEmbedder() throws -> TextEmbedder {
        if let folderPath { return try TextEmbedder(folder: HuggingFaceFolder(path: folderPath), configuration: folderConfiguration) }
        return try TextEmbedder(modelPath: modelPath, configuration: configuration)
    }

    /// These options as the pipeline takes them.
    var selection: EncoderSelection {
        EncoderSelection(names: encoderNames, modelPath: modelPath, configuration: configuration,
                         pinnedSHA256: ModelLocator.pinnedSHA256(explicit: model), askedPrecision: precision)
    }

    /// The identity of the built-in model's vectors under these options; needs no model file
    /// (commands that only read vectors work without it).
    func builtInKey() throws -> String { try selection.builtInKey() }

    /// The identity of the vectors these options select in `store` (one encoder: commands
    /// that take several call `encoderKeys`).
    func encoderKey(in store: Store) throws -> String { try selection.key(in: store) }

    /// The identities of the vectors of every encoder --encoder lists, in order.
    func encoderKeys(in store: Store) throws -> [String] { try selection.keys(in: store) }

    /// Whether the built-in model makes the vectors (anything else is already stored).
    var isBuiltIn: Bool { encoder == nil || encoder == TextEmbedder.builtInName }

    /// What `embed` does for these options in `store`.
    func embedOptions(in store: Store) throws -> Embed.Options { try selection.embedOptions(in: store, name: encoder) }

    /// What `embed` does for each encoder --encoder lists, in order.
    func embedOptionsEach(in store: Store) throws -> [Embed.Options] { try selection.embedOptionsEach(in: store) }
}
