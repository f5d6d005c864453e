import ArgumentParser
import FitEncoder
import FitFormats
import FitPipeline
import Foundation

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Embed arbitrary texts with the built-in encoder or a model folder, outside any store, into an n x d .npy.",
        discussion: """
            INPUT is a JSON list of strings, or - to read that list from standard input. The output is a float32 .npy, one row per text, in input order: the built-in multilingual-e5-small's L2-normalized embeddings, or with --encoder DIR those of a Hugging Face model folder (BERT, XLM-RoBERTa or MPNet, as sentence-transformers saves it: pooled and normalized as the folder says). --tokens-out also writes the token ids the model saw (prefix included, before windowing), as JSON.

            Example:
              echo '["Hello", "नमस्ते"]' | fitstore encode - --out v.npy
              fitstore encode texts.json --out v.npy --encoder ~/models/all-MiniLM-L6-v2 --length-policy truncate
              python3 -c "import numpy as np; v = np.load('v.npy'); print(v.shape, v @ v.T)"
            """)

    @Argument(help: ArgumentHelp("A JSON list of strings, or - for standard input.", valueName: "input"))
    var input: String?

    @Option(help: ArgumentHelp("Where to write the n x d float32 .npy.", valueName: "path"))
    var out: String?

    @Flag(help: "Instead of encoding, print the tokens/s this machine's sgemm allows for the model's dense products (the speed ceiling bench/encoder compares against), what our own float and int8 product kernels reach on them, and each as a share of its instruction's own peak (8-lane FMA; AVX2's int8 step; 512-bit vpdpbusd where present).")
    var measureCeiling = false

    @Flag(help: "Also print where the time went, stage by stage (tokenization, embedding lookup, LayerNorm, activation rounding, dense products, attention, GELU, pooling, windows and batches): thread-seconds summed over the worker threads, and each stage's share.")
    var profile = false

    @Option(help: ArgumentHelp("Also write the token ids per text as JSON.", valueName: "path"))
    var tokensOut: String?

    @OptionGroup var encoder: EncoderOptions

    func validate() throws {
        if !measureCeiling, input == nil || out == nil { throw ValidationError("encode needs INPUT and --out") }
    }

    func run() throws {
        if measureCeiling {
            let threads = encoder.threads, perToken = ProductCeiling.multiplyAddsPerToken()
            let peaks = ProductCeiling.instructionPeaks(threads: threads)
            // A share of the FMA peak for float products (2 flops per multiply-add), of vpdpbusd's for int8.
            func ofFMA(_ tokens: Double) -> String {
                peaks.fmaFlops.map { String(format: ", %.2f of the FMA peak", 2 * tokens * perToken / $0) } ?? ""
            }
            if let f = peaks.fmaFlops {
                print(String(format: "FMA peak: %.0f GFLOP/s with %d thread(s) (8-lane fused multiply-adds, nothing else)", f / 1e9, threads))
            }
            if let a = peaks.avx2Int8MultiplyAdds {
                print(String(format: "AVX2 int8 step peak: %.0f G multiply-adds/s with %d thread(s) (vpsignb, vpmaddubsw, vpmaddwd, vpaddd per 32 byte pairs, nothing else)",
                             a / 1e9, threads))
            }
            if let v = peaks.vnniMultiplyAdds {
                print(String(format: "vpdpbusd peak: %.0f G multiply-adds/s with %d thread(s) (512-bit, nothing else)", v / 1e9, threads))
            }
            let sgemm = try ProductCeiling.tokensPerSecond(.sgemm, threads: threads)
            print(String(format: "sgemm ceiling: %.0f tokens/s with %d thread(s) (12 layers, H 384, FFN 1536, 8192-token batches)%@",
                         sgemm, threads, ofFMA(sgemm)))
            let ours = try ProductCeiling.tokensPerSecond(.rowInvariant, threads: threads)
            print(String(format: "row-invariant product: %.0f tokens/s, %.2f of sgemm%@ (the same products as the encoder runs them)",
                         ours, ours / sgemm, ofFMA(ours)))
            for path in Q8Product.Path.allCases.reversed() where path.rawValue <= Q8Product.best.rawValue {
                // The portable C path runs at about a hundredth of the others: a short batch, once,
                // tells its speed without minutes of waiting.
                let int8 = path == .portable
                    ? try ProductCeiling.tokensPerSecond(.int8(path), tokens: 1024, threads: threads, repeats: 1)
                    : try ProductCeiling.tokensPerSecond(.int8(path), threads: threads)
                // Each SIMD path as a share of its own instructions' peak.
                let peak: (Double, String)? = switch path {
                case .avx512VNNI: peaks.vnniMultiplyAdds.map { ($0, "vpdpbusd") }
                case .avx2: peaks.avx2Int8MultiplyAdds.map { ($0, "AVX2 int8 step") }
                case .portable: nil
                }
                let ofPeak = peak.map { String(format: ", %.2f of the %@ peak", int8 * perToken / $0.0, $0.1) } ?? ""
                print(String(format: "int8 product (%@ path): %.0f tokens/s, %.2f of sgemm, %.2f of the row-invariant float product%@",
                             "\(path)", int8, int8 / sgemm, int8 / ours, ofPeak))
            }
            return
        }
        guard let input, let out else { return }
        // No store here: the checks still refuse to replace any SQLite file (a store, a log).
        let outFile = try OutputFile(URL(fileURLWithPath: out), store: nil)
        let tokensFile = try tokensOut.map { try OutputFile(URL(fileURLWithPath: $0), store: nil, option: "--tokens-out") }
        let name = input == "-" ? "<stdin>" : input
        let bytes: [UInt8]
        if input == "-" {
            bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: input) else {
                throw ValidationError("\(input): cannot read the file")
            }
            bytes = [UInt8](data)
        }
        guard case .array(let items) = try JSONDocument.parse(bytes, file: name) else {
            throw ValidationError("\(name): expected a JSON list of strings")
        }
        let texts = try items.enumerated().map { i, v -> String in
            guard case .string(let s) = v else { throw ValidationError("\(name): item \(i): expected a string, got \(v.typeName)") }
            return s
        }
        let start = Date()
        let embedder = try encoder.makeEmbedder()
        let clock = profile ? EncoderStageClock(workers: encoder.threads) : nil
        embedder.stageClock = clock
        let loaded = Date()
        let progress = TerminalProgress(), phase = "encode \(texts.count) texts"
        var computed = 0
        let (vectors, tokens) = embedder.embedCountingTokens(texts) { step in
            computed = step.tokensTotal
            progress.advance(phase: phase, done: step.tokensDone, total: step.tokensTotal, unit: "window tokens")
        }
        progress.finish(phase: phase)
        let seconds = Date().timeIntervalSince(loaded)
        let matrix = NpyMatrix(rows: texts.count, columns: embedder.dimensions, values: vectors.flatMap { $0 })
        try outFile.write(Data(matrix.encoded()))
        try outFile.commit()
        if let tokensFile {
            let ids = texts.map { embedder.tokenize($0).map(Int.init) }
            try tokensFile.write(try JSONSerialization.data(withJSONObject: ids))
            try tokensFile.commit()
        }
        FileHandle.standardError.write(Data(String(
            format: "encoded %d texts (%d tokens; %d in the windows computed) in %.2f s (%.0f texts/s, %.0f computed tokens/s; model load %.2f s) -> %@\n",
            texts.count, tokens, computed, seconds, Double(texts.count) / max(seconds, 1e-9), Double(computed) / max(seconds, 1e-9),
            loaded.timeIntervalSince(start), out).utf8))
        if let clock {
            let seconds = clock.seconds
            let total = seconds.values.reduce(0, +)
            var lines = [String(format: "where the time went (thread-seconds over %d thread(s); %.2f in all):", encoder.threads, total)]
            for stage in EncoderStageClock.Stage.allCases {
                let s = seconds[stage] ?? 0
                let label = stage.label.padding(toLength: 40, withPad: " ", startingAt: 0)
                lines.append("  " + label + String(format: " %8.3f s  %5.1f%%", s, total > 0 ? 100 * s / total : 0))
            }
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        }
    }
}
