import FitAugment
import FitFormats
import FitStore
import FitTrain
import Foundation
import GRDB

extension TrainModel {
    /// Rebuilds the model of a stored checkpoint; one whose settings or weights cannot make
    /// its model is "damaged", named.
    /// A checkpoint's settings, decoded and checked (the one place `config` is read).
    static func config(of stored: Checkpoint) throws -> Config {
        let config: Config
        do {
            config = try JSONDecoder().decode(Config.self, from: Data(stored.config.utf8))
        } catch {
            throw PipelineError.checkpointDamaged(id: stored.id, reason: "its config cannot be read: \(DecodingWords.sentence(error))")
        }
        if let problem = config.features.problem {
            throw PipelineError.checkpointDamaged(id: stored.id, reason: "its feature layout cannot be: \(problem)")
        }
        return config
    }

    /// A checkpoint's evaluation, decoded (the one place `evaluation` is read).
    static func evaluation(of stored: Checkpoint) throws -> Evaluation {
        do {
            return try JSONDecoder().decode(Evaluation.self, from: Data(stored.evaluation.utf8))
        } catch {
            throw PipelineError.checkpointDamaged(id: stored.id, reason: "its evaluation cannot be read: \(DecodingWords.sentence(error))")
        }
    }

    static func loadModel(_ db: Database, checkpoint stored: Checkpoint) throws -> (TrainedModel, Config) {
        let id = stored.id
        let config = try Self.config(of: stored)
        let weights: [Float]
        do {
            weights = try stored.weights(db)
        } catch let error as StoreError {
            throw PipelineError.checkpointDamaged(id: id, reason: "\(error)")
        }
        let inputs = config.features.width
        switch ModelKind(rawValue: config.model) {
        case .boosted:
            do {
                return (.boosted(try BoostedTrees(flat: weights, inputs: inputs)), config)
            } catch {
                throw PipelineError.checkpointDamaged(id: id, reason: "\(error)")
            }
        case .seed:
            guard let network = config.network, let parameters = config.parameter_count, let state = config.state_count,
                  network.inputs == inputs else {
                throw PipelineError.checkpointDamaged(id: id, reason: "its network configuration is missing or does not fit its features")
            }
            if let problem = network.problem {
                throw PipelineError.checkpointDamaged(id: id, reason: "its network cannot be: \(problem)")
            }
            // Checked before the network is built: a damaged count must not allocate first.
            guard weights.count == parameters &+ state, parameters >= 0, state >= 0 else {
                throw PipelineError.checkpointDamaged(id: id, reason: "it holds \(weights.count) values; its configuration says \(parameters) + \(state)")
            }
            let model = ResidualMLP(config: network, seed: 0)
            guard weights.count == parameters + state, parameters == model.parameters.count, state == model.state.count else {
                throw PipelineError.checkpointDamaged(
                    id: id, reason: "it holds \(weights.count) values; its configuration needs \(model.parameters.count + model.state.count)")
            }
            model.parameters = Array(weights[0..<parameters])
            model.state = Array(weights[parameters...])
            return (.seed(model), config)
        case .knn:
            do {
                return (.knn(try NearestNeighbours(flat: weights, inputs: inputs)), config)
            } catch {
                throw PipelineError.checkpointDamaged(id: id, reason: "\(error)")
            }
        case nil:
            throw PipelineError.checkpointDamaged(id: id, reason: "it is of an unknown model '\(config.model)'")
        }
    }
}
