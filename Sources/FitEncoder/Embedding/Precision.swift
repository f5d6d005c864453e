/// The arithmetic of the encoder's matrix products.
///
/// `int8` rounds every weight matrix to int8 once at load and every product input to int8 as
/// it runs, each with its own scale per block of 32 values (finer than a scale per output
/// channel or per token: one outlier costs precision only in its own block), and sums the
/// blocks exactly in 32-bit integers (`Q8Product`). The built-in model's weights are already
/// 4-bit blocks of 32, so for it int8 weights are exact and only the summation order differs
/// from float32; a folder's float32 weights are rounded. Attention, GELU and LayerNorm stay
/// float32. An encoder's key records int8, so its vectors never mix with float32 ones.
public enum Precision: String, Sendable, CaseIterable, Codable {
    case float32, int8
}
