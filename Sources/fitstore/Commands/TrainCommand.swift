import ArgumentParser
import FitEncoder
import FitPipeline
import FitStore
import FitTrain
import Foundation

extension ModelKind: ExpressibleByArgument {}
extension TrainModel.Bagging: ExpressibleByArgument {}

/// Options of the seed's regressor and its training.
struct TrainingArguments: ParsableArguments {
    @Option(help: "Data set to train on (default: the one ingested last).")
    var dataset: String?

    @Option(help: ArgumentHelp("boosted (gradient-boosted trees on vectors, cosines and lengths: the default), seed (the write-up's residual MLP, exactly) or knn (the mean score of the k training rows of the same metric nearest by cosine on the prompt and response vectors; k chosen by an inner grouped CV: a learner to blend with the trees).", valueName: "model"))
    var model: ModelKind = .boosted

    @Option(help: "Folds of the cross-validation on real rows (0: none).")
    var cvFolds: Int = 5

    @Option(help: ArgumentHelp("How the CV folds group real rows: item (identical prompt and response), prompt (identical prompt), near (versions of one item: mutual nearest neighbours by the prompt and response vectors, closer than nine test rows in ten come to their nearest training row), or auto (the grouping whose held-out rows are as close to their training rows as the test rows are to theirs; docs/trainer.md).", valueName: "item|prompt|near|auto"))
    var cvGroups: FoldGroupChoice = .auto

    @Option(help: ArgumentHelp("Train on a seeded random subset of this many rows (the same rows for the same --seed): for very large stores.", valueName: "n"))
    var sampleRows: Int?

    @Option(help: ArgumentHelp("Extra features after the vectors: cosines between prompt, response and metric vectors, and log lengths. on, off or auto (on for boosted, off for seed).", valueName: "on|off|auto"))
    var extras: Switch = .auto

    @Option(name: .customLong("system-prompt"), help: ArgumentHelp("The system prompt's vectors as a feature block (after the response's) and its cosine with the response: on, off, or cv (train both, keep the lower CV RMSE). Default: off for train, cv for run when the data set has system prompts.", valueName: "on|off|cv"))
    var systemPrompt: RunJob.Setting?

    @Flag(help: "Add interaction blocks: the response vector times the metric vector element by element (when they have the same width), and |prompt - response|.")
    var interactions = false

    @Option(help: ArgumentHelp("Vector blocks to leave out, comma-separated (prompt, response, metric): for ablations.", valueName: "blocks"))
    var omit: CommaList<FeatureSelection.VectorBlock> = CommaList([])

    // The defaults are BoostingOptions' own (one place says what the default model is).
    @Option(help: "Boosted trees: rounds.") var trees: Int = BoostingOptions().trees
    @Option(help: "Boosted trees: learning rate (shrinkage).") var treeLearningRate: Float = BoostingOptions().learningRate
    @Option(help: "Boosted trees: leaves per tree.") var leaves: Int = BoostingOptions().leaves
    @Option(help: "Boosted trees: fraction of features per tree.") var featureFraction: Float = BoostingOptions().featureFraction
    @Option(help: "Boosted trees: fraction of rows per tree.") var rowFraction: Float = BoostingOptions().rowFraction
    @Option(help: "Boosted trees: fewest rows in a leaf.") var minLeafRows: Int = BoostingOptions().minRowsPerLeaf
    @Option(help: ArgumentHelp("Boosted trees: stop each fit after this many rounds without a lower RMSE on a tenth of its own training items held out (grouped like the CV folds), keeping the best round; --trees is then the cap, and the final fit runs the mean of the rounds the CV folds kept. 0: off.", valueName: "rounds"))
    var earlyStopping: Int = 0
    @Option(help: ArgumentHelp("Boosted trees: one more column to split on, each row's metric's mean score among the fit's own training rows (smoothed toward their overall mean by \(Int(BoostingOptions.metricMeanSmoothing)) rows; a metric the fit never saw gets the overall mean), what a categorical split on the metric gives LightGBM: on, off, or auto (the default model's choice).", valueName: "on|off|auto"))
    var metricMean: Switch = .auto
    @Option(help: ArgumentHelp("Boosted trees: split on the metric as a category, LightGBM's way: each fit numbers the metrics of its own training rows, and a split may send any set of them left (found by ordering the metrics by their mean residual; a metric the fit never saw goes right): on, off, or auto (the default model's choice: off; measured in docs/trainer.md).", valueName: "on|off|auto"))
    var metricSplit: Switch = .auto
    @Option(help: ArgumentHelp("Boosted trees: the extra columns (lengths, cosines: a handful beside the vectors' hundreds of dimensions) are candidates of every tree, and --feature-fraction samples the vector dimensions only: on, off, or auto (the default model's choice).", valueName: "on|off|auto"))
    var extrasInEveryTree: Switch = .auto
    @Option(help: ArgumentHelp("Boosted trees: keep the mean of the CV fold models (a bag) as the model instead of a final fit on every row: on, off, or cv. CV is the fold models' either way, so cv measures it nested (inside each fold, a bag of its own sub-folds against one model on the fold's rows; K x K more fits) and keeps the bag when its nested CV RMSE is lower. Default: off for train, cv for run.", valueName: "on|off|cv"))
    var bagFolds: TrainModel.Bagging?

    @Option(help: "Seed model: hidden widths of the MLP, comma-separated.")
    var widths: Widths = Widths([1024, 512, 256])

    @Option(help: "Dropout after each hidden block.")
    var dropout: Float = 0.2

    @Option(help: "Maximum epochs (early stopping usually ends sooner).")
    var epochs: Int = 100

    @Option(help: "Rows per mini-batch.") var batchSize: Int = 256
    @Option(help: "AdamW learning rate.") var lr: Float = 1e-3
    @Option(help: "AdamW decoupled weight decay.") var weightDecay: Float = 1e-5
    @Option(help: "Standard deviation of Gaussian noise added to training labels.") var labelNoise: Float = 0.05
    @Option(help: "Seed of initialization, shuffles, dropout and noise.") var seed: UInt64 = 5401
    @Option(help: ArgumentHelp("Synthetic generators whose rows join the real ones, comma-separated (e.g. negative_shuffle,negative_noise,negative_metric_swap), or all. Default: real rows only.", valueName: "generators"))
    var synthetic: String = ""

    func validate() throws {
        guard (0..<1).contains(dropout), epochs > 0, batchSize >= 2, lr > 0 else {
            throw ValidationError("need 0 <= --dropout < 1, --epochs > 0, --batch-size >= 2, --lr > 0")
        }
        guard cvFolds == 0 || cvFolds >= 2 else { throw ValidationError("--cv-folds must be 0 (none) or at least 2") }
        if let sampleRows, sampleRows < 10 { throw ValidationError("--sample-rows must be at least 10") }
        guard trees >= 1, treeLearningRate > 0, leaves >= 2, leaves <= 4096, (0...1).contains(featureFraction), featureFraction > 0,
              (0...1).contains(rowFraction), rowFraction > 0, minLeafRows >= 1, earlyStopping >= 0 else {
            throw ValidationError("need --trees >= 1, --tree-learning-rate > 0, 2 <= --leaves <= 4096, 0 < --feature-fraction <= 1, 0 < --row-fraction <= 1, --min-leaf-rows >= 1, --early-stopping >= 0")
        }
    }

    /// The generators --synthetic names.
    var syntheticSet: Set<String> {
        Set(synthetic.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    func options(dataset: String, encoderKeys: [String]) -> TrainModel.Options {
        var o = TrainModel.Options(dataset: dataset, encoderKeys: encoderKeys)
        o.model = model
        o.cvFolds = cvFolds
        o.cvGroups = cvGroups
        o.sampleRows = sampleRows
        o.omitted = Set(omit.values)
        o.extras = extras.value
        o.system = systemPrompt == .on
        o.interactions = interactions
        o.boosting.trees = trees
        o.boosting.learningRate = treeLearningRate
        o.boosting.leaves = leaves
        o.boosting.featureFraction = featureFraction
        o.boosting.rowFraction = rowFraction
        o.boosting.minRowsPerLeaf = minLeafRows
        o.boosting.seed = seed
        o.boosting.earlyStoppingRounds = earlyStopping > 0 ? earlyStopping : nil
        if let on = metricMean.value { o.boosting.groupMeanSmoothing = on ? BoostingOptions.metricMeanSmoothing : nil }
        if let on = metricSplit.value { o.boosting.categoricalGroups = on }
        if let on = extrasInEveryTree.value { o.boosting.fixedColumnsInEveryTree = on }
        o.bagging = bagFolds ?? .off
        o.network = widths.values
        o.dropout = dropout
        o.training.maxEpochs = epochs
        o.training.batchSize = batchSize
        o.training.learningRate = lr
        o.training.weightDecay = weightDecay
        o.training.labelNoise = labelNoise
        o.training.seed = seed
        o.syntheticGenerators = syntheticSet
        return o
    }
}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model on a data set's training rows, cross-validate it on the real rows, store the checkpoint.",
        discussion: """
            Features per row are [prompt | response | metric] vectors: prompts and responses from the active encoder (run `fitstore embed` first), the metric from the data set's given vectors when it has them, else the encoder's vector of the metric definition or name. With --encoder a,b the vectors of several encoders are concatenated inside each block ([prompt a | prompt b | response a | response b | metric a | metric b]; a data set's given metric vectors appear once), and the checkpoint records every encoder in order (table checkpoint_encoder): compare the CV RMSE of the combination with each encoder alone. With --extras (on by default for boosted trees) five columns follow: the three cosines between those vectors and the log character counts of prompt and response.

            Model boosted (the default): gradient-boosted regression trees (400 rounds, 15 leaves, shrinkage 0.03, 80% rows and 30% features per tree), chosen because it beats the per-metric mean in CV where the seed's MLP does not (docs/results.md).

            Model seed: the write-up's residual MLP, exactly: widths 1024-512-256, BatchNorm, ReLU, dropout 0.2, a residual projection, LayerNorm head, AdamW (lr 1e-3, weight decay 1e-5), plateau LR (x0.5 after 4 epochs), early stopping (12 epochs) restoring the best weights, label noise 0.05, validation on min(3000, 20%) random rows.

            Model knn: k nearest neighbours. A row's point is its prompt and response vectors, each scaled to unit length (so the dot product of two points is the mean of two cosines); its score is the mean score of the k training rows nearest to it among those of the same metric (all rows when the metric has fewer than k). k is chosen among 5, 10, 20, 50 and 100 by a 4-part grouped CV of each fit's own rows, so the CV below never sees a held-out row through that choice. Alone it rarely beats the trees; `fitstore blend A B` (or `run`, which tries it) combines them.

            Evaluation is K-fold cross-validation on the REAL rows: rows of one item (same prompt and response) share a fold, and synthetic rows descended from a held-out row stay out of that fold's training. The result, overall and per metric, against the constant-mean and per-metric-mean baselines, is printed and kept in the checkpoint (`SELECT evaluation FROM checkpoint`), with the weights, settings, encoder, a digest of the training rows and the per-epoch (per-round) history.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var encoder: EncoderOptions
    @OptionGroup var training: TrainingArguments

    @Flag(help: "Make the trained checkpoint the data set's chosen one (the one predict, score and report use). Without it, a data set's first checkpoint is chosen and later ones only say how they compare.")
    var promote = false

    func run() throws {
        let store = try storeOptions.open()
        let dataset = try DatasetResolver.resolve(store, name: training.dataset)
        let keys = try encoder.encoderKeys(in: store)
        var options = training.options(dataset: dataset, encoderKeys: keys)
        if options.syntheticGenerators == ["all"] {
            options.syntheticGenerators = try store.read { try AugmentationProfile.generators($0, dataset: dataset) }
        }
        let outcome = try TrainingChoices.train(store: store, options: options, byCV: training.systemPrompt == .cv, progress: TerminalProgress())
        for line in outcome.lines { print(line) }
        TrainPrinter.print(outcome.report, dataset: dataset)
        // The comparisons are recorded; the checkpoint becomes the chosen one when asked, or
        // when the data set has none yet (a first model).
        let before = try Choices.chosen(store: store, dataset: dataset)
        let choose = promote || before == nil
        let recorded = try Choices.record(store: store, dataset: dataset, comparisons: outcome.comparisons,
                                          choose: choose ? (outcome.report.checkpointID, promote ? "promoted by `fitstore train --promote`"
                                                                                            : "the data set's first checkpoint") : nil)
        ChosenPrinter.print(recorded, trained: outcome.report.checkpointID, store: store, dataset: dataset)
    }
}

/// What a command that trains or blends says about the chosen checkpoint.
enum ChosenPrinter {
    static func print(_ recorded: Choices.Recorded, trained: Int64, store: Store, dataset: String) {
        guard let chosen = recorded.chosen else { return }
        // One read of the list serves both numbers and both checkpoints' folds.
        let entries = try? CheckpointList(store: store).entries(dataset: dataset)
        let entry = { (id: Int64) in entries?.first { $0.id == id } }
        let cv = { (id: Int64) in entry(id)?.cvRMSE.map { String(format: "CV %.4f", $0) } ?? "no CV" }
        if chosen.checkpoint == trained {
            Swift.print("  chosen: checkpoint \(trained) (\(cv(trained)))" + (recorded.replaced.map { ", replacing \($0.checkpoint) (\(cv($0.checkpoint)))" } ?? "")
                        + "; predict, score and report use it")
        } else {
            let otherFolds = CheckpointList.sameFolds(entry(trained)?.folds, entry(chosen.checkpoint)?.folds) == false
            Swift.print("  chosen stays checkpoint \(chosen.checkpoint) (\(cv(chosen.checkpoint))); this one is \(trained) (\(cv(trained))"
                        + (otherFolds ? ", in other folds: the two CVs are not comparable; the same --seed and --cv-groups make them so" : "")
                        + "): `fitstore promote \(trained)` makes it the chosen one")
        }
    }
}

enum TrainPrinter {
    static func print(_ report: TrainModel.Report, dataset: String) {
        let e = report.evaluation
        if report.reused {
            Swift.print("\(dataset): the same rows and settings were trained before: reusing checkpoint \(report.checkpointID)")
        }
        Swift.print(String(format: "%@: %@ model, checkpoint %lld (run %lld), %d training rows (%d synthetic), profile %@, %.1f s",
                           dataset, report.model.rawValue, report.checkpointID, report.runID, report.trainRows, report.syntheticRows,
                           report.profile, report.seconds))
        Swift.print("  features: \(report.featureColumns) columns from the vectors of \(report.encoders.joined(separator: " + "))")
        if let cv = e.crossValidation {
            Swift.print(String(format: "  %d-fold CV on %d real rows (grouped by %@; %d synthetic descendants of held-out rows kept out):",
                               cv.folds, cv.rows, report.grouping.map { "\($0.kind.rawValue), \($0.groups) groups" } ?? "item",
                               cv.excludedDescendants))
            if let grouping = report.grouping { Swift.print("    " + grouping.summary) }
            Swift.print(String(format: "    RMSE %.4f   per-metric mean %.4f   constant mean %.4f   (%@ the per-metric mean)",
                               cv.rmse, cv.perMetricMeanRMSE, cv.constantMeanRMSE, cv.rmse < cv.perMetricMeanRMSE ? "beats" : "does NOT beat"))
            let shown = cv.perMetric.prefix(8)
            Swift.print("    per metric (largest \(shown.count) of \(cv.perMetric.count)):")
            for m in shown {
                let name = m.metric.count > 44 ? String(m.metric.prefix(43)) + "…" : m.metric.padding(toLength: 44, withPad: " ", startingAt: 0)
                Swift.print(String(format: "      %@ %5d rows  RMSE %.3f  per-metric mean %.3f", name, m.rows, m.rmse, m.perMetricMeanRMSE))
            }
        }
        if let nested = e.nestedBagging {
            let verdict = nested.meanGain.map { gain in
                String(format: " (mean per-fold gain %+.4f, standard error %.4f)", gain, nested.standardError ?? .nan) } ?? ""
            Swift.print(String(format: "  bag of fold models: nested CV RMSE %.4f against %.4f for one model on every row%@: %@",
                               nested.bagRMSE, nested.singleRMSE, verdict, nested.kept ? "kept" : "left out"))
        } else if e.bagged == true {
            Swift.print("  the model is the bag of the CV fold models (--bag-folds on)")
        }
        if let rounds = e.foldRounds {
            Swift.print("  early stopping: the CV folds kept \(rounds.map(String.init).joined(separator: ", ")) rounds; the model has \(e.rounds ?? 0)")
        }
        if let v = e.validationRMSE, let rows = e.validationRows, let c = e.constantMeanRMSE, let p = e.perMetricMeanRMSE {
            Swift.print(String(format: "  seed validation split: RMSE %.4f on %d random rows, best epoch %d (constant mean %.4f, per-metric mean %.4f)",
                               v, rows, (e.bestEpoch ?? 0) + 1, c, p))
        }
    }
}

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Score the test rows with a checkpoint; store the predictions and write ID,score.",
        discussion: "The CSV has every test ID (1-based record position of test_data.json) once, like sample_submission.csv. It is written under a temporary name and renamed at the end. On a store that cannot be written here (read-only media, another user's file) the CSV is still written; the predictions are not stored.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: "Data set (default: the one ingested last).") var dataset: String?
    @Option(help: "Checkpoint id (default: the data set's newest, or with --encoder the newest trained on those encoders).") var checkpoint: Int64?
    @Option(help: ArgumentHelp("Where to write the submission.", valueName: "path")) var out: String = "submission.csv"
    @Option(help: ArgumentHelp("Score the records of this file instead of the store's test rows: a JSON array in the test_data.json layout (metric_name, user_prompt, response, system_prompt). Texts the store has no vector for are embedded with the checkpoint's encoder; nothing is added to the store. IDs in the output are 1-based positions in this file.", valueName: "file.json"))
    var input: String?
    @Option(help: ArgumentHelp("Use the newest checkpoint trained on this encoder's vectors (a,b: on these, concatenated in this order). The vectors of every test text must be in the store under each.", valueName: "name"))
    var encoder: String?

    func run() throws {
        try storeOptions.checkOutput(out)
        let store = try storeOptions.openWritableIfPossible()
        let dataset = try DatasetResolver.resolve(store, name: dataset)
        var keys: [String]?
        if let encoder {
            // The built-in model under its default settings, or the store's encoders by name.
            keys = try EncoderOptions.parse(["--encoder", encoder]).encoderKeys(in: store)
        }
        let predict = Predict(store: store)
        let report = try input.map { try predict.run(dataset: dataset, checkpoint: checkpoint, encoderKeys: keys, input: URL(fileURLWithPath: $0),
                                                     out: URL(fileURLWithPath: out)) }
            ?? predict.run(dataset: dataset, checkpoint: checkpoint, encoderKeys: keys, out: URL(fileURLWithPath: out))
        PredictPrinter.print(report)
    }
}

enum PredictPrinter {
    static func print(_ r: Predict.Report) {
        Swift.print(String(format: "wrote %d predictions of checkpoint %lld to %@: mean %.3f, sd %.3f", r.rows, r.checkpointID, r.outPath, r.mean, r.standardDeviation))
        if r.fromInput {
            Swift.print("  (records from the input file: their predictions are in the file only, the store is unchanged)")
        } else if !r.stored {
            Swift.print("  (the store cannot be written here: the predictions are in the file only)")
        }
        let peak = max(1, r.histogram.max() ?? 1)
        for (bin, n) in r.histogram.enumerated() {
            Swift.print(String(format: "  %2d %6d %@", bin, n, String(repeating: "█", count: n * 40 / peak)))
        }
    }
}
