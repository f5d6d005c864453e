import FitFormats
import FitStore
import Foundation

extension IngestContext {
    /// Adds new metrics, moves listed ones to their new position and marks metrics no longer
    /// listed (position NULL). Metric rows are never deleted: samples point at them.
    func upsertMetrics(_ names: [String], counts: inout IngestReport.Counts) throws {
        let byName = Dictionary(uniqueKeysWithValues: try Metric.all(db, dataset: datasetID).map { ($0.name, $0) })
        for (position, name) in names.enumerated() {
            if let current = byName[name] {
                if current.position != position {
                    try Metric.setPosition(db, metric: current.id, position: position, run: runID)
                    counts.metricsUpdated += 1
                }
                continue
            }
            try Metric.insert(db, dataset: datasetID, name: name, position: position, nameText: try texts.id(for: name), run: runID)
            counts.metricsAdded += 1
        }
        let listed = Set(names)
        for (name, current) in byName where !listed.contains(name) && current.position != nil {
            try Metric.setPosition(db, metric: current.id, position: nil, run: runID)
            counts.metricsUnlisted += 1
        }
    }

    func updateDefinitions(_ definitions: [(name: String, definition: String)], counts: inout IngestReport.Counts) throws {
        for (name, definition) in definitions {
            let textID: Int64? = definition.unicodeScalars.allSatisfy(\.properties.isWhitespace) ? nil : try texts.id(for: definition)
            if try Metric.setDefinition(db, dataset: datasetID, name: name, text: textID, run: runID) {
                counts.definitionsChanged += 1
            }
        }
    }

    /// Stores the data set's own metric vectors (row i belongs to metric_names[i]) under a
    /// `given` encoder whose identity is the file's digest, losslessly.
    func storeGivenEmbeddings(_ matrix: NpyMatrix, names: [String], file: URL, sha256: String,
                              counts: inout IngestReport.Counts) throws {
        guard matrix.rows == names.count else {
            throw RecordError(file: file.path, record: nil, field: nil,
                              message: "holds \(matrix.rows) rows but metric_names.json lists \(names.count) metrics")
        }
        for r in 0..<matrix.rows {
            let row = matrix.row(r)
            if let c = row.firstIndex(where: { !$0.isFinite }) {
                throw RecordError(file: file.path, record: r, field: names[r],
                                  message: "non-finite value \(row[c]) at column \(c - row.startIndex)")
            }
            if row.allSatisfy({ $0 == 0 }) {
                throw RecordError(file: file.path, record: r, field: names[r], message: "zero vector (norm 0)")
            }
        }
        let key = "given:\(datasetName):\(sha256)"
        struct Config: Encodable { let file: String; let sha256: String; let rows: Int }
        let encoder = try Encoder.register(db, key: key, kind: .given, source: .given, dims: matrix.columns,
                                           config: Config(file: file.lastPathComponent, sha256: sha256, rows: matrix.rows), run: runID)
        let metricIDs = try metricIDs()
        let vectors = names.enumerated().compactMap { r, name in metricIDs[name].map { ($0, Array(matrix.row(r))) } }
        counts.metricVectorsAdded += try GivenMetricVectors.insert(db, encoder: encoder.id, vectors, run: runID)
    }
}
