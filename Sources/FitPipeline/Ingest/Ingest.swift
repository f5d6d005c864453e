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
        /// Allow a re-ingest to retire more than `retireShare` of a split's active rows.
        public var replace = false
        /// Do everything, report it, and write nothing.
        public var dryRun = false
        /// The share of a split's active rows a re-ingest may retire without `replace` (and at
        /// least 10 rows): more is probably the wrong file.
        public var retireShare = 0.1

        public init(datasetName: String? = nil, replace: Bool = false, dryRun: Bool = false) {
            self.datasetName = datasetName
            self.replace = replace
            self.dryRun = dryRun
        }
    }

    /// Raised at the end of a dry run, so that its transaction is rolled back.
    private struct DryRun: Error {}

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
        report.dryRun = options.dryRun
        if folder.file(.train) == nil && folder.file(.test) == nil {
            report.warnings.append("the folder has neither train_data.json nor test_data.json: only its metrics are ingested")
        }
        do {
        try store.write(recordingFailureOf: "ingest", parameters: ["folder": folder.url.path]) { db in
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
                guard let url = folder.file(role), let digest = digests[role] else { continue }
                let split: RealSamples.Split = role == .train ? .train : .test
                let fileID = try context.recordSourceFile(role: role, url: url, digest: digest, records: 0)
                let before = try RealSamples.active(db, dataset: datasetID, split: split).count
                let records = try context.ingestSamples(
                    url: url, split: split, sourceFileID: fileID,
                    metricIDs: known, totalBytes: digest.bytes, report: &report)
                try SourceFile.setRecords(db, file: fileID, records: records)
                // A re-ingest that would retire much of a split is probably the wrong file.
                let c = report.counts
                let going = split == .train ? c.trainChanged + c.trainRetired : c.testChanged + c.testRetired
                if before > 0, going >= 10, Double(going) > options.retireShare * Double(before), !options.replace, !options.dryRun {
                    throw PipelineError.ingestWouldRetire(dataset: name, file: url.path, split: split.rawValue, retiring: going,
                                                          active: before, records: records)
                }
            }
            report.counts.textsAdded = context.texts.inserted
            report.counts.bytesRead = digests.values.reduce(0) { $0 + $1.bytes }
            if report.counts.responsesMissing > 0 {
                report.warnings.append("\(report.counts.responsesMissing) record(s) have no response; kept with a NULL response")
            }
            try RunLedger.finish(db, run: runID, counts: report.counts)
            if options.dryRun { throw DryRun() }
        }
        } catch is DryRun {
            report.runID = nil
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
