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
    /// The selection's encoders, in column order, and each one's text-vector dimension.
    let encoders: [Encoder]
    let textDims: [Int]
    /// Each metric's vector: the given one, or the encoders' vectors concatenated.
    let metricVectors: [Int64: [Float]]

    public init(_ db: Database, selection: FeatureSelection) throws {
        self.selection = selection
        let datasetID = try DatasetResolver.require(db, selection.dataset).id
        var encoders: [Encoder] = []
        for key in selection.encoderKeys {
            guard let encoder = try Encoder.keyed(db, key) else { throw PipelineError.noVectors(encoder: key) }
            encoders.append(encoder)
        }
        guard !encoders.isEmpty else { throw PipelineError.noVectors(encoder: "(none given)") }
        self.datasetID = datasetID
        self.encoders = encoders
        let samples = selection.samples
        // Every text the selection needs must have a vector under every encoder: checked
        // before any row is read, so a consumer never sees a partial result.
        for encoder in encoders {
            let missing = try samples.missingVectors(db, dataset: datasetID, encoder: encoder.id)
            if missing.count > 0 {
                throw PipelineError.missingVectors(count: missing.count, encoder: encoder.displayName, example: "sample \(missing.first ?? "?")")
            }
            if selection.system {
                let missing = try samples.missingSystemVectors(db, dataset: datasetID, encoder: encoder.id)
                if missing.count > 0 {
                    throw PipelineError.missingVectors(count: missing.count, encoder: encoder.displayName,
                                                       example: "the system prompt of sample \(missing.first ?? "?")")
                }
            }
        }
        let metricIDs = try samples.metricIDs(db, dataset: datasetID)
        let (vectors, source) = try Self.metricVectors(db, dataset: datasetID, encoders: encoders, metrics: metricIDs)
        rows = try samples.count(db, dataset: datasetID)
        // The text vectors' dimension is the encoder's: every stored vector must have it.
        textDims = try encoders.map { $0.kind == .model ? $0.dims : (try TextVectors(encoder: $0.id).dims(db) ?? $0.dims) }
        let textWidth = textDims.reduce(0, +)
        let metricDims = vectors.values.first?.count ?? textWidth
        if let (metric, vector) = vectors.first(where: { $0.value.count != metricDims }) {
            throw StoreError.damaged(table: "metric vectors", row: "metric \(metric)",
                                     reason: "\(vector.count) values where the data set's other metric vectors have \(metricDims)")
        }
        let omitted = selection.omitted
        let (p, r, m) = (omitted.contains(.prompt) ? 0 : textWidth, omitted.contains(.response) ? 0 : textWidth, omitted.contains(.metric) ? 0 : metricDims)
        let extraNames = FeatureMatrix.extraNames + (selection.system ? [FeatureMatrix.systemExtraName] : [])
        var interactions: [String] = []
        if selection.interactions {
            if metricDims == textWidth { interactions.append(FeatureMatrix.responseTimesMetric) }
            interactions.append(FeatureMatrix.promptResponseDistance)
        }
        layout = FeatureMatrix.Layout(encoder: selection.encoderKey, encoders: encoders.count > 1 ? selection.encoderKeys : nil,
                                      promptDims: p, responseDims: r, systemDims: selection.system ? textWidth : nil, metricDims: m,
                                      metricSource: source, extras: selection.extras ? extraNames : nil,
                                      interactions: interactions.isEmpty ? nil : interactions, interactionDims: interactions.isEmpty ? nil : textWidth)
        width = layout.width
        metricVectors = vectors
    }

    /// Each metric's vector for features: a data set's given vectors once (they do not depend
    /// on the encoder), otherwise each encoder's vector of the metric, concatenated in encoder
    /// order. Every metric of `metrics` must have one.
    static func metricVectors(_ db: Database, dataset datasetID: Int64, encoders: [Encoder], metrics metricIDs: [Int64]) throws
        -> (vectors: [Int64: [Float]], source: String) {
        var vectors: [Int64: [Float]] = [:]
        var source = ""
        for encoder in encoders {
            let (byMetric, from) = try MetricVectors.load(db, dataset: datasetID, encoder: encoder.id)
            if let absent = metricIDs.first(where: { byMetric[$0] == nil }) {
                let names = Dictionary(uniqueKeysWithValues: try Metric.all(db, dataset: datasetID).map { ($0.id, $0.name) })
                throw PipelineError.missingVectors(count: metricIDs.filter { byMetric[$0] == nil }.count, encoder: encoder.displayName,
                                                   example: "metric '\(names[absent] ?? "#\(absent)")'")
            }
            if from.hasPrefix("given:") { return (byMetric, from) }
            source = from
            for (metric, vector) in byMetric { vectors[metric, default: []] += vector }
        }
        return (vectors, source)
    }

    /// Appends one feature row, as `layout` says: the vector blocks present, then the extras
    /// it names, in its order.
    static func appendRow(_ values: inout [Float], layout: FeatureMatrix.Layout, prompt: [Float], response: [Float], system: [Float],
                          metric: [Float], promptChars: Int, responseChars: Int) {
        if layout.promptDims > 0 { values += prompt }
        if layout.responseDims > 0 { values += response }
        if (layout.systemDims ?? 0) > 0 { values += system }
        if layout.metricDims > 0 { values += metric }
        for name in layout.interactions ?? [] {
            switch name {
            case FeatureMatrix.responseTimesMetric where response.count == metric.count:
                for i in response.indices { values.append(response[i] * metric[i]) }
            case FeatureMatrix.promptResponseDistance where response.count == prompt.count:
                for i in response.indices { values.append(abs(prompt[i] - response[i])) }
            default:
                values += repeatElement(0, count: layout.interactionDims ?? 0)
            }
        }
        for name in layout.extras ?? [] {
            switch name {
            case "cos_prompt_response": values.append(cosine(prompt, response))
            case "cos_prompt_metric": values.append(cosine(prompt, metric))
            case "cos_response_metric": values.append(cosine(response, metric))
            case "log_prompt_chars": values.append(Float(log1p(Double(promptChars))))
            case "log_response_chars": values.append(Float(log1p(Double(responseChars))))
            case FeatureMatrix.systemExtraName: values.append(cosine(system, response))
            default: values.append(0)
            }
        }
    }

    /// Calls `body` with consecutive batches of at most `batchRows` rows, in sample id order.
    public func forEachBatch(_ db: Database, batchRows: Int = 4096, _ body: (FeatureMatrix) throws -> Void) throws {
        let noise = NegativeSampler.generator(.noise)
        let table = "text_embedding"
        let textWidth = textDims.reduce(0, +)
        var batch = emptyBatch(capacity: min(batchRows, rows))
        var prompt = [Float](), response = [Float](), system = [Float]()
        prompt.reserveCapacity(textWidth)
        response.reserveCapacity(textWidth)
        try selection.samples.forEachFeatureRow(db, dataset: datasetID, encoders: encoders.map(\.id), system: selection.system) { row in
            let generator = row.generator ?? "real"
            batch.generators.append(generator)
            batch.splits.append(row.split)
            batch.sampleIDs.append(row.sample)
            batch.positions.append(row.position)
            batch.metricIDs.append(row.metric)
            batch.targets.append(row.score.map { Float($0) })
            prompt.removeAll(keepingCapacity: true)
            response.removeAll(keepingCapacity: true)
            system.removeAll(keepingCapacity: true)
            for (i, encoder) in encoders.enumerated() {
                let name = "encoder \(encoder.key)"
                prompt += try StoredVector.decode(row.prompts[i], table: table, row: "text \(row.promptText ?? 0), \(name)", dims: textDims[i])
                if let blob = row.responses[i] {
                    response += try StoredVector.decode(blob, table: table, row: "text \(row.responseText ?? 0), \(name)", dims: textDims[i])
                } else {
                    response += repeatElement(0, count: textDims[i])
                }
                if selection.system {
                    if let blob = row.systems[i] {
                        system += try StoredVector.decode(blob, table: table, row: "text \(row.systemText ?? 0), \(name)", dims: textDims[i])
                    } else {
                        system += repeatElement(0, count: textDims[i])
                    }
                }
            }
            if generator == noise {
                // A noise recipe: its parent's vectors (the same texts) plus seeded noise.
                let seed = UInt64(bitPattern: row.seed ?? 0), sigma = row.sigma ?? 0
                prompt = NoiseMaterializer.materialize(prompt, seed: seed, sigma: sigma, stream: 0)
                response = NoiseMaterializer.materialize(response, seed: seed, sigma: sigma, stream: 1)
            }
            guard let metric = metricVectors[row.metric] else {
                throw PipelineError.missingVectors(count: 1, encoder: encoders[0].displayName, example: "metric #\(row.metric)")
            }
            Self.appendRow(&batch.values, layout: layout, prompt: prompt, response: response, system: system, metric: metric,
                           promptChars: row.promptChars, responseChars: row.responseChars)
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
