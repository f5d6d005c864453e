import FitStore
import Foundation
import GRDB

/// Which samples a feature read covers: a data set's split, its origins (real rows and which
/// synthetic generators), the encoder whose vectors make the features, and optionally the
/// store as it was after run N.
public struct FeatureSelection: Sendable, Codable, Equatable {
    public enum Split: String, Sendable, Codable, CaseIterable { case train, test, all }

    /// The synthetic generators a selection takes.
    public enum Generators: Sendable, Codable, Equatable {
        case none
        case all
        case only([String])
    }

    public var dataset: String
    public var split: Split
    public var includeReal: Bool
    public var generators: Generators
    public var encoderKey: String
    /// Only samples that existed after this run: written at or before it and not yet retired.
    public var asOfRun: Int64?
    /// Append the cheap extra features (`FeatureMatrix.extraNames`) after the vectors.
    public var extras = false
    /// Vector blocks left out (for ablations); the layout then gives them 0 columns.
    public var omitted: Set<VectorBlock> = []

    public enum VectorBlock: String, Sendable, Codable, CaseIterable { case prompt, response, metric }

    public init(dataset: String, split: Split, encoderKey: String, includeReal: Bool = true,
                generators: Generators = .none, asOfRun: Int64? = nil, extras: Bool = false, omitted: Set<VectorBlock> = []) {
        self.extras = extras
        self.omitted = omitted
        self.dataset = dataset
        self.split = split
        self.encoderKey = encoderKey
        self.includeReal = includeReal
        self.generators = generators
        self.asOfRun = asOfRun
    }

    /// The SQL condition on `sample s` and its arguments (the data set id comes first).
    func condition(datasetID: Int64) -> (sql: String, arguments: StatementArguments) {
        var clauses = ["s.dataset_id = ?"]
        var arguments: [any DatabaseValueConvertible] = [datasetID]
        if split != .all {
            clauses.append("s.split = ?")
            arguments.append(split.rawValue)
        }
        if let asOfRun {
            clauses.append("s.run_id <= ? AND (s.retired_run_id IS NULL OR s.retired_run_id > ?)")
            arguments += [asOfRun, asOfRun]
        } else {
            clauses.append("s.retired_run_id IS NULL")
        }
        var origins: [String] = []
        if includeReal { origins.append("s.origin = 'real'") }
        switch generators {
        case .none: break
        case .all: origins.append("s.origin = 'synthetic'")
        case .only(let names) where !names.isEmpty:
            origins.append("s.generator IN (\(names.map { _ in "?" }.joined(separator: ",")))")
            arguments += names.sorted()
        case .only: break
        }
        clauses.append(origins.isEmpty ? "0" : "(" + origins.joined(separator: " OR ") + ")")
        return (clauses.joined(separator: " AND "), StatementArguments(arguments))
    }
}
