import Foundation

/// Writes a safetensors file whose tensors are streamed in, so that a large tensor never has
/// to be in memory.
///
/// Facts from the safetensors format: an unsigned 64-bit little-endian header length N, then N
/// bytes of UTF-8 JSON mapping each tensor name to `dtype`, `shape` and `data_offsets` [begin,
/// end) relative to the byte buffer that follows the header, plus an optional `__metadata__`
/// object of string values; the tensors tile the buffer without holes. Because shapes are
/// declared in the header, the caller states every tensor's shape up front and then writes
/// the tensors' bytes in the declared order.
public final class SafetensorsWriter {
    public enum DType: String, Sendable {
        case f32 = "F32", f64 = "F64", i64 = "I64", u8 = "U8"

        var size: Int {
            switch self {
            case .f32: 4
            case .f64, .i64: 8
            case .u8: 1
            }
        }
    }

    public struct Tensor: Sendable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]

        public init(name: String, dtype: DType, shape: [Int]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
        }

        var byteCount: Int { shape.reduce(1, *) * dtype.size }
    }

    private let handle: FileHandle
    private let tensors: [Tensor]
    private var current = 0
    private var writtenInCurrent = 0

    public init(url: URL, tensors: [Tensor], metadata: [String: String] = [:]) throws {
        precondition(Set(tensors.map(\.name)).count == tensors.count, "tensor names must be unique")
        self.tensors = tensors
        var entries: [String] = []
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(JSONQuoting.quote($0)):\(JSONQuoting.quote(metadata[$0]!))" }
            entries.append("\"__metadata__\":{" + fields.joined(separator: ",") + "}")
        }
        var offset = 0
        for t in tensors {
            let shape = t.shape.map(String.init).joined(separator: ",")
            entries.append("\(JSONQuoting.quote(t.name)):{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + t.byteCount)]}")
            offset += t.byteCount
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        // Pad with spaces so that the buffer starts 8-byte aligned.
        while (8 + header.count) % 8 != 0 { header.append(0x20) }
        var length = UInt64(header.count).littleEndian
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forWritingTo: url)
        try handle.write(contentsOf: Data(bytes: &length, count: 8))
        try handle.write(contentsOf: header)
        skipEmptyTensors()
    }

    /// Appends bytes to the tensors in declared order; a call may span several tensors.
    public func write<T>(_ values: [T]) throws {
        try values.withUnsafeBytes { raw in
            var remaining = raw.count
            while remaining > 0 {
                precondition(current < tensors.count, "more bytes than the declared tensors hold")
                let room = tensors[current].byteCount - writtenInCurrent
                let n = min(room, remaining)
                try handle.write(contentsOf: Data(raw[(raw.count - remaining)..<(raw.count - remaining + n)]))
                writtenInCurrent += n
                remaining -= n
                if writtenInCurrent == tensors[current].byteCount {
                    current += 1
                    writtenInCurrent = 0
                    skipEmptyTensors()
                }
            }
        }
    }

    private func skipEmptyTensors() {
        while current < tensors.count, tensors[current].byteCount == 0 { current += 1 }
    }

    /// Closes the file; every declared byte must have been written.
    public func close() throws {
        try handle.close()
        precondition(current == tensors.count, "tensor '\(current < tensors.count ? tensors[current].name : "")' is incomplete")
    }
}
