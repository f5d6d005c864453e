/// Bounds-checked little-endian reads over the model image: a truncated or malformed file
/// throws instead of reading past the end.
struct ByteCursor {
    let base: UnsafeRawBufferPointer
    var offset: Int
    let path: String

    init(_ base: UnsafeRawBufferPointer, path: String, offset: Int = 0) {
        self.base = base
        self.offset = offset
        self.path = path
    }

    func fail(_ message: String) -> ModelFileError {
        ModelFileError(path: path, message: "\(message) (at byte \(offset))")
    }

    mutating func need(_ count: Int, _ what: String) throws {
        guard count >= 0, offset <= base.count - count else { throw fail("truncated while reading \(what)") }
    }

    mutating func u8(_ what: String) throws -> UInt8 {
        try need(1, what)
        defer { offset += 1 }
        return base[offset]
    }

    mutating func u16(_ what: String) throws -> UInt16 {
        try need(2, what)
        defer { offset += 2 }
        return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    mutating func u32(_ what: String) throws -> UInt32 {
        try need(4, what)
        defer { offset += 4 }
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    mutating func i32(_ what: String) throws -> Int {
        Int(Int32(bitPattern: try u32(what)))
    }

    /// A u64 that must be a size or offset within this process's reach.
    mutating func size(_ what: String) throws -> Int {
        let value = try u64(what)
        guard let size = Int(exactly: value), size <= Int(Int32.max) * 64 else { throw fail("\(what) \(value) is not a possible size") }
        return size
    }

    mutating func u64(_ what: String) throws -> UInt64 {
        try need(8, what)
        defer { offset += 8 }
        return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    mutating func f32(_ what: String) throws -> Float {
        Float(bitPattern: try u32(what))
    }

    /// A positive count, bounded so that a corrupt header cannot ask for absurd allocations.
    mutating func count(_ what: String, max: Int) throws -> Int {
        let n = try i32(what)
        guard n >= 0, n <= max else { throw fail("\(what) = \(n) is out of range (0...\(max))") }
        return n
    }

    mutating func bytes(_ count: Int, _ what: String) throws -> UnsafeRawBufferPointer {
        try need(count, what)
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: base[offset..<(offset + count)])
    }
}
