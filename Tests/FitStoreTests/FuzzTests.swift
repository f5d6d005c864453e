import FitFormats
@testable import FitStore
import Foundation
import GRDB
import Testing

/// 10,000 adversarial blobs that pass as vector blobs at first sight (the magic, a version,
/// a checksum that matches what they hold): wrong dimensions, NaN, infinities, subnormals,
/// huge values, unknown dtype codes, lengths that disagree. Every reader refuses what is not
/// a usable vector, with an error; none crashes.
@Suite struct FuzzTests {
    /// A blob with a correct CRC over whatever it holds, stored uncompressed.
    static func blob(dtype: UInt8, dims: Int, values: [Float], declaredLength: Int? = nil) -> Data {
        var raw: [UInt8] = []
        for v in values {
            if dtype == 2 {
                withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { raw += $0 }
            } else {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { raw += $0 }
            }
        }
        var out = Data(VectorCodec.magic)
        out += [VectorCodec.formatVersion, dtype, 0, 0]
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: dims).littleEndian) { out += $0 }
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: declaredLength ?? raw.count).littleEndian) { out += $0 }
        withUnsafeBytes(of: CRC32.checksum(raw).littleEndian) { out += $0 }
        out += raw
        return out
    }

    static func adversarial(_ rng: inout SplitMix64) -> (blob: Data, dims: Int, bad: Bool) {
        let specials: [Float] = [.nan, .infinity, -.infinity, Float.leastNonzeroMagnitude, -Float.leastNormalMagnitude / 3,
                                 3e38, -3e38, 1e20, 65_504, 70_000, 0, 1]
        let dtype: UInt8 = [1, 2, 1, 2, 0, 3, 255][Int(rng.next() % 7)]
        let dims = [384, 384, 384, 100, 1, 0, 383, 385, 1 << 20][Int(rng.next() % 9)]
        let count = min(dims, 4096)
        var values = (0..<count).map { _ in Float(rng.nextGaussian() * 0.05) }
        let poison = Int(rng.next() % 4)
        for _ in 0..<poison where count > 0 { values[Int(rng.next() % UInt64(count))] = specials[Int(rng.next() % UInt64(specials.count))] }
        let lie = rng.next() % 10 == 0 ? Int(rng.next() % 5000) : nil
        return (blob(dtype: dtype, dims: dims, values: values, declaredLength: lie), dims, false)
    }

    @Test func tenThousandAdversarialBlobsThroughEveryReader() throws {
        let store = try TemporaryStore().open()
        var rng = SplitMix64(seed: 2026)
        var accepted = 0, refused = 0
        for i in 0..<10_000 {
            let (blob, _, _) = Self.adversarial(&rng)
            // The codec: a vector, or an error.
            if let values = try? VectorCodec.decode(blob) {
                let finite = values.allSatisfy { $0.isFinite }
                #expect(finite, "blob \(i): decode returned a non-finite value")
                accepted += 1
            } else {
                refused += 1
            }
            // The readers' check: the encoder's dimension and finite values, or an error naming the row.
            do {
                let v = try StoredVector.decode(blob, table: "text_embedding", row: "text \(i), encoder e", dims: 384)
                #expect(v.count == 384 && v.reduce(Float(0), { $0 + $1 * $1 }).isFinite)
            } catch let error as StoreError {
                #expect("\(error)".hasPrefix("text_embedding text \(i), encoder e is damaged"), "\(error)")
            }
            // The SQL functions: a value or an SQL error.
            try store.read { db in
                for sql in ["SELECT vec_dims(?)", "SELECT vec_dtype(?)", "SELECT vec_norm(?)", "SELECT vec_json(?)", "SELECT vec_cosine(?1, ?1)"] {
                    if let value = try? Double.fetchOne(db, sql: sql, arguments: [blob]) {
                        #expect(value.isFinite || sql.contains("cosine"), "blob \(i): \(sql) gave \(value)")
                    }
                }
            }
        }
        #expect(accepted > 100 && refused > 1000, "the blobs exercise both paths: \(accepted) accepted, \(refused) refused")
    }

    /// The codec never writes what a reader would refuse.
    @Test func theCodecRefusesToWriteNonFiniteValues() {
        for bad: Float in [.nan, .infinity, -.infinity] {
            #expect(throws: StoreError.self) { try VectorCodec.encode([1, bad, 0]) }
            #expect(throws: StoreError.self) { try VectorCodec.encode([1, bad, 0], as: .lossless) }
        }
        #expect(throws: StoreError.self) { try VectorCodec.encode([70_000], as: .compact) }  // beyond float16
        #expect(throws: StoreError.self) { try VectorCodec.encode([]) }
    }
}
