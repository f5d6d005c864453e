@testable import FitTrain
import FitFormats
import FitTestSupport
import Foundation
import Testing

/// The same network, initial weights and batches in PyTorch (tools/train_reference.py) and
/// here give the same loss trajectory for 50 AdamW steps, within 1e-4 relative. Dropout is
/// 0: the two cannot draw the same masks (its math is checked in GradientCheckTests).
@Suite struct TorchParityTests {
    @Test(.enabled(if: Reference.available(Python.torch), "torch is not installed and tools/setup could not install it (pip install torch)"))
    func lossTrajectoryMatchesPyTorch() throws {
        let config = ResidualMLP.Config(inputs: 48, widths: [64, 32, 16], dropout: 0)
        let model = ResidualMLP(config: config, seed: 21)
        var rng = SplitMix64(seed: 22)
        let steps = 50, B = 32
        var batches: [(x: [Float], y: [Float])] = []
        for _ in 0..<steps {
            let x = (0..<(B * 48)).map { _ in Float(rng.nextUnit() * 2 - 1) }
            let y = (0..<B).map { i in 5 + 3 * x[i * 48] - 2 * x[i * 48 + 1] * x[i * 48 + 2] + Float(rng.nextGaussian()) * 0.1 }
            batches.append((x, y))
        }
        func layoutJSON(_ l: ParameterLayout) -> [[String: Any]] {
            l.entries.map { ["name": $0.name, "offset": $0.offset, "shape": $0.shape] }
        }
        let spec: [String: Any] = [
            "config": ["inputs": 48, "widths": [64, 32, 16], "dropout": 0.0],
            "layout": layoutJSON(model.layout), "state_layout": layoutJSON(model.stateLayout),
            "parameters": model.parameters.map(Double.init), "state": model.state.map(Double.init),
            "batches": batches.map { ["x": $0.x.map(Double.init), "y": $0.y.map(Double.init)] },
            "lr": 1e-3, "weight_decay": 1e-5, "threads": 2,
        ]
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("torch-\(UUID())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let input = work.appendingPathComponent("in.json"), output = work.appendingPathComponent("out.json")
        try JSONSerialization.data(withJSONObject: spec).write(to: input)
        let run = try Python.tool("train_reference.py", [input.path, output.path])
        try #require(run.status == 0, "tools/train_reference.py failed: \(run.error)")
        let reference = (try JSONSerialization.jsonObject(with: Data(contentsOf: output)) as! [String: Any])["losses"] as! [Double]

        var optimizer = AdamW(count: model.parameters.count, learningRate: 1e-3, weightDecay: 1e-5)
        var ours: [Double] = []
        var unused = SplitMix64(seed: 0)
        for batch in batches {
            let predictions = model.forward(batch.x, batch: B, training: true, rng: &unused)
            ours.append(Double(MSELoss.forward(predictions, batch.y)))
            model.zeroGradients()
            model.backward(MSELoss.backward(predictions, batch.y))
            optimizer.update(&model.parameters, model.gradients)
        }
        #expect(reference.count == steps)
        #expect(ours.last! < ours.first! * 0.9, "the loss falls: \(ours.first!) -> \(ours.last!)")
        for (step, (a, b)) in zip(ours, reference).enumerated() {
            #expect(abs(a - b) <= 1e-4 * abs(b), "step \(step): ours \(a), torch \(b)")
        }
    }
}
