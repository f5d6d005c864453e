import FitAugment
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
    public var positions: [Int?]
    public var metricIDs: [Int64]
    public var targets: [Float?]
    /// rows x width, row-major.
    public var values: [Float]
    public var width: Int
    public var layout: Layout

    public struct Layout: Codable, Sendable, Equatable {
        public var encoder: String
        public var promptDims: Int
        public var responseDims: Int
        public var metricDims: Int
        /// "given:<encoder key>" or "encoder:definition" / "encoder:name".
        public var metricSource: String
    }

    public var rows: Int { sampleIDs.count }

    public enum Selection: Sendable { case train, test }

    public struct MissingVectors: Error, CustomStringConvertible {
        public let count: Int
        public let encoder: String
        public var description: String {
            "\(count) text(s) of the selected samples have no vector under \(encoder): run `fitstore embed` first"
        }
    }

    /// Loads the active samples of `dataset` for `selection`, in sample id order: the real
    /// ones, plus (train only) the synthetic ones of the listed generators, materialized
    /// from their recipes.
    public static func load(_ db: Database, dataset: String, selection: Selection, encoderKey: String,
                            syntheticGenerators: Set<String> = []) throws -> FeatureMatrix {
        guard let datasetID = try Int64.fetchOne(db, sql: "SELECT id FROM dataset WHERE name = ?", arguments: [dataset]) else {
            throw StoreError.notFound("no data set named '\(dataset)' in the store")
        }
        guard let encoderID = try Int64.fetchOne(db, sql: "SELECT id FROM encoder WHERE key = ?", arguments: [encoderKey]) else {
            throw StoreError.notFound("no vectors under encoder \(encoderKey): run `fitstore embed` first")
        }
        let (metricVectors, metricSource) = try MetricVectors.load(db, datasetID: datasetID, encoderID: encoderID)
        let split = selection == .train ? "train" : "test"
        let generators = selection == .train ? syntheticGenerators.sorted() : []
        let placeholders = generators.map { _ in "?" }.joined(separator: ",")
        let rows = try Row.fetchAll(db, sql: """
            SELECT s.id, s.position, s.metric_id, s.score, s.response_text_id IS NULL AS no_response,
                   pe.vector AS p, re.vector AS r, s.generator, s.seed, json_extract(s.parameters, '$.sigma') AS sigma
              FROM sample s
              LEFT JOIN text_embedding pe ON pe.text_id = s.prompt_text_id AND pe.encoder_id = ?
              LEFT JOIN text_embedding re ON re.text_id = s.response_text_id AND re.encoder_id = ?
             WHERE s.dataset_id = ? AND s.split = ? AND s.retired_run_id IS NULL
               AND (s.origin = 'real'\(generators.isEmpty ? "" : " OR s.generator IN (\(placeholders))"))
             ORDER BY s.id
            """, arguments: StatementArguments([encoderID, encoderID, datasetID, split] as [any DatabaseValueConvertible]) + StatementArguments(generators))
        let missing = rows.filter { ($0["p"] as Data?) == nil || (!($0["no_response"] as Bool) && ($0["r"] as Data?) == nil) }.count
            + Set(rows.map { $0["metric_id"] as Int64 }).filter { metricVectors[$0] == nil }.count
        if missing > 0 { throw MissingVectors(count: missing, encoder: encoderKey) }
        let textDims = try rows.first.map { try VectorCodec.header(of: $0["p"] as Data).dims } ?? 384
        let metricDims = metricVectors.values.first?.count ?? textDims
        let width = 2 * textDims + metricDims
        var matrix = FeatureMatrix(sampleIDs: [], positions: [], metricIDs: [], targets: [], values: [], width: width,
                                   layout: Layout(encoder: encoderKey, promptDims: textDims, responseDims: textDims,
                                                  metricDims: metricDims, metricSource: metricSource))
        matrix.values.reserveCapacity(rows.count * width)
        let noise = NegativeSampler.generator(.noise)
        for row in rows {
            let generator = (row["generator"] as String?) ?? "real"
            matrix.generators.append(generator)
            matrix.sampleIDs.append(row["id"])
            matrix.positions.append(row["position"])
            matrix.metricIDs.append(row["metric_id"])
            matrix.targets.append((row["score"] as Double?).map { Float($0) })
            var prompt = try VectorCodec.decode(row["p"] as Data)
            var response = try (row["r"] as Data?).map { try VectorCodec.decode($0) } ?? [Float](repeating: 0, count: textDims)
            if generator == noise {
                // A noise recipe: its parent's vectors (the same texts) plus seeded noise.
                let seed = UInt64(bitPattern: row["seed"] as Int64), sigma = (row["sigma"] as Double?) ?? 0
                prompt = NoiseMaterializer.materialize(prompt, seed: seed, sigma: sigma, stream: 0)
                response = NoiseMaterializer.materialize(response, seed: seed, sigma: sigma, stream: 1)
            }
            matrix.values += prompt
            matrix.values += response
            matrix.values += metricVectors[row["metric_id"]]!
        }
        return matrix
    }
}
