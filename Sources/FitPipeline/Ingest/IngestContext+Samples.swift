import FitFormats
import FitStore
import Foundation
import GRDB

extension IngestContext {
    enum Split: String { case train, test }

    /// Streams one records file. A record whose content is unchanged at its position is left
    /// alone; a changed one retires the old row and adds a new one; rows past the end of a
    /// shorter file are retired. Returns the number of records read.
    func ingestSamples(url: URL, split: Split, sourceFileID: Int64, metricIDs: [String: Int64],
                       totalBytes: Int, report: inout IngestReport) throws -> Int {
        let phase = "\(url.lastPathComponent)"
        var active: [Int: (id: Int64, digest: Data)] = [:]
        let rows = try Row.fetchCursor(db, sql: """
            SELECT position, id, digest FROM sample
             WHERE dataset_id = ? AND split = ? AND origin = 'real' AND retired_run_id IS NULL
            """, arguments: [datasetID, split.rawValue])
        while let row = try rows.next() {
            active[row[0]] = (row[1], row[2])
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO sample (dataset_id, key, split, origin, position, source_file_id, metric_id,
                                prompt_text_id, response_text_id, system_text_id, score, digest, run_id)
            VALUES (?, ?, ?, 'real', ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let retire = try db.cachedStatement(sql: "UPDATE sample SET retired_run_id = ? WHERE id = ?")
        let stream = try JSONArrayStream(contentsOf: url)
        var count = 0
        var sawTestScores = false
        while let (index, value) = try stream.next() {
            let record = try DA5401Record.decode(value, index: index, file: url.path, kind: split == .train ? .train : .test)
            if split == .test, value.objectValue?.contains("score") == true { sawTestScores = true }
            guard let metricID = metricIDs[record.metricName] else {
                throw RecordError(file: url.path, record: index, field: "metric_name",
                                  message: "unknown metric name '\(record.metricName)' (not in metric_names.json)")
            }
            if record.response == nil { report.counts.responsesMissing += 1 }
            if record.systemPrompt == nil { report.counts.systemPromptsMissing += 1 }
            let prompt = try texts.intern(record.userPrompt)
            let response = try record.response.map { try texts.intern($0) }
            let system = try record.systemPrompt.map { try texts.intern($0) }
            let digest = Self.digest(record, prompt: prompt.digest, response: response?.digest, system: system?.digest)
            count = index + 1
            if let old = active[index] {
                if old.digest == digest {
                    if split == .train { report.counts.trainUnchanged += 1 } else { report.counts.testUnchanged += 1 }
                    continue
                }
                try retire.execute(arguments: [runID, old.id])
                if split == .train { report.counts.trainChanged += 1 } else { report.counts.testChanged += 1 }
            } else {
                if split == .train { report.counts.trainAdded += 1 } else { report.counts.testAdded += 1 }
            }
            try insert.execute(arguments: [
                datasetID, "\(split.rawValue):\(index)", split.rawValue, index, sourceFileID, metricID,
                prompt.id, response?.id, system?.id,
                record.score, digest, runID,
            ])
            if index % 500 == 0 { progress.advance(phase: phase, done: stream.bytesRead, total: totalBytes, unit: "B") }
        }
        progress.finish(phase: phase)
        for (position, old) in active where position >= count {
            try retire.execute(arguments: [runID, old.id])
            if split == .train { report.counts.trainRetired += 1 } else { report.counts.testRetired += 1 }
        }
        if sawTestScores {
            report.warnings.append("\(url.lastPathComponent) carries scores; test scores are not ingested")
        }
        return count
    }

    /// Content digest of a record from its texts' digests: length-free because every part
    /// is fixed-size or tagged, and NULL differs from the empty string.
    static func digest(_ record: DA5401Record, prompt: Data, response: Data?, system: Data?) -> Data {
        var hasher = SHA256()
        hasher.update(TextInterner.digest(record.metricName))
        for part in [prompt, response, system] {
            if let part { hasher.update([1]); hasher.update(part) } else { hasher.update([0]) }
        }
        if let score = record.score {
            hasher.update([1])
            withUnsafeBytes(of: score.bitPattern.littleEndian) { hasher.update($0) }
        } else {
            hasher.update([0])
        }
        return Data(hasher.finalize())
    }
}
