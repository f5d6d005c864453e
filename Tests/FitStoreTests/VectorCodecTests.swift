import FitStore
import Foundation
import Testing

@Suite struct VectorCodecTests {
    static let encodings = VectorEncodingSurvey.allEncodings

    static func unitVector(_ dims: Int, seed: UInt64) -> [Float] {
        var state = seed
        var v = (0..<dims).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000
        }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        v = v.map { $0 / norm }
        return v
    }

    @Test(arguments: encodings)
    func roundTrips(encoding: VectorEncoding) throws {
        for dims in [1, 3, 384, 768] {
            let v = Self.unitVector(dims, seed: UInt64(dims))
            let blob = try VectorCodec.encode(v, as: encoding)
            let header = try VectorCodec.header(of: blob)
            #expect(header.dims == dims && header.dtype == encoding.dtype)
            let back = try VectorCodec.decode(blob)
            if encoding.dtype == .float32 {
                #expect(back == v)
            } else {
                #expect(zip(back, v).allSatisfy { abs($0 - $1) <= 1e-3 })
            }
        }
    }

    @Test func compressesRepetitiveVectors() throws {
        let v = [Float](repeating: 0.5, count: 768)
        let blob = try VectorCodec.encode(v, as: .lossless)
        #expect(blob.count < 200)
        #expect(try VectorCodec.header(of: blob).compressed)
        #expect(try VectorCodec.decode(blob) == v)
    }

    @Test(arguments: encodings)
    func everySingleByteFlipIsDetected(encoding: VectorEncoding) throws {
        let v = Self.unitVector(64, seed: 7)
        let blob = try VectorCodec.encode(v, as: encoding)
        for i in 0..<blob.count {
            var damaged = blob
            damaged[i] ^= 0x5A
            // A flip may only ever throw, or (in the reserved-free header) decode to the same vector.
            if let back = try? VectorCodec.decode(damaged) {
                Issue.record("byte \(i) flipped decoded silently to \(back.count) values")
            }
        }
    }

    @Test(arguments: encodings)
    func everyTruncationThrows(encoding: VectorEncoding) throws {
        let blob = try VectorCodec.encode(Self.unitVector(96, seed: 3), as: encoding)
        for cut in 0..<blob.count {
            #expect(throws: StoreError.self) { try VectorCodec.decode(blob.prefix(cut)) }
        }
    }

    @Test func foreignAndRandomBytesThrowNeverCrash() {
        var rng = SystemRandomNumberGenerator()
        #expect(throws: StoreError.self) { try VectorCodec.decode(Data("hello world, not a vector".utf8)) }
        for _ in 0..<2000 {
            var bytes = Data((0..<Int.random(in: 0..<200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            if Bool.random(using: &rng), bytes.count >= 20 {
                // A valid-looking header over random payload: exercises LZ4's bounds checks.
                bytes.replaceSubrange(0..<8, with: Array("FVEC".utf8) + [1, UInt8.random(in: 1...2, using: &rng), UInt8.random(in: 0...1, using: &rng), 1])
            }
            _ = try? VectorCodec.decode(bytes)
        }
    }
}
