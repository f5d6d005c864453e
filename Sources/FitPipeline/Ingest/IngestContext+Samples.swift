import FitFormats
import FitStore
import Foundation

extension IngestContext {
    /// Streams one records file. A record whose content is unchanged at its position is left
    /// alone; a changed one retires the old row and adds a new one; rows past the end of a
    /// shorter file are retired. Returns the number of records read.
    func ingestSamples(url: URL, split: RealSamples.Split, sourceFileID: Int64, metricIDs: [String: Int64],
                       totalBytes: Int, report: inout IngestReport) throws -> Int {
        let phase = "\(url.lastPathComponent)"
        let active = try RealSamples.active(db, dataset: datasetID, split: split)
        let writer = try RealSamples.Writer(db, dataset: datasetID, run: runID)
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
                try writer.retire(old.id)
                if split == .train { report.counts.trainChanged += 1 } else { report.counts.testChanged += 1 }
            } else {
                if split == .train { report.counts.trainAdded += 1 } else { report.counts.testAdded += 1 }
            }
            try writer.insert(split: split, position: index, sourceFile: sourceFileID, metric: metricID, prompt: prompt.id,
                              response: response?.id, system: system?.id, score: record.score, digest: digest)
            if index % 500 == 0 { progress.advance(phase: phase, done: stream.bytesRead, total: totalBytes, unit: "B") }
        }
        progress.finish(phase: phase)
        for (position, old) in active where position >= count {
            try writer.retire(old.id)
            if split == .train { report.counts.trainRetired += 1 } else { report.counts.testRetired += 1 }
        }
        // Records that repeat a (metric, prompt, response) with another score: found by the
        // store once the file is in (holding every triple here would grow with the file).
        let (conflicts, firstConflict) = try RealSamples.conflictingTriples(db, dataset: datasetID, split: split)
        if let (a, b) = firstConflict {
            report.warnings.append("\(url.lastPathComponent): \(conflicts) records share a metric, prompt and response with a record of another score (first: records \(a) and \(b), 0-based); all are kept")
        }
        if sawTestScores {
            report.warnings.append("\(url.lastPathComponent) carries scores; test scores are not ingested")
        }
        return count
    }

    /// Content digest (hex) of a record from its texts' digests: length-free because every
    /// part is fixed-size or tagged, and NULL differs from the empty string.
    static func digest(_ record: DA5401Record, prompt: Data, response: Data?, system: Data?) -> String {
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
        return hasher.finalize().hexString
    }
}
