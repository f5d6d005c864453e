import Foundation

/// Writes a C-order .npy array row by row, so that a large matrix never has to be in memory.
/// The row count is patched into the header when the writer is closed.
public final class NpyStreamWriter {
    public enum ElementType: String, Sendable {
        case float32 = "<f4"
        case float64 = "<f8"
        case int64 = "<i8"

        var size: Int { self == .float32 ? 4 : 8 }
    }

    private let handle: FileHandle
    private let url: URL
    private let type: ElementType
    private let columns: Int?
    private let headerReserve: Int
    public private(set) var rows = 0

    /// `columns` nil writes a 1-d array.
    public init(url: URL, type: ElementType, columns: Int?) throws {
        self.url = url
        self.type = type
        self.columns = columns
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forWritingTo: url)
        // Reserve the header of the largest row count so patching never moves the data.
        let widest = NpyHeader(descr: type.rawValue, shape: columns.map { [Int(Int32.max) * 1000, $0] } ?? [Int(Int32.max) * 1000])
        headerReserve = widest.serialized().count
        try handle.write(contentsOf: [UInt8](repeating: 0x20, count: headerReserve))
    }

    public func append(float32 values: [Float]) throws {
        precondition(type == .float32)
        try appendRaw(values.withUnsafeBytes { Data($0) }, count: values.count)
    }

    public func append(float64 values: [Double]) throws {
        precondition(type == .float64)
        try appendRaw(values.withUnsafeBytes { Data($0) }, count: values.count)
    }

    public func append(int64 values: [Int64]) throws {
        precondition(type == .int64)
        try appendRaw(values.withUnsafeBytes { Data($0) }, count: values.count)
    }

    private func appendRaw(_ data: Data, count: Int) throws {
        let width = columns ?? 1
        precondition(count % width == 0, "a partial row")
        try handle.write(contentsOf: data)
        rows += count / width
    }

    public func close() throws {
        let shape = columns.map { [rows, $0] } ?? [rows]
        var header = NpyHeader(descr: type.rawValue, shape: shape).serialized()
        // Pad the real header to the reserved size: spaces before the final newline.
        let padding = headerReserve - header.count
        if padding > 0 {
            header.removeLast()
            header += [UInt8](repeating: 0x20, count: padding) + [0x0a]
            let length = header.count - (header[6] == 1 ? 10 : 12)
            header[8] = UInt8(length & 0xff)
            header[9] = UInt8((length >> 8) & 0xff)
            if header[6] != 1 { header[10] = UInt8((length >> 16) & 0xff); header[11] = UInt8((length >> 24) & 0xff) }
        }
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: header)
        try handle.close()
    }
}
