/// Byte-plane transposition of fixed-size elements: element bytes [a0 a1][b0 b1] become
/// [a0 b0][a1 b1]. Its inverse restores the original order.
enum ByteShuffle {
    static func shuffle(_ bytes: UnsafeRawBufferPointer, elementSize: Int, into out: UnsafeMutableRawBufferPointer) {
        let count = bytes.count / elementSize
        for e in 0..<count {
            for b in 0..<elementSize { out[b * count + e] = bytes[e * elementSize + b] }
        }
    }

    static func unshuffle(_ bytes: UnsafeRawBufferPointer, elementSize: Int, into out: UnsafeMutableRawBufferPointer) {
        let count = bytes.count / elementSize
        var start = 0
        if elementSize == 2 {
            // Two byte planes into little-endian 16-bit values, 16 at a time (most vectors are
            // float16: this was most of a decode).
            while start + 16 <= count {
                let lo = SIMD16<UInt16>(truncatingIfNeeded: bytes.loadUnaligned(fromByteOffset: start, as: SIMD16<UInt8>.self))
                let hi = SIMD16<UInt16>(truncatingIfNeeded: bytes.loadUnaligned(fromByteOffset: count + start, as: SIMD16<UInt8>.self))
                out.storeBytes(of: lo | hi &<< 8, toByteOffset: start * 2, as: SIMD16<UInt16>.self)
                start += 16
            }
        }
        for e in start..<count {
            for b in 0..<elementSize { out[e * elementSize + b] = bytes[b * count + e] }
        }
    }
}
