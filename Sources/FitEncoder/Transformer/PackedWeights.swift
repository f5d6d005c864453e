/// A weight matrix W [outputs, inputs] and its bias, stored for `RowInvariantProduct`: in
/// panels of 16 outputs, each panel [inputs][16], so the product kernel reads 16 weights of
/// one input column as two contiguous 8-lane vectors. Outputs past the last multiple of 16
/// are zero-padded (their results are computed and never stored).
///
/// Packed once at load; the float32 values are the matrix's own, so a product gives the
/// same numbers as from the row-major matrix, only in a fixed order.
public struct PackedWeights: @unchecked Sendable {
    static let panelWidth = 16

    public let outputs: Int
    public let inputs: Int
    /// [panels][inputs][16]
    let panels: UnsafeMutablePointer<Float>
    /// [panels * 16], zero-padded
    let bias: UnsafeMutablePointer<Float>
    private let owner: _Deallocator

    var panelCount: Int { (outputs + Self.panelWidth - 1) / Self.panelWidth }

    /// `weights` is row-major [outputs, inputs]; `bias` has `outputs` values (nil: zeros).
    public init(_ weights: UnsafeBufferPointer<Float>, bias: UnsafeBufferPointer<Float>?, outputs: Int, inputs: Int) {
        precondition(weights.count == outputs * inputs && (bias?.count ?? outputs) == outputs,
                     "PackedWeights: shape does not match the arrays (a caller's bug, not input)")
        self.outputs = outputs
        self.inputs = inputs
        let width = Self.panelWidth
        let count = (outputs + width - 1) / width
        panels = .allocate(capacity: max(1, count * inputs * width))
        panels.initialize(repeating: 0, count: max(1, count * inputs * width))
        self.bias = .allocate(capacity: max(1, count * width))
        self.bias.initialize(repeating: 0, count: max(1, count * width))
        for o in 0..<outputs {
            let panel = panels + (o / width) * inputs * width + o % width
            let row = weights.baseAddress! + o * inputs
            for i in 0..<inputs { panel[i * width] = row[i] }
            if let bias { self.bias[o] = bias[o] }
        }
        owner = _Deallocator([UnsafeMutableRawPointer(panels), UnsafeMutableRawPointer(self.bias)])
    }

    public init(_ weights: [Float], bias: [Float]?, outputs: Int, inputs: Int) {
        self = weights.withUnsafeBufferPointer { w in
            if let bias {
                return bias.withUnsafeBufferPointer { PackedWeights(w, bias: $0, outputs: outputs, inputs: inputs) }
            }
            return PackedWeights(w, bias: nil, outputs: outputs, inputs: inputs)
        }
    }
}

/// Frees the packed buffers when the last copy of a `PackedWeights` goes.
final class _Deallocator: @unchecked Sendable {
    private let pointers: [UnsafeMutableRawPointer]
    init(_ pointers: [UnsafeMutableRawPointer]) { self.pointers = pointers }
    deinit { for p in pointers { p.deallocate() } }
}
