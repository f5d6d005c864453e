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
    let encoder: Encoder
    let metricVectors: [Int64: [Float]]
    let textDims: Int

    public init(_ db: Database, selection: FeatureSelection) throws {
        self.selection = selection
        let datasetID = try DatasetResolver.require(db, selection.dataset).id
        guard let encoder = try Encoder.keyed(db, selection.encoderKey) else {
            throw PipelineError.noVectors(encoder: selection.encoderKey)
        }
        self.datasetID = datasetID
        self.encoder = encoder
        let samples = selection.samples
        let (vectors, source) = try MetricVectors.load(db, dataset: datasetID, encoder: encoder.id)
        // Every text the selection needs must have a vector: checked before any row is read,
        // so a consumer never sees a partial result.
        let missing = try samples.missingVectors(db, dataset: datasetID, encoder: encoder.id)
        if missing.count > 0 {
            throw PipelineError.missingVectors(count: missing.count, encoder: selection.encoderKey, example: "sample \(missing.first ?? "?")")
        }
        let metricIDs = try samples.metricIDs(db, dataset: datasetID)
        if metricIDs.contains(where: { vectors[$0] == nil }) {
            let names = Dictionary(uniqueKeysWithValues: try Metric.all(db, dataset: datasetID).map { ($0.id, $0.name) })
            let absent = metricIDs.filter { vectors[$0] == nil }
            throw PipelineError.missingVectors(count: absent.count, encoder: selection.encoderKey,
                                               example: "metric '\(names[absent[0]] ?? "#\(absent[0])")'")
        }
        rows = try samples.count(db, dataset: datasetID)
        // The text vectors' dimension is the encoder's: every stored vector must have it.
        textDims = encoder.kind == .model ? encoder.dims : (try TextVectors(encoder: encoder.id).dims(db) ?? encoder.dims)
        let metricDims = vectors.values.first?.count ?? textDims
        if let (metric, vector) = vectors.first(where: { $0.value.count != metricDims }) {
            throw StoreError.damaged(table: "metric vectors", row: "metric \(metric)",
                                     reason: "\(vector.count) values where the data set's other metric vectors have \(metricDims)")
        }
        let omitted = selection.omitted
        let (p, r, m) = (omitted.contains(.prompt) ? 0 : textDims, omitted.contains(.response) ? 0 : textDims, omitted.contains(.metric) ? 0 : metricDims)
        width = p + r + m + (selection.extras ? FeatureMatrix.extraNames.count : 0)
        layout = FeatureMatrix.Layout(encoder: selection.encoderKey, promptDims: p, responseDims: r,
                                      metricDims: m, metricSource: source,
                                      extras: selection.extras ? FeatureMatrix.extraNames : nil)
        metricVectors = vectors
    }

    /// Calls `body` with consecutive batches of at most `batchRows` rows, in sample id order.
    public func forEachBatch(_ db: Database, batchRows: Int = 4096, _ body: (FeatureMatrix) throws -> Void) throws {
        let noise = NegativeSampler.generator(.noise)
        let table = "text_embedding", encoderName = "encoder \(encoder.key)"
        var batch = emptyBatch(capacity: min(batchRows, rows))
        try selection.samples.forEachFeatureRow(db, dataset: datasetID, encoder: encoder.id) { row in
            let generator = row.generator ?? "real"
            batch.generators.append(generator)
            batch.splits.append(row.split)
            batch.sampleIDs.append(row.sample)
            batch.positions.append(row.position)
            batch.metricIDs.append(row.metric)
            batch.targets.append(row.score.map { Float($0) })
            var prompt = try StoredVector.decode(row.prompt, table: table, row: "text \(row.promptText ?? 0), \(encoderName)", dims: textDims)
            var response = try row.response.map {
                try StoredVector.decode($0, table: table, row: "text \(row.responseText ?? 0), \(encoderName)", dims: textDims)
            } ?? [Float](repeating: 0, count: textDims)
            if generator == noise {
                // A noise recipe: its parent's vectors (the same texts) plus seeded noise.
                let seed = UInt64(bitPattern: row.seed ?? 0), sigma = row.sigma ?? 0
                prompt = NoiseMaterializer.materialize(prompt, seed: seed, sigma: sigma, stream: 0)
                response = NoiseMaterializer.materialize(response, seed: seed, sigma: sigma, stream: 1)
            }
            guard let metric = metricVectors[row.metric] else {
                throw PipelineError.missingVectors(count: 1, encoder: selection.encoderKey, example: "metric #\(row.metric)")
            }
            if layout.promptDims > 0 { batch.values += prompt }
            if layout.responseDims > 0 { batch.values += response }
            if layout.metricDims > 0 { batch.values += metric }
            if selection.extras {
                batch.values += [Self.cosine(prompt, response), Self.cosine(prompt, metric), Self.cosine(response, metric),
                                 Float(log1p(Double(row.promptChars))), Float(log1p(Double(row.responseChars)))]
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
