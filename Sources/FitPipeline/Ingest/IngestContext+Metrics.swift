import FitFormats
import FitStore
import Foundation
import GRDB

extension IngestContext {
    /// Adds new metrics, moves listed ones to their new position and marks metrics no longer
    /// listed (position NULL). Metric rows are never deleted: samples point at them.
    func upsertMetrics(_ names: [String], counts: inout IngestReport.Counts) throws {
        let existing = try Row.fetchAll(db, sql: "SELECT name, id, position FROM metric WHERE dataset_id = ?", arguments: [datasetID])
        var byName: [String: (id: Int64, position: Int?)] = [:]
        for row in existing { byName[row[0]] = (row[1], row[2]) }
        for (position, name) in names.enumerated() {
            if let current = byName[name] {
                if current.position != position {
                    try db.execute(sql: "UPDATE metric SET position = ?, updated_run_id = ? WHERE id = ?",
                                   arguments: [position, runID, current.id])
                    counts.metricsUpdated += 1
                }
                continue
            }
            let parts = name.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let major = String(parts[0])
            let minor = parts.count > 1 && !parts[1].isEmpty ? String(parts[1]) : nil
            try db.execute(sql: """
                INSERT INTO metric (dataset_id, name, major, minor, position, name_text_id, run_id, updated_run_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [datasetID, name, major, minor, position, try texts.id(for: name), runID, runID])
            counts.metricsAdded += 1
        }
        let listed = Set(names)
        for (name, current) in byName where !listed.contains(name) && current.position != nil {
            try db.execute(sql: "UPDATE metric SET position = NULL, updated_run_id = ? WHERE id = ?", arguments: [runID, current.id])
            counts.metricsUnlisted += 1
        }
    }

    func updateDefinitions(_ definitions: [(name: String, definition: String)], counts: inout IngestReport.Counts) throws {
        for (name, definition) in definitions {
            let textID: Int64? = definition.unicodeScalars.allSatisfy(\.properties.isWhitespace) ? nil : try texts.id(for: definition)
            try db.execute(sql: """
                UPDATE metric SET definition_text_id = ?, updated_run_id = ?
                 WHERE dataset_id = ? AND name = ? AND definition_text_id IS NOT ?
                """, arguments: [textID, runID, datasetID, name, textID])
            counts.definitionsChanged += db.changesCount
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
        try db.execute(sql: """
            INSERT INTO encoder (key, kind, dims, config, run_id) VALUES (?, 'given', ?, ?, ?)
            ON CONFLICT (key) DO NOTHING
            """, arguments: [key, matrix.columns, try JSONText.encode(Config(file: file.lastPathComponent, sha256: sha256, rows: matrix.rows)), runID])
        let encoderID = try Int64.fetchOne(db, sql: "SELECT id FROM encoder WHERE key = ?", arguments: [key])!
        let metricIDs = try metricIDs()
        let insert = try db.cachedStatement(sql: """
            INSERT INTO metric_embedding (metric_id, encoder_id, vector, run_id) VALUES (?, ?, ?, ?)
            ON CONFLICT (metric_id, encoder_id) DO NOTHING
            """)
        for (r, name) in names.enumerated() {
            let blob = VectorCodec.encode(Array(matrix.row(r)), as: .lossless)
            try insert.execute(arguments: [metricIDs[name]!, encoderID, blob, runID])
            counts.metricVectorsAdded += db.changesCount
        }
    }
}
