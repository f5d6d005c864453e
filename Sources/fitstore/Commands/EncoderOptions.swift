import ArgumentParser
import FitEncoder
import FitPipeline
import Foundation

/// Options that choose and configure the encoder, shared by `encode` and `embed`.
struct EncoderOptions: ParsableArguments {
    @Option(name: .customLong("model-file"), help: ArgumentHelp("The encoder's model file (default: $FITSTORE_MODEL, else $FITSTORE_MODEL_DIR or ~/.cache/fitstore/models, /e5-small-q4.bin).", valueName: "path"))
    var model: String?

    @Option(help: ArgumentHelp("Text put before every input: query, passage, none, or any literal text. e5 was trained with \"query: \" and \"passage: \".", valueName: "prefix"))
    var prefix: String = "query"

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
        TextEmbedder.Configuration(prefix: ModelLocator.prefix(named: prefix), lengthPolicy: LengthPolicy(lengthPolicy)!,
                                   batchTokens: batchTokens, threads: threads)
    }

    var modelPath: String { ModelLocator.path(explicit: model) }

    func makeEmbedder() throws -> TextEmbedder {
        try TextEmbedder(modelPath: modelPath, configuration: configuration)
    }

    /// The identity of the vectors these options select; needs no model file for the
    /// built-in model (commands that only read vectors work without it).
    func encoderKey() throws -> String {
        try TextEmbedder.identity(modelPath: modelPath, configuration: configuration,
                                  pinnedSHA256: ModelLocator.pinnedSHA256(explicit: model))
    }

    var embedOptions: Embed.Options {
        Embed.Options(modelPath: modelPath, configuration: configuration, pinnedSHA256: ModelLocator.pinnedSHA256(explicit: model))
    }
}
