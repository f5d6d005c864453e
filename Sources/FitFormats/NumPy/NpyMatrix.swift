import Foundation

/// A 2-d float32 matrix read from or written to a NumPy `.npy` file (C order, little-endian).
public struct NpyMatrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// Row-major values, rows x columns.
    public var values: [Float]

    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "values do not fill \(rows)x\(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public func row(_ r: Int) -> ArraySlice<Float> { values[(r * columns)..<((r + 1) * columns)] }

    /// Reads a `<f4`, C-order, 2-d array. Anything else is refused with a message that says
    /// what the file holds and what is expected.
    public static func read(contentsOf url: URL) throws -> NpyMatrix {
        try InputFile.requireRegular(url)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw FormatError(file: url.path, message: "cannot read file: \(error.localizedDescription)")
        }
        return try decode([UInt8](data), file: url.path)
    }

    public static func decode(_ bytes: [UInt8], file: String) throws -> NpyMatrix {
        let (header, offset) = try NpyHeader.parse(bytes, file: file)
        func fail(_ message: String) -> FormatError { FormatError(file: file, message: message) }
        guard header.descr == "<f4" else {
            throw fail("dtype '\(header.descr)' is not supported: expected little-endian float32 ('<f4')")
        }
        guard !header.fortranOrder else { throw fail("Fortran-order arrays are not supported: save in C order") }
        guard header.shape.count == 2 else {
            throw fail("expected a 2-d array (rows, columns), found shape \(header.shape)")
        }
        let (rows, columns) = (header.shape[0], header.shape[1])
        let (expected, overflow) = rows.multipliedReportingOverflow(by: columns)
        guard !overflow, expected < Int.max / 4 else { throw fail("shape \(header.shape) is too large") }
        let available = bytes.count - offset
        guard available == expected * 4 else {
            throw fail("data holds \(available) bytes, but shape \(header.shape) of float32 needs \(expected * 4)")
        }
        var values = [Float](repeating: 0, count: expected)
        values.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + expected * 4)]))
            }
        }
        #if _endian(big)
        values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
        #endif
        return NpyMatrix(rows: rows, columns: columns, values: values)
    }

    public func encoded() -> [UInt8] {
        var out = NpyHeader(descr: "<f4", shape: [rows, columns]).serialized()
        values.withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    public func write(to url: URL) throws {
        try Data(encoded()).write(to: url, options: .atomic)
    }
}
