import CLZ4
import FitFormats
import Foundation

/// The self-describing vector blob stored in every vector column.
///
///     offset  size  field
///          0     4  magic "FVEC"
///          4     1  format version (1)
///          5     1  dtype: 1 float32, 2 float16
///          6     1  transform: 0 none, 1 byte-shuffle
///          7     1  codec: 0 stored, 1 LZ4 block
///          8     4  dims (u32, little-endian)
///         12     4  raw length in bytes = dims x dtype size (u32)
///         16     4  CRC-32 of the raw little-endian values, before transform and codec
///         20     …  payload
///
/// Decoding checks every field, bounds the LZ4 decompression by the declared length and
/// verifies the checksum, so a damaged or foreign blob throws instead of crashing or
/// returning garbage.
public enum VectorCodec {
    public static let magic: [UInt8] = Array("FVEC".utf8)
    public static let formatVersion: UInt8 = 1
    public static let headerSize = 20
    public static let maximumDims = 1 << 24

    public struct Header: Sendable, Equatable {
        public let dtype: VectorEncoding.DType
        public let shuffled: Bool
        public let compressed: Bool
        public let dims: Int
        public let rawLength: Int
        public let checksum: UInt32
    }

    // MARK: Encode

    /// Refuses what no stored vector may hold: no values, too many, or a value that is not
    /// finite (or, as float16, beyond its range, where it would become infinite).
    public static func encode(_ vector: [Float], as encoding: VectorEncoding = .compact) throws -> Data {
        guard !vector.isEmpty, vector.count <= maximumDims else {
            throw StoreError.invalidVector("\(vector.count) values: a vector holds 1 to \(maximumDims)")
        }
        let limit = encoding.dtype == .float16 ? Float(Float16.greatestFiniteMagnitude) : .greatestFiniteMagnitude
        if let bad = vector.firstIndex(where: { !($0.magnitude <= limit) }) {
            throw StoreError.invalidVector("value \(vector[bad]) at index \(bad) is not a finite \(encoding.dtype.name)")
        }
        guard squaredLengthIsFinite(vector) else { throw StoreError.invalidVector("values too large: their squared length overflows") }
        var raw = rawBytes(vector, dtype: encoding.dtype)
        let checksum = CRC32.checksum(raw)
        if encoding.shuffle {
            var shuffled = [UInt8](repeating: 0, count: raw.count)
            raw.withUnsafeBytes { src in
                shuffled.withUnsafeMutableBytes { ByteShuffle.shuffle(src, elementSize: encoding.dtype.size, into: $0) }
            }
            raw = shuffled
        }
        var payload = raw
        var compressed = false
        if encoding.compress {
            let bound = Int(LZ4_compressBound(Int32(raw.count)))
            var out = [UInt8](repeating: 0, count: bound)
            let written = raw.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    LZ4_compress_default(src.baseAddress!.assumingMemoryBound(to: CChar.self),
                                         dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                                         Int32(raw.count), Int32(bound))
                }
            }
            if written > 0 && Int(written) < raw.count {
                payload = Array(out[0..<Int(written)])
                compressed = true
            }
        }
        var blob = Data(capacity: headerSize + payload.count)
        blob.append(contentsOf: magic)
        blob.append(formatVersion)
        blob.append(encoding.dtype.rawValue)
        blob.append(encoding.shuffle ? 1 : 0)
        blob.append(compressed ? 1 : 0)
        appendU32(&blob, UInt32(vector.count))
        appendU32(&blob, UInt32(raw.count))
        appendU32(&blob, checksum)
        blob.append(contentsOf: payload)
        return blob
    }

    static func squaredLengthIsFinite(_ values: [Float]) -> Bool {
        values.reduce(Float(0)) { $0 + $1 * $1 }.isFinite
    }

    private static func appendU32(_ data: inout Data, _ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    static func rawBytes(_ vector: [Float], dtype: VectorEncoding.DType) -> [UInt8] {
        switch dtype {
        case .float32:
            var out = [UInt8](repeating: 0, count: vector.count * 4)
            out.withUnsafeMutableBytes { dst in
                for (i, v) in vector.enumerated() { dst.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
            }
            return out
        case .float16:
            var out = [UInt8](repeating: 0, count: vector.count * 2)
            out.withUnsafeMutableBytes { dst in
                for (i, v) in vector.enumerated() {
                    dst.storeBytes(of: Float16(v).bitPattern.littleEndian, toByteOffset: i * 2, as: UInt16.self)
                }
            }
            return out
        }
    }

    // MARK: Decode

    public static func header(of blob: Data) throws -> Header {
        try blob.withUnsafeBytes { try header(of: $0) }
    }

    static func header(of bytes: UnsafeRawBufferPointer) throws -> Header {
        guard bytes.count >= headerSize else {
            throw StoreError.invalidVector("\(bytes.count) bytes is shorter than the \(headerSize)-byte header")
        }
        guard bytes[0] == magic[0], bytes[1] == magic[1], bytes[2] == magic[2], bytes[3] == magic[3] else {
            throw StoreError.invalidVector("not a fitstore vector blob (bad magic)")
        }
        guard bytes[4] == formatVersion else {
            throw StoreError.invalidVector("unsupported vector format version \(bytes[4])")
        }
        guard let dtype = VectorEncoding.DType(rawValue: bytes[5]) else {
            throw StoreError.invalidVector("unknown dtype code \(bytes[5])")
        }
        guard bytes[6] <= 1 else { throw StoreError.invalidVector("unknown transform code \(bytes[6])") }
        guard bytes[7] <= 1 else { throw StoreError.invalidVector("unknown codec code \(bytes[7])") }
        let dims = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        let rawLength = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        let checksum = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        guard dims > 0, dims <= maximumDims else { throw StoreError.invalidVector("dims \(dims) out of range") }
        guard rawLength == dims * dtype.size else {
            throw StoreError.invalidVector("raw length \(rawLength) disagrees with \(dims) x \(dtype.name)")
        }
        return Header(dtype: dtype, shuffled: bytes[6] == 1, compressed: bytes[7] == 1,
                      dims: dims, rawLength: rawLength, checksum: checksum)
    }

    public static func decode(_ blob: Data) throws -> [Float] {
        try blob.withUnsafeBytes { try decode($0) }
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> [Float] {
        let header = try header(of: bytes)
        let payload = UnsafeRawBufferPointer(rebasing: bytes[headerSize...])
        var raw = [UInt8](repeating: 0, count: header.rawLength)
        if header.compressed {
            guard !payload.isEmpty else { throw StoreError.invalidVector("empty LZ4 payload") }
            let produced = raw.withUnsafeMutableBytes { dst in
                LZ4_decompress_safe(payload.baseAddress!.assumingMemoryBound(to: CChar.self),
                                    dst.baseAddress!.assumingMemoryBound(to: CChar.self),
                                    Int32(payload.count), Int32(header.rawLength))
            }
            guard produced == header.rawLength else {
                throw StoreError.invalidVector("damaged LZ4 payload (decoded \(produced) of \(header.rawLength) bytes)")
            }
        } else {
            guard payload.count == header.rawLength else {
                throw StoreError.invalidVector("payload holds \(payload.count) bytes, expected \(header.rawLength)")
            }
            raw.withUnsafeMutableBytes { $0.copyMemory(from: payload) }
        }
        if header.shuffled {
            var plain = [UInt8](repeating: 0, count: raw.count)
            raw.withUnsafeBytes { src in
                plain.withUnsafeMutableBytes { ByteShuffle.unshuffle(src, elementSize: header.dtype.size, into: $0) }
            }
            raw = plain
        }
        guard CRC32.checksum(raw) == header.checksum else {
            throw StoreError.invalidVector("checksum mismatch: the blob is damaged")
        }
        let values = raw.withUnsafeBytes { src in
            switch header.dtype {
            case .float32:
                (0..<header.dims).map { Float(bitPattern: UInt32(littleEndian: src.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            case .float16:
                [Float](unsafeUninitializedCapacity: header.dims) { out, initialized in
                    // Eight at a time: with F16C one instruction converts them.
                    var i = 0
                    #if _endian(little)
                    while i + 8 <= header.dims {
                        let bits = src.loadUnaligned(fromByteOffset: i * 2, as: SIMD8<UInt16>.self)
                        let wide = SIMD8<Float>(unsafeBitCast(bits, to: SIMD8<Float16>.self))
                        UnsafeMutableRawPointer(out.baseAddress! + i).storeBytes(of: wide, as: SIMD8<Float>.self)
                        i += 8
                    }
                    #endif
                    while i < header.dims {
                        out[i] = Float(Float16(bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))))
                        i += 1
                    }
                    initialized = header.dims
                }
            }
        }
        // A well-formed blob can still hold NaN or infinity (written by something else):
        // no reader may take it for a vector.
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw StoreError.invalidVector("value \(values[bad]) at index \(bad) is not finite")
        }
        // Finite values whose squares overflow would make every product with them infinite.
        guard squaredLengthIsFinite(values) else { throw StoreError.invalidVector("values too large: their squared length overflows") }
        return values
    }
}
