import Foundation

/// A `.safetensors` file, memory-mapped: an 8-byte little-endian header length, a JSON header
/// naming each tensor's dtype, shape and [begin, end) byte range within the data that
/// follows, then the data. The header is checked whole at open (every range inside the data,
/// the ranges neither overlapping nor leaving gaps, each range exactly shape x dtype size), so
/// a tensor read later cannot reach past the file.
public final class SafetensorsFile: @unchecked Sendable {
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64", i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

        public var size: Int {
            switch self {
            case .f64, .i64: 8
            case .f32, .i32: 4
            case .f16, .bf16, .i16: 2
            case .i8, .u8, .bool: 1
            }
        }
    }

    public struct Tensor: Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// Absolute byte range in the file.
        public let range: Range<Int>
        public var count: Int { shape.reduce(1, *) }
    }

    public let path: String
    public let tensors: [String: Tensor]
    public let metadata: [String: String]
    fileprivate let data: Data

    public init(path: String) throws {
        func fail(_ message: String) -> SafetensorsError { SafetensorsError(path: path, message: message) }
        do { try InputFile.requireRegular(URL(fileURLWithPath: path)) } catch let error as FormatError { throw fail(error.message) }
        data = try Self.map(path: path, fail: fail)
        self.path = path
        guard data.count >= 8 else { throw fail("\(data.count) bytes: too short for a safetensors header") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength >= 2, headerLength <= UInt64(min(data.count - 8, 100 << 20)) else {
            throw fail("header length \(headerLength) does not fit the file's \(data.count) bytes")
        }
        let header = [UInt8](data[8..<(8 + Int(headerLength))])
        guard case .object(let object) = try JSONDocument.parse(header, file: path + " (header)") else {
            throw fail("the header is not a JSON object")
        }
        let dataStart = 8 + Int(headerLength)
        var tensors: [String: Tensor] = [:], metadata: [String: String] = [:]
        for (name, value) in zip(object.keys, object.values) {
            if name == "__metadata__" {
                guard case .object(let m) = value else { throw fail("__metadata__ is not an object") }
                for (k, v) in zip(m.keys, m.values) {
                    guard let s = v.stringValue else { throw fail("__metadata__.\(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let t) = value else { throw fail("tensor '\(name)': not an object") }
            guard let dtypeName = t["dtype"]?.stringValue else { throw fail("tensor '\(name)': no dtype") }
            guard let dtype = DType(rawValue: dtypeName) else { throw fail("tensor '\(name)': dtype \(dtypeName) is not supported") }
            guard let shapeValues = t["shape"]?.arrayValue else { throw fail("tensor '\(name)': no shape") }
            var shape: [Int] = []
            for v in shapeValues {
                guard case .number(let lexeme) = v, let n = Int(lexeme), n >= 0, n < 1 << 40 else {
                    throw fail("tensor '\(name)': shape holds \(v) (expected counts)")
                }
                shape.append(n)
            }
            guard let offsets = t["data_offsets"]?.arrayValue, offsets.count == 2,
                  case .number(let b) = offsets[0], case .number(let e) = offsets[1],
                  let begin = Int(b), let end = Int(e), begin >= 0, end >= begin else {
                throw fail("tensor '\(name)': data_offsets is not [begin, end]")
            }
            let (count, overflow) = shape.reduce((1, false)) { acc, n in
                let (p, o) = acc.0.multipliedReportingOverflow(by: n)
                return (p, acc.1 || o)
            }
            guard !overflow, count.multipliedReportingOverflow(by: dtype.size).partialValue == end - begin else {
                throw fail("tensor '\(name)': \(end - begin) bytes do not hold shape \(shape) of \(dtypeName)")
            }
            guard end <= data.count - dataStart else {
                throw fail("tensor '\(name)': bytes \(begin)..<\(end) lie past the end of the file (truncated?)")
            }
            tensors[name] = Tensor(name: name, dtype: dtype, shape: shape, range: (dataStart + begin)..<(dataStart + end))
        }
        // The ranges tile the data: no overlap (a tensor aliasing another) and no gap.
        var cursor = dataStart
        for t in tensors.values.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
            guard t.range.lowerBound == cursor else {
                throw fail(t.range.lowerBound < cursor ? "tensor '\(t.name)' overlaps another" : "a gap of \(t.range.lowerBound - cursor) bytes before tensor '\(t.name)'")
            }
            cursor = t.range.upperBound
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The values of a floating-point tensor as float32, checking its shape.
    public func floats(_ name: String, shape expected: [Int]) throws -> [Float] {
        guard let t = tensors[name] else { throw SafetensorsError(path: path, message: "no tensor '\(name)'") }
        guard t.shape == expected else {
            throw SafetensorsError(path: path, message: "tensor '\(name)' has shape \(t.shape), expected \(expected)")
        }
        var out = [Float](repeating: 0, count: t.count)
        try data.withUnsafeBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[t.range])
            switch t.dtype {
            case .f32:
                for i in 0..<t.count { out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
            case .f16:
                for i in 0..<t.count { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))) }
            case .bf16:
                // bfloat16 is the top half of a float32.
                for i in 0..<t.count { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) << 16) }
            case .f64:
                for i in 0..<t.count { out[i] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))) }
            default:
                throw SafetensorsError(path: path, message: "tensor '\(name)' holds \(t.dtype.rawValue), not floating-point values")
            }
        }
        guard out.allSatisfy(\.isFinite) else {
            throw SafetensorsError(path: path, message: "tensor '\(name)' holds a NaN or infinite value")
        }
        releasePages(t.range)
        return out
    }

    /// The file mapped read-only (our own mmap, so that `releasePages` knows it drops pages
    /// of a file, never of memory that holds the only copy); unmapped with the last reference.
    static func map(path: String, fail: (String) -> SafetensorsError) throws -> Data {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw fail("cannot open the file (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw fail("cannot read the file's size (\(String(cString: strerror(errno))))") }
        let size = Int(info.st_size)
        guard size >= 8 else { throw fail("\(size) bytes: too short for a safetensors header") }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw fail("cannot map the file (\(String(cString: strerror(errno))))")
        }
        return Data(bytesNoCopy: base, count: size, deallocator: .custom { pointer, count in _ = munmap(pointer, count) })
    }

    /// Tells the kernel the mapped pages of `range` are not needed now: the tensor was copied
    /// (or checked), and a later read faults them in again from the file. Without it every
    /// weight would count twice in the process's memory, once copied and once mapped.
    func releasePages(_ range: Range<Int>) {
        #if os(Linux)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            let address = Int(bitPattern: base)
            // Whole pages only, inside the range: a neighbour's page is left alone.
            let first = (address + range.lowerBound + page - 1) / page * page
            let last = (address + range.upperBound) / page * page
            guard last > first, let start = UnsafeMutableRawPointer(bitPattern: first) else { return }
            _ = madvise(start, last - first, Int32(MADV_DONTNEED))
        }
        #endif
    }
}

extension SafetensorsFile {
    /// A [rows, columns] floating-point matrix left in the mapped file, read a row at a time:
    /// a large vocabulary's embedding table (250,002 x 768 for XLM-R base: 768 MB as
    /// float32) is never copied whole.
    public struct Rows: @unchecked Sendable {
        let file: SafetensorsFile
        let tensor: Tensor
        public let rows: Int
        public let columns: Int

        /// Row `r` as float32 into `out` (`columns` values); false when `r` is not a row.
        @discardableResult
        public func row(_ r: Int, into out: UnsafeMutableBufferPointer<Float>) -> Bool {
            guard r >= 0, r < rows, out.count == columns else { return false }
            let size = tensor.dtype.size
            file.data.withUnsafeBytes { raw in
                let start = tensor.range.lowerBound + r * columns * size
                let bytes = UnsafeRawBufferPointer(rebasing: raw[start..<(start + columns * size)])
                switch tensor.dtype {
                case .f16:
                    for i in 0..<columns { out[i] = Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))) }
                case .bf16:
                    for i in 0..<columns { out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) << 16) }
                case .f64:
                    for i in 0..<columns { out[i] = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))) }
                default:
                    for i in 0..<columns { out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) }
                }
            }
            return true
        }
    }

    /// The tensor `name` as rows, checking it is a floating-point [rows, columns] matrix.
    /// Its values are checked finite here, once, so a row read later needs no check.
    public func rows(_ name: String, rows: Int, columns: Int) throws -> Rows {
        guard let t = tensors[name] else { throw SafetensorsError(path: path, message: "no tensor '\(name)'") }
        guard t.shape == [rows, columns] else {
            throw SafetensorsError(path: path, message: "tensor '\(name)' has shape \(t.shape), expected \([rows, columns])")
        }
        guard [.f32, .f16, .bf16, .f64].contains(t.dtype) else {
            throw SafetensorsError(path: path, message: "tensor '\(name)' holds \(t.dtype.rawValue), not floating-point values")
        }
        let matrix = Rows(file: self, tensor: t, rows: rows, columns: columns)
        var buffer = [Float](repeating: 0, count: columns)
        for r in 0..<rows {
            buffer.withUnsafeMutableBufferPointer { matrix.row(r, into: $0) }
            guard buffer.allSatisfy(\.isFinite) else {
                throw SafetensorsError(path: path, message: "tensor '\(name)' row \(r) holds a NaN or infinite value")
            }
        }
        releasePages(t.range)
        return matrix
    }
}

public struct SafetensorsError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}
