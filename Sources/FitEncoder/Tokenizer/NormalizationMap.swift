/// The model's per-codepoint normalization: each listed codepoint becomes its replacement
/// sequence (possibly empty); others pass through.
public struct NormalizationMap: Sendable {
    let table: [UInt32: [UInt32]]

    public var count: Int { table.count }

    public func apply(_ scalar: UInt32, into out: inout [UInt32]) {
        if let replacement = table[scalar] { out.append(contentsOf: replacement) } else { out.append(scalar) }
    }
}
