import ArgumentParser
import FitEncoder
import FitPipeline
import FitStore
import Foundation

/// Options that choose and configure the encoder: `--encoder NAME`, and for the built-in
/// model its file, prefix, length policy and threads.
struct EncoderOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Whose vectors: e5-small (the built-in model, the default) or the name of an encoder the store has (`fitstore encoders` lists them; `fitstore vectors import` adds one).", valueName: "name"))
    var encoder: String?

    @Option(name: .customLong("model-file"), help: ArgumentHelp("The encoder's model file (default: $FITSTORE_MODEL, else $FITSTORE_MODEL_DIR or ~/.cache/fitstore/models, /e5-small-q4.bin).", valueName: "path"))
    var model: String?

    @Option(help: ArgumentHelp("Text put before every input: query, passage, none, or any literal text. e5 was trained with \"query: \" and \"passage: \" (default query); a model folder's default is none.", valueName: "prefix"))
    var prefix: String?

    @Option(help: ArgumentHelp("Texts longer than 510 tokens: windowed-N (windows overlapping by N tokens, averaged), windowed (= windowed-64) or truncate.", valueName: "policy"))
    var lengthPolicy: String = LengthPolicy.default.description

    @Option(help: "Threads for matrix products and attention.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Tokens packed into one forward pass.")
    var batchTokens: Int = 8192

    func validate() throws {
        guard LengthPolicy(lengthPolicy) != nil else {
            throw ValidationError("--length-policy must be truncate, windowed or windowed-N (N >= 0), not '\(lengthPolicy)'")
        }
        guard threads >= 1, batchTokens >= 512 else { throw ValidationError("--threads must be >= 1 and --batch-tokens >= 512") }
    }

    var configuration: TextEmbedder.Configuration {
        TextEmbedder.Configuration(prefix: ModelLocator.prefix(named: prefix ?? "query"), lengthPolicy: LengthPolicy(lengthPolicy)!,
                                   batchTokens: batchTokens, threads: threads)
    }

    /// The settings for a model folder: no prefix unless one is asked for.
    var folderConfiguration: TextEmbedder.Configuration {
        var c = configuration
        c.prefix = ModelLocator.prefix(named: prefix ?? "none")
        return c
    }

    /// The model folder --encoder names, when it names a folder rather than an encoder.
    var folderPath: String? {
        guard let encoder else { return nil }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: encoder, isDirectory: &isDirectory) && isDirectory.boolValue ? encoder : nil
    }

    var modelPath: String { ModelLocator.path(explicit: model) }

    /// The built-in model, or the model folder --encoder names.
    func makeEmbedder() throws -> TextEmbedder {
        if let folderPath { return try TextEmbedder(folder: HuggingFaceFolder(path: folderPath), configuration: folderConfiguration) }
        return try TextEmbedder(modelPath: modelPath, configuration: configuration)
    }

    /// The identity of the built-in model's vectors under these options; needs no model file
    /// (commands that only read vectors work without it).
    func builtInKey() throws -> String {
        try TextEmbedder.identity(modelPath: modelPath, configuration: configuration,
                                  pinnedSHA256: ModelLocator.pinnedSHA256(explicit: model))
    }

    /// The identity of the vectors these options select in `store`.
    func encoderKey(in store: Store) throws -> String {
        try store.read { try EncoderChoice.key($0, name: encoder, builtInKey: builtInKey) }
    }

    /// Whether the built-in model makes the vectors (anything else is already stored).
    var isBuiltIn: Bool { encoder == nil || encoder == TextEmbedder.builtInName }

    /// What `embed` does for these options in `store`: run the built-in model, or check that
    /// a named encoder's (imported) vectors cover every text.
    func embedOptions(in store: Store) throws -> Embed.Options {
        var options = Embed.Options(modelPath: modelPath, configuration: configuration, pinnedSHA256: ModelLocator.pinnedSHA256(explicit: model))
        if !isBuiltIn, let encoder {
            let key = try encoderKey(in: store)
            if let registered = try store.read({ try Encoder.keyed($0, key) }), registered.source == .folder {
                options.folder = (encoder, key, try FolderEncoders.settings(of: registered))
            } else {
                options.imported = (encoder, key)
            }
        }
        return options
    }
}
