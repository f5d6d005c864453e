import FitFormats
import FitStore
import Foundation
import GRDB

/// The state one ingest transaction shares between its steps.
final class IngestContext {
    let db: Database
    let runID: Int64
    let datasetID: Int64
    let datasetName: String
    let texts: TextInterner
    let progress: any ProgressSink

    init(db: Database, runID: Int64, datasetID: Int64, datasetName: String, texts: TextInterner, progress: any ProgressSink) {
        self.db = db
        self.runID = runID
        self.datasetID = datasetID
        self.datasetName = datasetName
        self.texts = texts
        self.progress = progress
    }

    /// Records the file version this run read; returns its row id.
    func recordSourceFile(role: DA5401Folder.Role, url: URL, digest: (hex: String, bytes: Int), records: Int) throws -> Int64 {
        try SourceFile.record(db, dataset: datasetID, role: role, path: url.path, bytes: digest.bytes, sha256: digest.hex,
                              records: records, run: runID)
    }

    func metricIDs() throws -> [String: Int64] {
        try Metric.listedIDs(db, dataset: datasetID)
    }
}
