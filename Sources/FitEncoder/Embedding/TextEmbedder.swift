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

        public init(prefix: String = "query: ", lengthPolicy: LengthPolicy = .default, batchTokens: Int = 8192,
                    threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
            self.prefix = prefix
            self.lengthPolicy = lengthPolicy
            self.batchTokens = batchTokens
            self.threads = threads
        }
    }

    public let file: ModelFile
    public let tokenizer: UnigramTokenizer
    public let encoder: TransformerEncoder
    public let configuration: Configuration
    public let modelSHA256: String

    public var dimensions: Int { encoder.hidden }
    /// Content tokens per window: the model's positions minus `<s>` and `</s>`.
    public var windowSize: Int { encoder.maxPositions - 2 }

    /// The identity of the vectors this embedder makes: model bytes, prefix, length policy.
    public var identity: String { Self.identity(sha256: modelSHA256, configuration: configuration) }

    static func identity(sha256: String, configuration: Configuration) -> String {
        "e5-small-q4:\(sha256.prefix(16)):\(configuration.prefix.debugDescription):\(configuration.lengthPolicy)"
    }

    /// The identity without loading the model (its digest comes from the sidecar cache).
    public static func identity(modelPath: String, configuration: Configuration) throws -> String {
        guard FileManager.default.fileExists(atPath: modelPath) else {
            throw ModelFileError(path: modelPath, message: "model file not found")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: modelPath), options: .alwaysMapped)
        return identity(sha256: try ModelDigest.sha256(ofModelAt: modelPath, data: data), configuration: configuration)
    }

    public init(modelPath: String, configuration: Configuration = Configuration()) throws {
        file = try ModelFile(path: modelPath)
        tokenizer = UnigramTokenizer(vocabulary: file.vocabulary, normalization: file.normalization)
        encoder = try TransformerEncoder(file)
        self.configuration = configuration
        modelSHA256 = try ModelDigest.sha256(ofModelAt: modelPath, data: file.data)
        Threads.configure(configuration.threads)
    }

    /// Content ids of prefix + text, as the model sees them (before windowing).
    public func tokenize(_ text: String) -> [Int32] {
        tokenizer.encode(configuration.prefix + text)
    }

    /// L2-normalized embeddings, in input order. `progress` is told the texts done so far.
    public func embed(_ texts: [String], progress: ((Int) -> Void)? = nil) -> [[Float]] {
        embedCountingTokens(texts, progress: progress).vectors
    }

    /// The embeddings and the number of tokens of the texts (prefix, content, `<s>` and
    /// `</s>`, before windowing), counted from the one tokenization of each text.
    public func embedCountingTokens(_ texts: [String], progress: ((Int) -> Void)? = nil) -> (vectors: [[Float]], tokens: Int) {
        let H = dimensions, size = windowSize
        struct Window { let text: Int; let ids: [Int32]; let weight: Float }
        var tokens = 0
        var windows: [Window] = []
        var windowsLeft = [Int](repeating: 0, count: texts.count)
        for (t, text) in texts.enumerated() {
            let content = tokenize(text)
            tokens += content.count + 2
            let ranges = configuration.lengthPolicy.windows(count: content.count, size: size)
            windowsLeft[t] = ranges.count
            for r in ranges {
                let ids = [Int32(file.vocabulary.bos)] + content[r] + [Int32(file.vocabulary.eos)]
                windows.append(Window(text: t, ids: ids, weight: Float(max(1, r.count))))
            }
        }
        // Sort by length so that a batch holds sequences of similar size.
        let order = windows.indices.sorted { windows[$0].ids.count < windows[$1].ids.count }
        var sums = [[Float]](repeating: [Float](repeating: 0, count: H), count: texts.count)
        var weights = [Float](repeating: 0, count: texts.count)
        var done = 0
        var cursor = 0
        while cursor < order.count {
            var batch: [Int] = []
            var tokens = 0
            while cursor < order.count {
                let n = windows[order[cursor]].ids.count
                if !batch.isEmpty && tokens + n > configuration.batchTokens { break }
                batch.append(order[cursor]); tokens += n; cursor += 1
            }
            let pooled = encoder.meanPooled(batch.map { windows[$0].ids })
            for (w, vector) in zip(batch, pooled) {
                let window = windows[w]
                for i in 0..<H { sums[window.text][i] += window.weight * vector[i] }
                weights[window.text] += window.weight
                windowsLeft[window.text] -= 1
                if windowsLeft[window.text] == 0 { done += 1 }
            }
            progress?(done)
        }
        let vectors = zip(sums, weights).map { sum, weight in
            var v = sum.map { $0 / weight }
            let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-6)
            for i in 0..<v.count { v[i] /= norm }
            return v
        }
        return (vectors, tokens)
    }
}
