import ArgumentParser
import FitEncoder
import FitPipeline
import FitStore
import Foundation

struct EncodersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encoders",
        abstract: "List the encoders whose vectors the store holds, or add a Hugging Face model folder as one.",
        subcommands: [List.self, Add.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the encoders: name, source, dimensions, texts covered.",
            discussion: """
                Sources: builtin (the multilingual-e5-small fitstore ships; unnamed rows are its other prefixes and length policies), folder (a Hugging Face model folder, `fitstore encoders add`), imported (`fitstore vectors import`), given (a data set's metric vectors). Covered counts the texts in use that have a vector; `--encoder NAME` on embed, train, predict, export, run and report picks the encoder.
                """)

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            let store = try storeOptions.open(.readOnly)
            let (encoders, inUse) = try store.read { try Encoder.textEncoders($0) }
            guard !encoders.isEmpty else {
                print("no encoder yet: `fitstore embed` computes the built-in one's vectors, `fitstore encoders add NAME DIR` adds a model folder, `fitstore vectors import` brings vectors made elsewhere")
                return
            }
            TableFormatter.printTable(
                columns: ["name", "source", "dims", "texts covered", "key"],
                rows: encoders.map { [$0.encoder.name ?? "-", $0.encoder.source.rawValue, "\($0.encoder.dims)", "\($0.covered) of \(inUse)", $0.encoder.key] },
                rightAligned: [2, 3])
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a Hugging Face model folder as an encoder NAME, for `embed --encoder NAME`.",
            discussion: """
                DIR is a folder as sentence-transformers saves it (config.json, model.safetensors, tokenizer.json, modules.json, 1_Pooling/config.json, sentence_bert_config.json) or a bare transformers folder (mean pooling, no normalization). Architectures: BERT (all-MiniLM, LaBSE, the e5 family), XLM-RoBERTa (paraphrase-multilingual-mpnet-base-v2, multilingual-e5-base/large, bge-m3) and MPNet (all-mpnet-base-v2). The folder is loaded whole to check it; its files' digests, --prefix and --length-policy fix the encoder's vectors. Adding the same folder and settings again does nothing; a changed folder, or other settings, need another name.

                Then: fitstore embed --encoder NAME, and --encoder NAME on train, predict, export, report and run. The built-in e5-small stays the default.

                Example:
                  fitstore encoders add minilm ~/models/all-MiniLM-L6-v2
                  fitstore embed --encoder minilm
                  fitstore train --encoder minilm
                """)

        @OptionGroup var storeOptions: StoreOptions

        @Argument(help: "The encoder's name in the store (what --encoder takes).")
        var name: String

        @Argument(help: ArgumentHelp("The model folder.", valueName: "dir"))
        var folder: String

        @Option(help: ArgumentHelp("Text put before every input: query, passage, none (the default), or any literal text (e5 models want query or passage).", valueName: "prefix"))
        var prefix: String = "none"

        @Option(help: ArgumentHelp("Texts longer than the model's max_seq_length: windowed-N (windows overlapping by N tokens, averaged), windowed (= windowed-64), or truncate (what sentence-transformers does).", valueName: "policy"))
        var lengthPolicy: LengthPolicy = .default

        @Option(help: ArgumentHelp("The matrix products' arithmetic for this encoder's vectors: float32 (the default) or int8 (weights and product inputs rounded to int8 per block of 32 values; faster, vectors a little different). Fixed for the name: the same folder in the other precision is another encoder.", valueName: "precision"))
        var precision: Precision = .float32

        func validate() throws {
            guard name != TextEmbedder.builtInName, !name.isEmpty, !name.contains(where: \.isWhitespace) else {
                throw ValidationError("choose a name without spaces other than \(TextEmbedder.builtInName) (the built-in encoder's)")
            }
        }

        func run() throws {
            let store = try storeOptions.open(.readWrite)
            let configuration = TextEmbedder.Configuration(prefix: ModelLocator.prefix(named: prefix), lengthPolicy: lengthPolicy,
                                                           precision: precision)
            let added = try FolderEncoders(store: store).add(name: name, folder: folder, configuration: configuration)
            let s = added.settings
            if added.isNew {
                print("added encoder \(name): \(s.architecture), \(s.dims) dimensions, \(s.pooling) pooling\(s.normalize ? ", normalized" : ""), "
                      + "max \(s.max_seq_length) tokens, prefix \(s.prefix.debugDescription), \(s.length_policy), \(s.madeWith.rawValue), from \(s.folder)")
                print("next: fitstore embed --encoder \(name)")
            } else {
                print("encoder \(name) is already this folder with these settings: nothing changed")
            }
        }
    }
}
