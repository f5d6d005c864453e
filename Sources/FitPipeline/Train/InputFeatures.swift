import FitEncoder
import FitFormats
import FitStore
import Foundation
import GRDB

/// Feature rows for records that are not in the store (`predict --input FILE`): a
/// DA5401-layout file of (metric_name, user_prompt, response, system_prompt) records, read and
/// checked as ingest reads test_data.json. Texts the store has a vector for use it; the others
/// are embedded here, in memory, with the checkpoint's encoder (the same model and settings
/// that made the stored vectors). Nothing is written to the store: the records stay out of
/// every split.
struct InputFeatures {
    let store: Store
    let threads: Int

    /// The rows of `url` in file order, laid out as `layout` says, for data set `dataset`.
    func load(dataset: String, layout: FeatureMatrix.Layout, url: URL) throws -> (matrix: FeatureMatrix, embedded: Int) {
        var records: [DA5401Record] = []
        let stream = try JSONArrayStream(contentsOf: url)
        while let (index, value) = try stream.next() {
            records.append(try DA5401Record.decode(value, index: index, file: url.path, kind: .test))
        }
        guard !records.isEmpty else { throw RecordError(file: url.path, record: nil, field: nil, message: "holds no records") }
        let (metricIDs, encoders, metricVectors) = try store.read { db in
            let datasetID = try DatasetResolver.require(db, dataset).id
            let byName = Dictionary(uniqueKeysWithValues: try Metric.all(db, dataset: datasetID).map { ($0.name, $0.id) })
            var ids: [Int64] = []
            for (index, record) in records.enumerated() {
                guard let id = byName[record.metricName] else {
                    throw RecordError(file: url.path, record: index, field: "metric_name",
                                      message: "unknown metric name '\(record.metricName)' (not a metric of data set '\(dataset)')")
                }
                ids.append(id)
            }
            var encoders: [Encoder] = []
            for key in layout.encoderKeys {
                guard let e = try Encoder.keyed(db, key) else { throw PipelineError.noVectors(encoder: key) }
                encoders.append(e)
            }
            let (vectors, _) = try FeatureReader.metricVectors(db, dataset: datasetID, encoders: encoders, metrics: Array(Set(ids)).sorted())
            return (ids, encoders, vectors)
        }
        // Each distinct text once, under every encoder: stored vectors first, then the rest embedded.
        let withSystem = (layout.systemDims ?? 0) > 0
        let texts = Array(Set(records.flatMap { r in
            [r.userPrompt] + (r.response.map { [$0] } ?? []) + (withSystem ? (r.systemPrompt.map { [$0] } ?? []) : [])
        })).sorted()
        var vectors: [[String: [Float]]] = []
        var embedded = 0
        for encoder in encoders {
            var byText: [String: [Float]] = [:]
            try store.read { db in
                let digests = Dictionary(uniqueKeysWithValues: texts.map { ([UInt8](SHA256.digest($0)).hexString, $0) })
                let ids = try Texts.ids(db, sha256s: Array(digests.keys))
                let blobs = try TextVectors(encoder: encoder.id).blobs(db, texts: Array(ids.values))
                for (digest, id) in ids {
                    guard let text = digests[digest], let blob = blobs[id] else { continue }
                    byText[text] = try StoredVector.decode(blob, table: "text_embedding", row: "text \(id), encoder \(encoder.key)", dims: encoder.dims)
                }
            }
            let missing = texts.filter { byText[$0] == nil }
            if !missing.isEmpty {
                let embedder = try self.embedder(for: encoder, missing: missing.count, file: url.path)
                for (text, vector) in zip(missing, embedder.embed(missing)) { byText[text] = vector }
                embedded += missing.count
            }
            vectors.append(byText)
        }
        var matrix = FeatureMatrix(sampleIDs: [], positions: [], metricIDs: [], targets: [], values: [],
                                   width: layout.width, layout: layout)
        for (index, record) in records.enumerated() {
            var prompt: [Float] = [], response: [Float] = [], system: [Float] = []
            for (e, encoder) in encoders.enumerated() {
                prompt += vectors[e][record.userPrompt] ?? []
                response += record.response.flatMap { vectors[e][$0] } ?? [Float](repeating: 0, count: encoder.dims)
                if withSystem { system += record.systemPrompt.flatMap { vectors[e][$0] } ?? [Float](repeating: 0, count: encoder.dims) }
            }
            FeatureReader.appendRow(&matrix.values, layout: layout, prompt: prompt, response: response, system: system,
                                    metric: metricVectors[metricIDs[index]] ?? [],
                                    promptChars: record.userPrompt.unicodeScalars.count, responseChars: record.response?.unicodeScalars.count ?? 0)
            matrix.sampleIDs.append(-Int64(index + 1))
            matrix.positions.append(index)
            matrix.metricIDs.append(metricIDs[index])
            matrix.targets.append(nil)
        }
        return (matrix, embedded)
    }

    /// The model that made `encoder`'s vectors, to embed texts the store has no vector for.
    private func embedder(for encoder: Encoder, missing: Int, file: String) throws -> TextEmbedder {
        switch encoder.source {
        case .folder:
            return try FolderEncoders.embedder(name: encoder.displayName, key: encoder.key, settings: try FolderEncoders.settings(of: encoder),
                                               threads: threads, batchTokens: 8192)
        case .builtin:
            struct Config: Decodable { let prefix: String; let length_policy: String }
            guard let config = try? JSONDecoder().decode(Config.self, from: Data(encoder.config.utf8)),
                  let policy = LengthPolicy(config.length_policy) else {
                throw StoreError.damaged(table: "encoder", row: encoder.key, reason: "its config does not say its prefix and length policy")
            }
            let path = ModelLocator.path()
            guard FileManager.default.fileExists(atPath: path) else {
                throw PipelineError.modelMissing(path: path, textsWithoutVectors: missing, encoder: encoder.key)
            }
            let embedder = try TextEmbedder(modelPath: path, configuration: .init(prefix: config.prefix, lengthPolicy: policy, threads: threads))
            guard embedder.identity == encoder.key else {
                throw PipelineError.inputCannotBeEmbedded(file: file, texts: missing, encoder: encoder.displayName,
                                                          reason: "the model file at \(path) is not the one that made its vectors")
            }
            return embedder
        case .imported, .given:
            throw PipelineError.inputCannotBeEmbedded(file: file, texts: missing, encoder: encoder.displayName,
                                                      reason: "its vectors were imported, and fitstore cannot compute them")
        }
    }
}
