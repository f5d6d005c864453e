import Foundation
import GRDB

/// One vector per metric of a data set: its given vector (the data set's own .npy, newest
/// version) when it has one, else the encoder's vector of its definition, or of its name
/// when it has no definition.
public enum MetricVectors {
    public static func load(_ db: Database, dataset: Int64, encoder: Int64?) throws -> (vectors: [Int64: [Float]], source: String) {
        let given = try Row.fetchOne(db, sql: """
            SELECT e.id, e.key, e.dims FROM encoder e
             WHERE e.kind = 'given' AND EXISTS (SELECT 1 FROM metric_embedding me JOIN metric m ON m.id = me.metric_id
                                                 WHERE me.encoder_id = e.id AND m.dataset_id = ?)
             ORDER BY e.id DESC LIMIT 1
            """, arguments: [dataset])
        var vectors: [Int64: [Float]] = [:]
        if let given = given?.stored(in: "encoder") {
            let key: String = try given["key"]
            for row in try Row.fetchAll(db, sql: """
                SELECT me.metric_id, me.vector FROM metric_embedding me JOIN metric m ON m.id = me.metric_id
                 WHERE me.encoder_id = ? AND m.dataset_id = ?
                """, arguments: [try given["id"] as Int64, dataset]) {
                let metric: Int64 = try row.stored(in: "metric_embedding")[0]
                vectors[metric] = try StoredVector.decode(try row.stored(in: "metric_embedding")[1], table: "metric_embedding", row: "metric \(metric), encoder \(key)",
                                                          dims: try given["dims"])
            }
            return (vectors, "given:\(key)")
        }
        guard let encoder else { return ([:], "none") }
        let row = try Row.fetchOne(db, sql: "SELECT dims, key FROM encoder WHERE id = ?", arguments: [encoder])
        let stored = row?.stored(in: "encoder")
        let dims: Int? = try stored?["dims"], key: String = try stored?["key"] ?? "#\(encoder)"
        for row in try Row.fetchAll(db, sql: """
            SELECT m.id, e.vector, e.text_id FROM metric m
              JOIN text_embedding e ON e.text_id = COALESCE(m.definition_text_id, m.name_text_id) AND e.encoder_id = ?
             WHERE m.dataset_id = ?
            """, arguments: [encoder, dataset]) {
            let text: Int64 = try row.stored(in: "metric_embedding")[2]
            vectors[try row.stored(in: "metric_embedding")[0]] = try StoredVector.decode(try row.stored(in: "metric_embedding")[1], table: "text_embedding", row: "text \(text), encoder \(key)", dims: dims)
        }
        return (vectors, "encoder:definition-or-name")
    }
}
