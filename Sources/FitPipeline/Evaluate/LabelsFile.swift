import FitFormats
import Foundation

/// Held-out labels in the `ID,score` layout (a task's `test_labels.csv`, or any CSV with an
/// `ID` and a `score` column, in any order and with other columns beside them), and the
/// optional metadata file beside them (`test_meta.csv`: `ID` plus group columns such as
/// language and source). IDs are 1-based record positions of test_data.json.
public struct LabelsFile: Sendable {
    public let path: String
    public let sha256: String
    /// ID -> (score, line of the file).
    public let scores: [Int: (score: Double, line: Int)]

    public init(path: String) throws {
        let table = try CSVTable(path: path)
        guard let idColumn = table.column("ID"), let scoreColumn = table.column("score") else {
            throw PipelineError.badLabels(path: path, line: 1,
                                          reason: "the header must name an ID and a score column, found \(Excerpt.quote(table.header.joined(separator: ",")))")
        }
        var scores: [Int: (Double, Int)] = [:]
        for row in table.rows {
            let idText = row.fields[idColumn].trimmingCharacters(in: .whitespaces)
            let scoreText = row.fields[scoreColumn].trimmingCharacters(in: .whitespaces)
            guard let id = Int(idText), id >= 1 else {
                throw PipelineError.badLabels(path: path, line: row.line, reason: "field ID: \(Excerpt.quote(idText)) is not a whole number >= 1")
            }
            guard let score = Double(scoreText), score.isFinite else {
                throw PipelineError.badLabels(path: path, line: row.line, reason: "field score: \(Excerpt.quote(scoreText)) is not a number")
            }
            // A judge's score is on the 0-10 scale; a label off it is a wrong file or a typo.
            guard (0...10).contains(score) else {
                throw PipelineError.badLabels(path: path, line: row.line, reason: "field score: \(Excerpt.quote(scoreText)) is outside the 0-10 scale")
            }
            if let earlier = scores[id] {
                throw PipelineError.badLabels(path: path, line: row.line, reason: "ID \(id) again (first on line \(earlier.1))")
            }
            scores[id] = (score, row.line)
        }
        guard !scores.isEmpty else { throw PipelineError.badLabels(path: path, line: nil, reason: "holds no labels, only a header") }
        self.path = path
        self.scores = scores
        sha256 = try FileDigest.of(URL(fileURLWithPath: path)).hex
    }
}

/// Groups of the test rows from a metadata CSV: for each column other than ID, metric and
/// score, the value of each ID.
public struct LabelGroups: Sendable {
    public let path: String
    /// column -> ID -> value.
    public let columns: [(name: String, values: [Int: String])]

    public init(path: String) throws {
        let table = try CSVTable(path: path)
        guard let idColumn = table.column("ID") else {
            throw PipelineError.badLabels(path: path, line: 1, reason: "the header has no ID column: \(Excerpt.quote(table.header.joined(separator: ",")))")
        }
        let skipped: Set<String> = ["id", "metric_name", "metric", "score"]
        var columns: [(String, [Int: String])] = []
        for (c, name) in table.header.enumerated() where !skipped.contains(name.lowercased()) {
            var values: [Int: String] = [:]
            for row in table.rows {
                guard let id = Int(row.fields[idColumn].trimmingCharacters(in: .whitespaces)) else {
                    throw PipelineError.badLabels(path: path, line: row.line, reason: "field ID: \(Excerpt.quote(row.fields[idColumn])) is not a whole number")
                }
                values[id] = row.fields[c]
            }
            columns.append((name, values))
        }
        self.path = path
        self.columns = columns
    }
}
