import Foundation
import GRDB

/// A data set's own metric vectors (DA5401's metric_name_embeddings.npy), which no text of
/// ours can reproduce, stored losslessly under a `given` encoder.
public enum GivenMetricVectors {
    /// Stores `vectors[i]` for metric `metrics[i]`; returns how many were new.
    public static func insert(_ db: Database, encoder: Int64, _ vectors: [(metric: Int64, vector: [Float])], run: Int64) throws -> Int {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO metric_embedding (metric_id, encoder_id, vector, run_id) VALUES (?, ?, ?, ?)
            ON CONFLICT (metric_id, encoder_id) DO NOTHING
            """)
        var added = 0
        for (metric, vector) in vectors {
            try insert.execute(arguments: [metric, encoder, try VectorCodec.encode(vector, as: .lossless), run])
            added += db.changesCount
        }
        return added
    }
}
