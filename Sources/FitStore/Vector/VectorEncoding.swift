/// How a vector is laid out in its blob. Every choice is written into the blob's header, so a
/// reader never needs to know which encoding was in force when it was written.
public struct VectorEncoding: Sendable, Equatable, CustomStringConvertible {
    public enum DType: UInt8, Sendable, CaseIterable {
        case float32 = 1
        case float16 = 2

        public var size: Int { self == .float32 ? 4 : 2 }
        public var name: String { self == .float32 ? "float32" : "float16" }
    }

    public var dtype: DType
    /// Byte-shuffle (all first bytes, then all second bytes, ...) before compression: the
    /// exponent bytes of neighbouring floats are alike, which LZ4 can then find.
    public var shuffle: Bool
    /// LZ4-compress the payload (kept raw when compression would not save a byte).
    public var compress: Bool

    public init(dtype: DType, shuffle: Bool, compress: Bool) {
        self.dtype = dtype
        self.shuffle = shuffle
        self.compress = compress
    }

    /// Lossless, for vectors given by a data set (they must round-trip bit for bit).
    public static let lossless = VectorEncoding(dtype: .float32, shuffle: true, compress: true)
    /// The default for vectors we compute: see docs/storage.md for the measurements.
    public static let compact = VectorEncoding(dtype: .float16, shuffle: true, compress: true)

    public var description: String {
        "\(dtype.name)\(shuffle ? "+shuffle" : "")\(compress ? "+lz4" : "")"
    }
}
