import FitFormats
import FitStore
import Foundation
import GRDB

/// `fitstore ingest DIR`: reads a DA5401-format folder into the store.
///
/// The whole ingest is one transaction: any rejected record leaves the store exactly as it
/// was. Unchanged inputs are recognised by file digest and write nothing; a changed file
/// adds only its new or changed records and retires the rows they replace.
public struct Ingest {
    public struct Options: Sendable {
        /// Data set name; defaults to the folder's name.
        public var datasetName: String?

        public init(datasetName: String? = nil) { self.datasetName = datasetName }
    }

    struct Parameters: Encodable {
        let folder: String
        let dataset: String
        let files: [String: String]  // role -> sha256
    }

    let store: Store
    let progress: any ProgressSink

    public init(store: Store, progress: any ProgressSink = SilentProgress()) {
        self.store = store
        self.progress = progress
    }

    public func run(folder url: URL, options: Options = Options()) throws -> IngestReport {
        let started = Date()
        let folder = try DA5401Folder(url.standardizedFileURL)
        let name = options.datasetName ?? folder.url.lastPathComponent
        var digests: [DA5401Folder.Role: (hex: String, bytes: Int)] = [:]
        for (role, file) in folder.files { digests[role] = try FileDigest.of(file) }

        var report = IngestReport(dataset: name)
        try store.write { db in
            let existing = try Dataset.named(db, name)
            if let existing, try unchanged(db, dataset: existing.id, digests: digests) {
                return
            }
            let parameters = Parameters(
                folder: folder.url.path, dataset: name,
                files: Dictionary(uniqueKeysWithValues: digests.map { ($0.key.rawValue, $0.value.hex) }))
            let runID = try RunLedger.begin(db, kind: "ingest", parameters: parameters)
            report.runID = runID
            let datasetID: Int64
            if let existing {
                datasetID = existing.id
                try existing.setSourcePath(db, folder.url.path)
            } else {
                datasetID = try Dataset.create(db, name: name, sourcePath: folder.url.path, run: runID).id
            }
            let context = IngestContext(db: db, runID: runID, datasetID: datasetID, datasetName: name,
                                        texts: TextInterner(db, runID: runID), progress: progress)

            // Metrics first: every later file is checked against the names.
            let namesURL = folder.file(.metricNames)!
            let names = try DA5401Folder.readMetricNames(namesURL)
            _ = try context.recordSourceFile(role: .metricNames, url: namesURL, digest: digests[.metricNames]!, records: names.count)
            try context.upsertMetrics(names, counts: &report.counts)
            if let url = folder.file(.metricDefinitions) {
                let definitions = try DA5401Folder.readMetricDefinitions(url, known: Set(names))
                _ = try context.recordSourceFile(role: .metricDefinitions, url: url, digest: digests[.metricDefinitions]!, records: definitions.count)
                try context.updateDefinitions(definitions, counts: &report.counts)
            }
            if let url = folder.file(.metricEmbeddings) {
                let matrix = try NpyMatrix.read(contentsOf: url)
                try context.storeGivenEmbeddings(matrix, names: names, file: url, sha256: digests[.metricEmbeddings]!.hex, counts: &report.counts)
                _ = try context.recordSourceFile(role: .metricEmbeddings, url: url, digest: digests[.metricEmbeddings]!, records: matrix.rows)
            }
            let known = try context.metricIDs()
            for role in [DA5401Folder.Role.train, .test] {
                guard let url = folder.file(role) else { continue }
                let fileID = try context.recordSourceFile(role: role, url: url, digest: digests[role]!, records: 0)
                let records = try context.ingestSamples(
                    url: url, split: role == .train ? .train : .test, sourceFileID: fileID,
                    metricIDs: known, totalBytes: digests[role]!.bytes, report: &report)
                try SourceFile.setRecords(db, file: fileID, records: records)
            }
            report.counts.textsAdded = context.texts.inserted
            report.counts.bytesRead = digests.values.reduce(0) { $0 + $1.bytes }
            if report.counts.responsesMissing > 0 {
                report.warnings.append("\(report.counts.responsesMissing) record(s) have no response; kept with a NULL response")
            }
            try RunLedger.finish(db, run: runID, counts: report.counts)
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// True when every file present has the digest last ingested for its role.
    private func unchanged(_ db: Database, dataset: Int64, digests: [DA5401Folder.Role: (hex: String, bytes: Int)]) throws -> Bool {
        for (role, digest) in digests where try SourceFile.latestDigest(db, dataset: dataset, role: role) != digest.hex {
            return false
        }
        return true
    }
}
