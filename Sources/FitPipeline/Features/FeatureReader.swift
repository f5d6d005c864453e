import FitAugment
import FitStore
import Foundation
import GRDB

/// Streams the feature rows of a selection in sample id order, a batch at a time, so that a
/// consumer (training, export) never needs more than one batch of vectors it does not keep.
///
/// Each row is [prompt vector | response vector | metric vector]: prompt and response from the
/// selection's encoder, the metric's given vector when the data set has one, otherwise the
/// encoder's vector of the metric's definition (or its name). A missing response is a zero
/// vector. Synthetic rows are materialized from their recipes: a shuffle or metric swap
/// points at its texts directly; a noise row adds its seeded noise to its parent's vectors.
public struct FeatureReader {
    public let selection: FeatureSelection
    public let layout: FeatureMatrix.Layout
    public let width: Int
    /// Rows the selection holds (counted in the same read transaction as the rows).
    public let rows: Int
    let datasetID: Int64
    let encoderID: Int64
    let metricVectors: [Int64: [Float]]
    let textDims: Int

    public struct MissingVectors: Error, CustomStringConvertible {
        public let count: Int
        public let encoder: String
        public let example: String
        public var description: String {
            "\(count) text(s) of the selected samples have no vector under \(encoder) (first: \(example)): run `fitstore embed` first"
        }
    }

    public init(_ db: Database, selection: FeatureSelection) throws {
        self.selection = selection
        guard let datasetID = try Int64.fetchOne(db, sql: "SELECT id FROM dataset WHERE name = ?", arguments: [selection.dataset]) else {
            throw StoreError.notFound("no data set named '\(selection.dataset)' in the store")
        }
        guard let encoderID = try Int64.fetchOne(db, sql: "SELECT id FROM encoder WHERE key = ?", arguments: [selection.encoderKey]) else {
            throw StoreError.notFound("no vectors under encoder \(selection.encoderKey): run `fitstore embed` first")
        }
        self.datasetID = datasetID
        self.encoderID = encoderID
        let (vectors, source) = try MetricVectors.load(db, datasetID: datasetID, encoderID: encoderID)
        metricVectors = vectors
        let (condition, arguments) = selection.condition(datasetID: datasetID)
        // Every text the selection needs must have a vector: checked before any row is read,
        // so a consumer never sees a partial result.
        let missing = try Row.fetchOne(db, sql: """
            SELECT COUNT(*), MIN(s.key) FROM sample s
              LEFT JOIN text_embedding pe ON pe.text_id = s.prompt_text_id AND pe.encoder_id = ?
              LEFT JOIN text_embedding re ON re.text_id = s.response_text_id AND re.encoder_id = ?
             WHERE \(condition) AND (pe.text_id IS NULL OR (s.response_text_id IS NOT NULL AND re.text_id IS NULL))
            """, arguments: [encoderID, encoderID] + arguments)!
        if (missing[0] as Int) > 0 {
            throw MissingVectors(count: missing[0], encoder: selection.encoderKey, example: "sample \(missing[1] as String)")
        }
        let metricIDs = try Int64.fetchAll(db, sql: "SELECT DISTINCT s.metric_id FROM sample s WHERE \(condition)", arguments: arguments)
        if let absent = metricIDs.first(where: { vectors[$0] == nil }) {
            let name = try String.fetchOne(db, sql: "SELECT name FROM metric WHERE id = ?", arguments: [absent]) ?? "#\(absent)"
            throw MissingVectors(count: metricIDs.filter { vectors[$0] == nil }.count, encoder: selection.encoderKey, example: "metric '\(name)'")
        }
        rows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sample s WHERE \(condition)", arguments: arguments) ?? 0
        let sampleVector = try Data.fetchOne(db, sql: "SELECT vector FROM text_embedding WHERE encoder_id = ? LIMIT 1", arguments: [encoderID])
        textDims = try sampleVector.map { try VectorCodec.header(of: $0).dims } ?? 384
        let metricDims = vectors.values.first?.count ?? textDims
        let omitted = selection.omitted
        let (p, r, m) = (omitted.contains(.prompt) ? 0 : textDims, omitted.contains(.response) ? 0 : textDims, omitted.contains(.metric) ? 0 : metricDims)
        width = p + r + m + (selection.extras ? FeatureMatrix.extraNames.count : 0)
        layout = FeatureMatrix.Layout(encoder: selection.encoderKey, promptDims: p, responseDims: r,
                                      metricDims: m, metricSource: source,
                                      extras: selection.extras ? FeatureMatrix.extraNames : nil)
    }

    /// Calls `body` with consecutive batches of at most `batchRows` rows, in sample id order.
    public func forEachBatch(_ db: Database, batchRows: Int = 4096, _ body: (FeatureMatrix) throws -> Void) throws {
        let (condition, arguments) = selection.condition(datasetID: datasetID)
        let cursor = try Row.fetchCursor(db, sql: """
            SELECT s.id, s.position, s.metric_id, s.score, s.split, pe.vector AS p, re.vector AS r,
                   s.generator, s.seed, json_extract(s.parameters, '$.sigma') AS sigma,
                   (SELECT chars FROM text WHERE id = s.prompt_text_id) AS pc,
                   COALESCE((SELECT chars FROM text WHERE id = s.response_text_id), 0) AS rc
              FROM sample s
              JOIN text_embedding pe ON pe.text_id = s.prompt_text_id AND pe.encoder_id = ?
              LEFT JOIN text_embedding re ON re.text_id = s.response_text_id AND re.encoder_id = ?
             WHERE \(condition)
             ORDER BY s.id
            """, arguments: [encoderID, encoderID] + arguments)
        let noise = NegativeSampler.generator(.noise)
        var batch = emptyBatch(capacity: min(batchRows, rows))
        while let row = try cursor.next() {
            let generator = (row["generator"] as String?) ?? "real"
            batch.generators.append(generator)
            batch.splits.append(row["split"])
            batch.sampleIDs.append(row["id"])
            batch.positions.append(row["position"])
            batch.metricIDs.append(row["metric_id"])
            batch.targets.append((row["score"] as Double?).map { Float($0) })
            var prompt = try VectorCodec.decode(row["p"] as Data)
            var response = try (row["r"] as Data?).map { try VectorCodec.decode($0) } ?? [Float](repeating: 0, count: textDims)
            if generator == noise {
                // A noise recipe: its parent's vectors (the same texts) plus seeded noise.
                let seed = UInt64(bitPattern: row["seed"] as Int64), sigma = (row["sigma"] as Double?) ?? 0
                prompt = NoiseMaterializer.materialize(prompt, seed: seed, sigma: sigma, stream: 0)
                response = NoiseMaterializer.materialize(response, seed: seed, sigma: sigma, stream: 1)
            }
            let metric = metricVectors[row["metric_id"]]!
            if layout.promptDims > 0 { batch.values += prompt }
            if layout.responseDims > 0 { batch.values += response }
            if layout.metricDims > 0 { batch.values += metric }
            if selection.extras {
                batch.values += [Self.cosine(prompt, response), Self.cosine(prompt, metric), Self.cosine(response, metric),
                                 Float(log1p(Double(row["pc"] as Int))), Float(log1p(Double(row["rc"] as Int)))]
            }
            if batch.rows == batchRows {
                try body(batch)
                batch = emptyBatch(capacity: batchRows)
            }
        }
        if batch.rows > 0 { try body(batch) }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return 0 }
        var dot: Float = 0, na: Float = 0, nb: Float = 0
        for i in a.indices { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i] }
        return na > 0 && nb > 0 ? dot / (na.squareRoot() * nb.squareRoot()) : 0
    }

    private func emptyBatch(capacity: Int) -> FeatureMatrix {
        var batch = FeatureMatrix(sampleIDs: [], positions: [], metricIDs: [], targets: [], values: [], width: width, layout: layout)
        batch.values.reserveCapacity(capacity * width)
        return batch
    }
}
