/// Measures every vector encoding on a set of vectors: bytes per vector and the worst error
/// a lossy encoding introduces. `fitstore codecs` prints it; docs/storage.md records it.
public struct VectorEncodingSurvey: Sendable {
    public struct Row: Sendable {
        public let encoding: VectorEncoding
        public let bytesPerVector: Double
        public let ratioToRawFloat32: Double
        public let maxAbsError: Float
        /// Largest 1 - cosine(original, decoded), computed in double precision.
        public let maxCosineLoss: Double
        public let encodeMicroseconds: Double
        public let decodeMicroseconds: Double
    }

    public let vectors: Int
    public let dims: Int
    public let rows: [Row]

    public static let allEncodings: [VectorEncoding] = VectorEncoding.DType.allCases.flatMap { dtype in
        [false, true].flatMap { shuffle in [false, true].map { VectorEncoding(dtype: dtype, shuffle: shuffle, compress: $0) } }
    }

    /// Why the survey cannot measure these vectors.
    public struct Unmeasurable: Error, CustomStringConvertible {
        public let description: String
    }

    public init(vectors: [[Float]], clock: () -> Double) throws {
        guard let first = vectors.first, !first.isEmpty else {
            throw Unmeasurable(description: vectors.isEmpty ? "no vectors to measure (the file has no rows)" : "the vectors have no components")
        }
        guard vectors.allSatisfy({ $0.count == first.count }) else { throw Unmeasurable(description: "the vectors differ in length") }
        self.vectors = vectors.count
        dims = vectors[0].count
        var rows: [Row] = []
        for encoding in Self.allEncodings {
            var bytes = 0
            var maxError: Float = 0
            var maxCosineLoss: Double = 0
            let t0 = clock()
            let blobs = try vectors.map { try VectorCodec.encode($0, as: encoding) }
            let t1 = clock()
            let decoded = try blobs.map { try VectorCodec.decode($0) }
            let t2 = clock()
            for (v, (blob, back)) in zip(vectors, zip(blobs, decoded)) {
                bytes += blob.count
                for i in 0..<v.count { maxError = max(maxError, abs(v[i] - back[i])) }
                var dot = 0.0, nv = 0.0, nb = 0.0
                for i in 0..<v.count {
                    dot += Double(v[i]) * Double(back[i]); nv += Double(v[i]) * Double(v[i]); nb += Double(back[i]) * Double(back[i])
                }
                maxCosineLoss = max(maxCosineLoss, 1 - dot / (nv.squareRoot() * nb.squareRoot()))
            }
            let per = Double(bytes) / Double(vectors.count)
            rows.append(Row(encoding: encoding, bytesPerVector: per, ratioToRawFloat32: per / Double(dims * 4),
                            maxAbsError: maxError, maxCosineLoss: maxCosineLoss,
                            encodeMicroseconds: (t1 - t0) * 1e6 / Double(vectors.count),
                            decodeMicroseconds: (t2 - t1) * 1e6 / Double(vectors.count)))
        }
        self.rows = rows
    }
}
