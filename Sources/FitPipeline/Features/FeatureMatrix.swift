import FitFormats
import FitStore
import Foundation
import GRDB

/// Dense training/inference rows read from the store: for each sample,
/// [prompt vector | response vector | metric vector] (the seed's tri-encoder input).
///
/// Prompt and response vectors come from the chosen model encoder; the metric vector is the
/// data set's given one when it has one, otherwise the encoder's vector of the metric's
/// definition (or its name when there is no definition). A missing response is a zero vector.
public struct FeatureMatrix: Sendable {
    public var sampleIDs: [Int64]
    /// "real", or the generator of a synthetic row.
    public var generators: [String] = []
    /// "train" or "test".
    public var splits: [String] = []
    public var positions: [Int?]
    public var metricIDs: [Int64]
    public var targets: [Float?]
    /// rows x width, row-major.
    public var values: [Float]
    public var width: Int
    public var layout: Layout

    public struct Layout: Codable, Sendable, Equatable {
        /// The first encoder's key (the only one, unless vectors are concatenated).
        public var encoder: String
        /// Every encoder whose vectors are concatenated, in column order, when there are
        /// several (absent: `encoder` alone). Each block then holds one vector per encoder.
        public var encoders: [String]?
        public var promptDims: Int
        public var responseDims: Int
        /// The system prompt's block (absent: none).
        public var systemDims: Int?
        public var metricDims: Int
        /// "given:<encoder key>" or "encoder:definition" / "encoder:name".
        public var metricSource: String
        /// Names of the extra columns after the vectors (absent or empty: none).
        public var extras: [String]?
        /// Interaction blocks after the vectors, each `interactionDims` wide (absent: none).
        public var interactions: [String]?
        public var interactionDims: Int?

        /// Every encoder, in column order.
        public var encoderKeys: [String] { encoders ?? [encoder] }

        /// Named column ranges, in order: the vector blocks present, then each extra column.
        public var blocks: [(name: String, start: Int, end: Int, source: String)] {
            var out: [(String, Int, Int, String)] = []
            var c = 0
            for (name, dims, source) in [("prompt", promptDims, "encoder"), ("response", responseDims, "encoder"),
                                         ("system", systemDims ?? 0, "encoder"), ("metric", metricDims, metricSource)] where dims > 0 {
                out.append((name, c, c + dims, source))
                c += dims
            }
            for name in interactions ?? [] {
                out.append((name, c, c + (interactionDims ?? 0), "interaction"))
                c += interactionDims ?? 0
            }
            for name in extras ?? [] {
                out.append((name, c, c + 1, "extra"))
                c += 1
            }
            return out
        }

        /// All the columns.
        public var width: Int {
            promptDims + responseDims + (systemDims ?? 0) + metricDims + (interactions?.count ?? 0) * (interactionDims ?? 0) + (extras?.count ?? 0)
        }

        /// Why no feature matrix can have this layout (nil when one can): a block's width out
        /// of 0...2^20 columns, too many blocks, or no column at all. A stored layout is read
        /// from JSON that can be damaged, and `width` must not overflow.
        public var problem: String? {
            let limit = 1 << 20
            for (name, dims) in [("promptDims", promptDims), ("responseDims", responseDims), ("systemDims", systemDims ?? 0),
                                 ("metricDims", metricDims), ("interactionDims", interactionDims ?? 0)] where !(0...limit).contains(dims) {
                return "\(name) is \(dims), outside 0...\(limit)"
            }
            if (interactions?.count ?? 0) > 8 { return "it names \(interactions?.count ?? 0) interaction blocks (at most 8)" }
            if (extras?.count ?? 0) > 64 { return "it names \(extras?.count ?? 0) extra columns (at most 64)" }
            if width < 1 { return "it has no column" }
            return nil
        }

        /// The vector blocks an ablation left out (0 columns).
        public var omitted: Set<FeatureSelection.VectorBlock> {
            Set([promptDims == 0 ? .prompt : nil, responseDims == 0 ? .response : nil, metricDims == 0 ? .metric : nil].compactMap { $0 })
        }
    }

    /// The cheap extra features, in column order: cosines between the three vectors, and
    /// log(1 + characters) of the prompt and the response.
    public static let extraNames = ["cos_prompt_response", "cos_prompt_metric", "cos_response_metric",
                                    "log_prompt_chars", "log_response_chars"]
    /// The interaction blocks, in column order.
    public static let responseTimesMetric = "response_x_metric"
    public static let promptResponseDistance = "abs_prompt_minus_response"

    /// The extra column a system prompt block adds.
    public static let systemExtraName = "cos_system_response"

    public var rows: Int { sampleIDs.count }

    /// The digest rule of a row selection, shared by `checkpoint.training_digest` and the
    /// export manifest: one line `"<sample id> <origin>\n"` per row, in sample id order.
    static func digest(_ hasher: inout SHA256, ids: [Int64], origins: [String]) {
        for (id, origin) in zip(ids, origins) { hasher.update("\(id) \(origin)\n") }
    }

    public enum Selection: Sendable { case train, test }

    /// Loads the active samples of `dataset` for `selection`, in sample id order: the real
    /// ones, plus (train only) the synthetic ones of the listed generators, materialized
    /// from their recipes.
    public static func load(_ db: Database, dataset: String, selection: Selection, encoderKey: String,
                            syntheticGenerators: Set<String> = [], extras: Bool = false,
                            omitted: Set<FeatureSelection.VectorBlock> = [], subset: SampleSelection.Subset? = nil) throws -> FeatureMatrix {
        try load(db, dataset: dataset, selection: selection, encoderKeys: [encoderKey], syntheticGenerators: syntheticGenerators,
                 extras: extras, omitted: omitted, subset: subset)
    }

    /// The same, with the vectors of several encoders concatenated in each block.
    public static func load(_ db: Database, dataset: String, selection: Selection, encoderKeys: [String],
                            syntheticGenerators: Set<String> = [], extras: Bool = false, system: Bool = false, interactions: Bool = false,
                            omitted: Set<FeatureSelection.VectorBlock> = [], subset: SampleSelection.Subset? = nil) throws -> FeatureMatrix {
        let generators: FeatureSelection.Generators = selection == .train && !syntheticGenerators.isEmpty ? .only(syntheticGenerators.sorted()) : .none
        var features = FeatureSelection(dataset: dataset, split: selection == .train ? .train : .test,
                                        encoderKeys: encoderKeys, generators: generators, extras: extras, omitted: omitted)
        features.subset = subset
        features.system = system
        features.interactions = interactions
        return try load(db, features)
    }

    /// Loads every row of a selection into one matrix.
    public static func load(_ db: Database, _ selection: FeatureSelection) throws -> FeatureMatrix {
        let reader = try FeatureReader(db, selection: selection)
        var matrix = FeatureMatrix(sampleIDs: [], positions: [], metricIDs: [], targets: [], values: [], width: reader.width, layout: reader.layout)
        matrix.values.reserveCapacity(reader.rows * reader.width)
        try reader.forEachBatch(db) { batch in
            matrix.sampleIDs += batch.sampleIDs
            matrix.generators += batch.generators
            matrix.splits += batch.splits
            matrix.positions += batch.positions
            matrix.metricIDs += batch.metricIDs
            matrix.targets += batch.targets
            matrix.values += batch.values
        }
        return matrix
    }
}
