import Foundation

/// The rows of a 2-d float32 (`<f4`), float64 (`<f8`, numpy's default) or float16 (`<f2`)
/// C-order `.npy`, memory-mapped and decoded one row at a time as float32: a file of any size
/// is read in the memory of one row. float64 values are rounded to the nearest float32 (what
/// `astype(np.float32)` gives); float16 values widen exactly.
public struct NpyRows: Sendable {
    public enum DType: String, Sendable {
        case float32 = "<f4", float64 = "<f8", float16 = "<f2"
        var size: Int { switch self { case .float32: 4; case .float64: 8; case .float16: 2 } }
        public var name: String { switch self { case .float32: "float32"; case .float64: "float64"; case .float16: "float16" } }
    }

    public let rows: Int
    public let columns: Int
    public let dtype: DType
    private let data: Data
    private let offset: Int

    public init(contentsOf url: URL) throws {
        try InputFile.requireRegular(url)
        let file = url.path
        func fail(_ message: String) -> FormatError { FormatError(file: file, message: message) }
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw fail("cannot read file: \(error.localizedDescription)")
        }
        // The header is at most 4 GiB by the format; a few hundred bytes in practice.
        let (header, offset) = try NpyHeader.parse([UInt8](data.prefix(min(data.count, 1 << 20))), file: file)
        guard let dtype = DType(rawValue: header.descr) else {
            throw fail("dtype '\(header.descr)' is not supported: expected little-endian float32 ('<f4'), float64 ('<f8') or float16 ('<f2')")
        }
        guard !header.fortranOrder else { throw fail("Fortran-order arrays are not supported: save in C order") }
        guard header.shape.count == 2 else { throw fail("expected a 2-d array (rows, columns), found shape \(header.shape)") }
        let (rows, columns) = (header.shape[0], header.shape[1])
        let size = dtype.size
        let (cells, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, cells < Int.max / 4 else { throw fail("shape \(header.shape) is too large") }
        guard data.count - offset == cells * size else {
            throw fail("data holds \(data.count - offset) bytes, but shape \(header.shape) of \(dtype.name) needs \(cells * size)")
        }
        self.rows = rows
        self.columns = columns
        self.dtype = dtype
        self.offset = offset
    }

    /// Row `r` (0 ..< rows) as float32 values.
    public func row(_ r: Int) -> [Float] {
        data.withUnsafeBytes { raw in
            switch dtype {
            case .float32:
                let start = offset + r * columns * 4
                return (0..<columns).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + $0 * 4, as: UInt32.self))) }
            case .float64:
                let start = offset + r * columns * 8
                return (0..<columns).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + $0 * 8, as: UInt64.self)))) }
            case .float16:
                let start = offset + r * columns * 2
                return (0..<columns).map { Float(Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + $0 * 2, as: UInt16.self)))) }
            }
        }
    }
}
