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
        for e in 0..<count {
            for b in 0..<elementSize { out[e * elementSize + b] = bytes[b * count + e] }
        }
    }
}
