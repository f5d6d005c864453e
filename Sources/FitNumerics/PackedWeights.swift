/// A weight matrix W [outputs, inputs] and its bias, stored for `RowInvariantProduct`: in
/// panels of 16 outputs, each panel [inputs][16], so the product kernel reads 16 weights of
/// one input column as two contiguous 8-lane vectors. Outputs past the last multiple of 16
/// are zero-padded (their results are computed and never stored).
///
/// The float32 values are the matrix's own, so a product gives the same numbers as from the
/// row-major matrix, only in a fixed order. The encoder packs its weights once at load; the
/// trainer repacks into the same storage at every step (`pack` allocates only when the shape
/// grows).
public final class PackedWeights: @unchecked Sendable {
    static let panelWidth = 16

    public private(set) var outputs = 0
    public private(set) var inputs = 0
    /// [panels][inputs][16]
    private(set) var panels: UnsafeMutablePointer<Float>
    /// [panels * 16], zero-padded; all zeros when packed without a bias.
    private(set) var bias: UnsafeMutablePointer<Float>
    private var panelCapacity = 0, biasCapacity = 0

    var panelCount: Int { (outputs + Self.panelWidth - 1) / Self.panelWidth }

    public init() {
        panels = .allocate(capacity: 1)
        bias = .allocate(capacity: 1)
    }

    /// W row-major [outputs, inputs] (or, `transposed`, stored as [inputs, outputs]) and
    /// `outputs` bias values (nil: zeros).
    public convenience init(_ weights: [Float], bias: [Float]?, outputs: Int, inputs: Int) {
        self.init()
        weights.withUnsafeBufferPointer { w in
            if let bias {
                bias.withUnsafeBufferPointer { pack(w.baseAddress!, bias: $0.baseAddress!, outputs: outputs, inputs: inputs) }
            } else {
                pack(w.baseAddress!, bias: nil, outputs: outputs, inputs: inputs)
            }
        }
    }

    deinit { panels.deallocate(); bias.deallocate() }

    /// Packs W, given row-major as [outputs, inputs] (`rowStride` floats between its rows),
    /// or with `transposed` as [inputs, outputs] (`rowStride` floats between those rows).
    public func pack(_ w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?, outputs: Int, inputs: Int,
                     transposed: Bool = false, rowStride: Int? = nil) {
        let width = Self.panelWidth
        self.outputs = outputs
        self.inputs = inputs
        let count = panelCount
        if count * inputs * width > panelCapacity {
            panels.deallocate()
            panelCapacity = count * inputs * width
            panels = .allocate(capacity: panelCapacity)
        }
        if count * width > biasCapacity {
            bias.deallocate()
            biasCapacity = count * width
            bias = .allocate(capacity: biasCapacity)
        }
        if outputs % width != 0 { panels.update(repeating: 0, count: count * inputs * width) }
        bias.update(repeating: 0, count: count * width)
        if let b { bias.update(from: b, count: outputs) }
        if transposed {
            let stride = rowStride ?? outputs
            for i in 0..<inputs {
                let row = w + i * stride
                for o in 0..<outputs { panels[(o / width) * inputs * width + i * width + o % width] = row[o] }
            }
        } else {
            let stride = rowStride ?? inputs
            for o in 0..<outputs {
                let panel = panels + (o / width) * inputs * width + o % width
                let row = w + o * stride
                for i in 0..<inputs { panel[i * width] = row[i] }
            }
        }
    }
}
