import FitStore
import Foundation

/// Which samples a feature read covers (a data set's `SampleSelection`), the encoder (or
/// encoders, concatenated) whose vectors make the features, and which feature groups are in.
public struct FeatureSelection: Sendable, Codable, Equatable {
    public typealias Split = SampleSelection.Split
    public typealias Generators = SampleSelection.Generators

    public var dataset: String
    public var split: Split
    public var includeReal: Bool
    public var generators: Generators
    /// The encoders whose vectors are concatenated, in column order (one, usually).
    public var encoderKeys: [String]
    /// Only samples that existed after this run: written at or before it and not yet retired.
    public var asOfRun: Int64?
    /// Append the cheap extra features (`FeatureMatrix.extraNames`) after the vectors.
    public var extras = false
    /// Add the system prompt's vector block (after the response's), and its cosine with the
    /// response among the extras. A sample without a system prompt gets zeros.
    public var system = false
    /// Add interaction blocks after the vectors: the response times the metric, element by
    /// element (when both have the same width), and |prompt - response|.
    public var interactions = false
    /// Vector blocks left out (for ablations); the layout then gives them 0 columns.
    public var omitted: Set<VectorBlock> = []
    /// Only a seeded random subset of the rows.
    public var subset: SampleSelection.Subset?

    public enum VectorBlock: String, Sendable, Codable, CaseIterable { case prompt, response, metric }

    /// The first encoder (the only one, unless vectors are concatenated).
    public var encoderKey: String { encoderKeys.first ?? "" }

    public init(dataset: String, split: Split, encoderKey: String, includeReal: Bool = true,
                generators: Generators = .none, asOfRun: Int64? = nil, extras: Bool = false, omitted: Set<VectorBlock> = []) {
        self.init(dataset: dataset, split: split, encoderKeys: [encoderKey], includeReal: includeReal, generators: generators,
                  asOfRun: asOfRun, extras: extras, omitted: omitted)
    }

    public init(dataset: String, split: Split, encoderKeys: [String], includeReal: Bool = true,
                generators: Generators = .none, asOfRun: Int64? = nil, extras: Bool = false, omitted: Set<VectorBlock> = []) {
        self.extras = extras
        self.omitted = omitted
        self.dataset = dataset
        self.split = split
        self.encoderKeys = encoderKeys
        self.includeReal = includeReal
        self.generators = generators
        self.asOfRun = asOfRun
    }

    /// The samples, as the store selects them.
    public var samples: SampleSelection {
        SampleSelection(split: split, includeReal: includeReal, generators: generators, asOfRun: asOfRun, subset: subset)
    }
}
