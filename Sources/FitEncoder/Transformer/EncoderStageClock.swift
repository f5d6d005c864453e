import Dispatch

/// Where an encoder's time goes, stage by stage: the thread-seconds each worker spends in each
/// stage, summed (`encode --profile` prints them; docs/encoder.md has the profile). Timing is
/// two clock reads around each block of work (a block is hundreds of rows, or one head of one
/// sequence), so it costs nothing measurable and changes no result.
public final class EncoderStageClock: @unchecked Sendable {
    public enum Stage: Int, CaseIterable, Sendable {
        case tokenize, embeddingLookup, layerNorm, quantize, products, attention, gelu, pooling, windows

        public var label: String {
            switch self {
            case .tokenize: "tokenization"
            case .embeddingLookup: "embedding lookup (copying)"
            case .layerNorm: "LayerNorm (+ residual)"
            case .quantize: "activation rounding to Q8"
            case .products: "dense products"
            case .attention: "attention"
            case .gelu: "GELU"
            case .pooling: "pooling (copying)"
            case .windows: "windows, batches, combining (copying)"
            }
        }
    }

    /// Per worker, per stage: nanoseconds. Workers write only their own row.
    private let slots: UnsafeMutablePointer<UInt64>
    let workers: Int

    public init(workers: Int) {
        self.workers = max(1, workers)
        slots = .allocate(capacity: self.workers * Stage.allCases.count)
        slots.initialize(repeating: 0, count: self.workers * Stage.allCases.count)
    }

    deinit { slots.deallocate() }

    @inline(__always) static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Adds the time since `since` to `stage` of `worker` and returns the time now.
    @inline(__always) @discardableResult
    func lap(_ stage: Stage, worker: Int, since: UInt64) -> UInt64 {
        let t = Self.now()
        slots[min(worker, workers - 1) * Stage.allCases.count + stage.rawValue] &+= t &- since
        return t
    }

    /// Thread-seconds per stage, summed over workers.
    public var seconds: [Stage: Double] {
        var out: [Stage: Double] = [:]
        for stage in Stage.allCases {
            var total: UInt64 = 0
            for w in 0..<workers { total &+= slots[w * Stage.allCases.count + stage.rawValue] }
            out[stage] = Double(total) / 1e9
        }
        return out
    }
}
