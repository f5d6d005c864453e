import FitStore
import Foundation
import GRDB

/// `fitstore report`: one self-contained HTML file (inline SVG and CSS, no network) with the
/// seed's exploration figures computed from the store, then the synthetic-data audit, the
/// training history, the cross-validation results and the test predictions. A section whose
/// data is not in the store yet says so and names the command that makes it.
public struct HTMLReport {
    public struct Summary: Sendable {
        public var path: String
        public var charts: [String]
        public var emptySections: [String]
        public var bytes: Int
    }

    let store: Store

    public init(store: Store) { self.store = store }

    /// One real or synthetic sample, as the figures need it.
    typealias Row_ = SampleOverview

    /// `checkpoint` nil: the data set's newest checkpoint. `encoderKey`: whose metric vectors
    /// to show (nil: the newest checkpoint's encoder, else the newest encoder of texts).
    public func write(dataset: String, checkpoint: Int64? = nil, encoderKey: String? = nil, to url: URL) throws -> Summary {
        try OutputFile.check(url, store: store.path)
        var html = Page(title: "fitstore report: \(dataset)")
        try store.read { db in
            let datasetID = try DatasetResolver.require(db, dataset).id
            let rows = try SampleOverview.fetch(db, dataset: datasetID)
            let real = rows.filter { $0.origin == "real" }
            let train = real.filter { $0.split == "train" }
            // The writing system of every prompt and response text of a real row, detected once
            // for the exploration's charts and the residuals by script.
            let scripts = try Self.scripts(db, textIDs: real.flatMap { [$0.promptText, $0.responseText].compactMap { $0 } })
            html.intro(dataset: dataset, rows: rows, storePath: store.path)
            try exploration(&html, db: db, datasetID: datasetID, real: real, train: train, scripts: scripts)
            try metricEmbeddings(&html, db: db, datasetID: datasetID, encoderKey: encoderKey)
            augmentation(&html, rows: rows)
            try training(&html, db: db, datasetID: datasetID, checkpoint: checkpoint, train: train, scripts: scripts)
        }
        let text = html.render()
        let file = try OutputFile(url, store: store.path)
        try file.write(Data(text.utf8))
        try file.commit()
        return Summary(path: url.path, charts: html.charts, emptySections: html.emptySections, bytes: text.utf8.count)
    }

    // MARK: - Exploration (the seed's section 2)

    func exploration(_ html: inout Page, db: Database, datasetID: Int64, real: [Row_], train: [Row_], scripts: [Int64: String]) throws {
        html.section("Exploration", note: "Real rows only; synthetic rows appear under Synthetic data.")
        guard !real.isEmpty else { html.empty("No samples yet: run `fitstore ingest DIR`."); return }
        // Missing values.
        let columns = ["user_prompt", "response", "system_prompt", "score"]
        func missing(_ r: [Row_]) -> [Double] {
            [Double(r.filter { $0.promptText == nil || ($0.promptChars ?? 0) == 0 }.count), Double(r.filter(\.noResponse).count),
             Double(r.filter(\.noSystem).count), Double(r.filter { $0.score == nil && $0.split == "train" }.count)]
        }
        let test = real.filter { $0.split == "test" }
        let (missingTrain, missingTest) = (missing(train), missing(test))
        if (missingTrain + missingTest).allSatisfy({ $0 == 0 }) {
            html.finding("Missing values: none. Every train and test row has a prompt, a response and a system prompt, and every train row a score.")
        } else {
            html.chart(SVGChart.bars(id: "missing", title: "Missing values per column", categories: columns,
                                     series: [("train", missingTrain), ("test", missingTest)], xLabel: "column", yLabel: "rows missing (count)"),
                       caption: "A system prompt that is whitespace only counts as missing. Test rows have no score by design.")
        }
        // Score distribution.
        let scores = train.compactMap(\.score)
        if !scores.isEmpty {
            let n = Double(scores.count), mean = scores.reduce(0, +) / n
            let sd = (scores.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
            let skew = sd > 0 ? scores.map { pow(($0 - mean) / sd, 3) }.reduce(0, +) / n : 0
            var bins = [Double](repeating: 0, count: 11)
            for s in scores { bins[ScoreBin.of(s)] += 1 }
            html.chart(SVGChart.bars(id: "score-distribution", title: String(format: "Train scores: mean %.2f, sd %.2f, skewness %.2f", mean, sd, skew),
                                     categories: (0...10).map(String.init), series: [("real", bins)], xLabel: "judge score (rounded to integer, 0-10)", yLabel: "rows (count)"),
                       caption: "Skewness is the third standardized moment; negative means a long tail towards low scores.")
        }
        // Languages, of the prompts and of the responses.
        func languages(id: String, title: String, text: (Row_) -> Int64?, none: String, caption: String) {
            var counts: [String: Double] = [:]
            for r in real { counts[text(r).flatMap { scripts[$0] } ?? none, default: 0] += 1 }
            let ordered = counts.sorted { $0.value > $1.value }
            html.chart(SVGChart.horizontalBars(id: id, title: title, labels: ordered.map(\.key), values: ordered.map(\.value),
                                               xLabel: "rows (count, train and test)"), caption: caption)
        }
        languages(id: "languages", title: "Prompt language by writing system", text: \.promptText, none: "no prompt",
                  caption: "Detected by script: the Unicode block of most of the prompt's letters. Scripts shared by several languages (Devanagari: Hindi, Nepali, Marathi; Latin: English and others) are not split.")
        languages(id: "response-languages", title: "Response language by writing system", text: \.responseText, none: "no response",
                  caption: "As for prompts: a translation task shows its target languages here.")
        // Lengths.
        let pl = real.compactMap(\.promptChars).map(Double.init), rl = real.compactMap(\.responseChars).map(Double.init)
        func logHistogram(_ v: [Double]) -> [Double] {
            var b = [Double](repeating: 0, count: 11)
            for x in v { b[min(10, max(0, Int(log10(max(1, x)) * 2)))] += 1 }
            return b
        }
        let edges = (0...10).map { i in SVGChart.label(pow(10, Double(i) / 2).rounded()) + "+" }
        html.chart(SVGChart.bars(id: "lengths", title: "Prompt and response lengths", categories: edges,
                                 series: [("prompt", logHistogram(pl)), ("response", logHistogram(rl))],
                                 xLabel: "length (characters, log bins: each bin starts at the label)", yLabel: "rows (count)"), caption: nil)
        let pairs = real.compactMap { r in r.promptChars.flatMap { p in r.responseChars.map { (Double(p), Double($0)) } } }
        html.chart(SVGChart.scatter(id: "length-scatter", title: "Prompt length vs response length", points: Self.sample(pairs, 3000),
                                    xLabel: "prompt length (characters, log scale)", yLabel: "response length (characters, log scale)", logX: true, logY: true),
                   caption: pairs.count > 3000 ? "A seeded sample of 3,000 of \(pairs.count) rows." : nil)
        let byScore = (0...10).map { s in (String(s), train.filter { $0.score.map { ScoreBin.of($0) } == s }.compactMap(\.responseChars).map { log10(max(1, Double($0))) }) }
        html.chart(SVGChart.boxes(id: "length-by-score", title: "Response length by score", groups: byScore,
                                  xLabel: "judge score (rounded)", yLabel: "log10 response length (characters)"),
                   caption: "Boxes span the quartiles, whiskers reach 1.5 IQR, circles are the rows beyond.")
        // Outliers.
        let p99p = Self.percentile(pl, 0.99), p99r = Self.percentile(rl, 0.99)
        // The longest responses, each once: one response is often judged under several
        // metrics, and a row per judgement would repeat it.
        var byResponse: [Int64: [Row_]] = [:]
        for r in real where Double(r.responseChars ?? 0) >= p99r { if let t = r.responseText { byResponse[t, default: []].append(r) } }
        let longest = byResponse.values.sorted { ($0[0].responseChars ?? 0, $0[0].responseText ?? 0) > ($1[0].responseChars ?? 0, $1[0].responseText ?? 0) }.prefix(10)
        html.table(title: String(format: "Outliers: %d prompts above the 99th percentile (%.0f characters), %d responses above it (%.0f characters); the longest %d distinct responses:",
                                 pl.filter { $0 > p99p }.count, p99p, rl.filter { $0 > p99r }.count, p99r, longest.count),
                   header: ["response chars", "prompt chars", "rows", "metrics", "scores", "splits"],
                   rows: longest.map { rows in
                       let scores = rows.compactMap(\.score)
                       let range = scores.isEmpty ? "–" : scores.min() == scores.max() ? String(format: "%g", scores[0])
                           : String(format: "%g to %g", scores.min()!, scores.max()!)
                       return ["\(rows[0].responseChars ?? 0)", "\(rows[0].promptChars ?? 0)", "\(rows.count)",
                               Set(rows.map(\.metric)).sorted().joined(separator: ", "), range, Set(rows.map(\.split)).sorted().joined(separator: ", ")]
                   })
        // Metrics.
        var frequency: [String: Int] = [:]
        for r in train { frequency[r.metric, default: 0] += 1 }
        let top = frequency.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(20)
        html.chart(SVGChart.horizontalBars(id: "metric-frequency", title: frequency.count > 20 ? "Metric frequency (top 20 of \(frequency.count))" : "Metric frequency (all \(frequency.count))", labels: top.map(\.key),
                                           values: top.map { Double($0.value) }, xLabel: "train rows (count)"), caption: nil)
        var sums: [String: (Double, Int)] = [:]
        for r in train { if let s = r.score { let v = sums[r.metric] ?? (0, 0); sums[r.metric] = (v.0 + s, v.1 + 1) } }
        let means = sums.filter { $0.value.1 >= 3 }.map { ($0.key, $0.value.0 / Double($0.value.1)) }.sorted { ($0.1, $1.0) > ($1.1, $0.0) }
        if means.count <= 20 {
            // Few metrics: one chart of all, highest first (a top ten and a bottom ten would
            // show the same metrics twice).
            html.chart(SVGChart.horizontalBars(id: "metric-mean", title: "Mean score per metric (all \(means.count) with 3+ rows, highest first)",
                                               labels: means.map(\.0), values: means.map(\.1), xLabel: "mean judge score (0-10)"), caption: nil)
        } else {
            html.chart(SVGChart.horizontalBars(id: "metric-mean-top", title: "Highest mean score per metric (of \(means.count) with 3+ rows)", labels: means.prefix(10).map(\.0),
                                               values: means.prefix(10).map(\.1), xLabel: "mean judge score (0-10)"), caption: nil)
            let bottom = Array(means.suffix(10).reversed())
            html.chart(SVGChart.horizontalBars(id: "metric-mean-bottom", title: "Lowest mean score per metric (of \(means.count) with 3+ rows)", labels: bottom.map(\.0),
                                               values: bottom.map(\.1), xLabel: "mean judge score (0-10)"), caption: nil)
        }
        let frequent = top.prefix(10).map { m in (m.key, train.filter { $0.metric == m.key }.compactMap(\.score)) }
        let shortNames = frequent.map { String($0.0.split(separator: "/").last ?? Substring($0.0)) }
        let unique = Set(shortNames).count == shortNames.count
        html.chart(SVGChart.boxes(id: "metric-boxes", title: frequent.count < 10 ? "Scores per metric" : "Scores of the ten most frequent metrics",
                                  groups: zip(unique ? shortNames : frequent.map(\.0), frequent.map(\.1)).map { ($0, $1) },
                                  xLabel: unique ? "metric (name after its last '/')" : "metric", yLabel: "judge score (0-10)", range: 0...10),
                   caption: frequent.map(\.0).joined(separator: " · "))
    }

    // MARK: - Metric embeddings

    func metricEmbeddings(_ html: inout Page, db: Database, datasetID: Int64, encoderKey: String?) throws {
        html.section("Metric embeddings", note: "The vectors training uses for metrics: the data set's given ones, else the encoder's vectors of the definitions or names.")
        let (encoders, inUse) = try Encoder.textEncoders(db)
        if !encoders.isEmpty {
            html.table(title: "Encoders of texts in the store (\(inUse) texts in use)", header: ["name", "source", "dimensions", "texts covered"],
                       rows: encoders.map { [$0.encoder.displayName, $0.encoder.source.rawValue, "\($0.encoder.dims)",
                                             "\($0.covered) (\(inUse > 0 ? String(format: "%.0f%%", 100 * Double($0.covered) / Double(inUse)) : "–"))"] })
        }
        var chosen: Int64?
        if let encoderKey {
            guard let encoder = try Encoder.keyed(db, encoderKey) else { throw PipelineError.noVectors(encoder: encoderKey) }
            chosen = encoder.id
        }
        let encoderID = try chosen ?? Checkpoint.latestEncoder(db, dataset: datasetID) ?? Encoder.newestModel(db)?.id
        let (vectors, source) = try MetricVectors.load(db, dataset: datasetID, encoder: encoderID)
        guard !vectors.isEmpty else { html.empty("No metric vectors yet: ingest a metric_name_embeddings.npy or run `fitstore embed`."); return }
        let majors = Dictionary(uniqueKeysWithValues: try Metric.all(db, dataset: datasetID).map { ($0.id, $0.major) })
        let norms = vectors.values.map { v in Double(v.map { $0 * $0 }.reduce(0, +)).squareRoot() }
        let nan = vectors.values.filter { $0.contains { !$0.isFinite } }.count
        let zero = vectors.values.filter { $0.allSatisfy { $0 == 0 } }.count
        html.table(title: "Integrity (\(source))", header: ["vectors", "dimensions", "with NaN or infinity", "all zero", "norm min", "norm mean", "norm max"],
                   rows: [["\(vectors.count)", "\(vectors.values.first?.count ?? 0)", "\(nan)", "\(zero)", String(format: "%.4f", norms.min() ?? 0),
                           String(format: "%.4f", norms.reduce(0, +) / Double(norms.count)), String(format: "%.4f", norms.max() ?? 0)]])
        var byMajor: [String: [Double]] = [:], counts: [String: Int] = [:]
        for (id, v) in vectors {
            let m = majors[id] ?? "?"
            let n = Double(v.map { $0 * $0 }.reduce(0, +)).squareRoot()
            guard n > 0 else { continue }
            var acc = byMajor[m] ?? [Double](repeating: 0, count: v.count)
            for i in v.indices { acc[i] += Double(v[i]) / n }
            byMajor[m] = acc
            counts[m, default: 0] += 1
        }
        let labels = byMajor.keys.sorted()
        guard labels.count >= 2 else {
            html.finding("Every metric with a vector is in one category (\(labels.first ?? "none"), \(counts.values.reduce(0, +)) metrics): there is nothing to compare between categories.")
            return
        }
        let matrix = labels.map { a in labels.map { b in Self.cosine(byMajor[a] ?? [], byMajor[b] ?? []) } }
        html.chart(SVGChart.heatmap(id: "category-cosine", title: "Cosine similarity between metric categories", labels: labels.map { "\($0) (\(counts[$0] ?? 0))" },
                                    matrix: matrix, valueLabel: "cosine of mean unit vectors"),
                   caption: "A category is the part of the metric name before the first '/'; each cell compares the mean unit vectors of two categories.")
    }

    // MARK: - Synthetic data

    func augmentation(_ html: inout Page, rows: [Row_]) {
        html.section("Synthetic data", note: "Score distribution of the training rows after each augmentation stage (cumulative).")
        let trainRows = rows.filter { $0.split == "train" }
        guard trainRows.contains(where: { $0.origin != "real" }) else {
            html.empty("No synthetic rows yet: run `fitstore augment` (see docs/provenance.md).")
            return
        }
        let stages: [(String, (String) -> Bool)] = [
            ("real", { $0 == "real" }),
            ("+ opposite metric", { $0 == "opposite_metric" }),
            ("+ substitutable metric", { $0 == "substitutable_metric" }),
            ("+ negatives", { $0.hasPrefix("negative_") }),
        ]
        var included: [Row_] = []
        var series: [(String, [Double])] = []
        var table: [[String]] = []
        for (name, belongs) in stages {
            let added = trainRows.filter { belongs($0.origin) }
            if added.isEmpty && name != "real" { table.append([name, "0", "–"]); continue }
            included += added
            var bins = [Double](repeating: 0, count: 11)
            for r in included { if let s = r.score { bins[ScoreBin.of(s)] += 1 } }
            series.append((name, bins.map { $0 / Double(max(1, included.count)) * 100 }))
            let mean = included.compactMap(\.score).reduce(0, +) / Double(max(1, included.count))
            table.append([name, "\(added.count)", String(format: "%.2f", mean)])
        }
        html.chart(SVGChart.bars(id: "augmentation-scores", title: "Training scores after each stage", categories: (0...10).map(String.init),
                                 series: series, xLabel: "score (rounded, 0-10)", yLabel: "share of training rows (%)"), caption: nil)
        html.table(title: "Rows added per stage, and the mean score after it", header: ["stage", "rows added", "mean score after"], rows: table)
    }

    // MARK: - Training and predictions

    func training(_ html: inout Page, db: Database, datasetID: Int64, checkpoint: Int64?, train: [Row_], scripts: [Int64: String]) throws {
        let current = try ChosenCheckpoint.current(db, dataset: datasetID)?.checkpoint
        let shown = checkpoint ?? current
        html.section("Training", note: shown.map { id in id == current ? "Checkpoint \(id), the data set's chosen checkpoint." : "Checkpoint \(id)." }
                        ?? "The newest checkpoint of the data set.")
        guard let ck = try Checkpoint.latest(db, dataset: datasetID, id: shown) else {
            html.empty("No checkpoint yet: run `fitstore train` (or `fitstore run`).")
            html.section("Predictions", note: nil)
            html.empty("No predictions yet: run `fitstore predict`.")
            return
        }
        let id = ck.id, model = ck.model
        let history = (try? JSONDecoder().decode([EpochLine].self, from: Data(ck.history.utf8))) ?? []
        if model == "blend" {
            let members = try BlendMembers.fetch(db, blend: id)
            html.finding("Checkpoint \(id) is a blend of checkpoints " + members.map { String(format: "%lld (weight %.3f)", $0.checkpoint, $0.weight) }
                .joined(separator: ", ") + ": it has no training history of its own; its CV below comes from its members' out-of-fold predictions.")
        } else if history.isEmpty {
            html.empty("Checkpoint \(id) has no history.")
        } else {
            let unit = model == "boosted" ? "boosting round (CV fold 1; validation = its held-out tenth)" : "epoch"
            // Both curves in score units: the stored training loss is a mean squared error.
            html.chart(SVGChart.lines(id: "history-loss", title: "Checkpoint \(id) (\(model)): training and validation RMSE",
                                      series: [("train RMSE (root of the mean squared error)", history.map { (Double($0.epoch + 1), $0.trainLoss.squareRoot()) }),
                                               ("validation RMSE", history.map { (Double($0.epoch + 1), $0.validationRMSE ?? .nan) })],
                                      xLabel: unit, yLabel: "RMSE (score units)"),
                       caption: model == "seed" ? "The training RMSE is measured with dropout on and label noise added, so it can sit above the validation RMSE." : nil)
            let rates = Set(history.map(\.learningRate))
            if rates.count > 1 {
                html.chart(SVGChart.lines(id: "history-lr", title: "Learning rate", series: [("learning rate", history.map { (Double($0.epoch + 1), $0.learningRate) })],
                                          xLabel: unit, yLabel: "learning rate (log scale)", logY: true), caption: nil)
            } else if let rate = rates.first {
                html.finding("Learning rate: \(SVGChart.label(rate)) throughout" + (model == "boosted" ? " (the trees' shrinkage)." : " (the plateau schedule never lowered it)."))
            }
        }
        if let evaluation = try? TrainModel.evaluation(of: ck), let cv = evaluation.crossValidation {
            html.chart(SVGChart.dots(id: "cv", title: "Checkpoint \(id): \(cv.folds)-fold CV on \(cv.rows) real rows",
                                     categories: ["\(model) model", "per-metric mean", "constant mean"],
                                     values: [Double(cv.rmse), Double(cv.perMetricMeanRMSE), Double(cv.constantMeanRMSE)],
                                     xLabel: "predictor", yLabel: "RMSE (axis from near the data)", highlight: [0]),
                       caption: String(format: "Model %.4f, per-metric mean %.4f, constant mean %.4f; %d synthetic descendants of held-out rows were kept out of training.",
                                       cv.rmse, cv.perMetricMeanRMSE, cv.constantMeanRMSE, cv.excludedDescendants))
            html.table(title: "CV per metric (largest 15)", header: ["metric", "rows", "model RMSE", "per-metric mean RMSE"],
                       rows: cv.perMetric.prefix(15).map { [$0.metric, "\($0.rows)", String(format: "%.3f", $0.rmse), String(format: "%.3f", $0.perMetricMeanRMSE)] })
        } else {
            html.empty("Checkpoint \(id) has no cross-validation (trained with --cv-folds 0).")
        }
        try errors(&html, db: db, datasetID: datasetID, checkpoint: ck, train: train, scripts: scripts)
        try choices(&html, db: db, datasetID: datasetID, checkpoint: ck, chosen: current)
        try checkpoints(&html, db: db, datasetID: datasetID, shown: id)
        html.section("Predictions", note: "Test predictions of checkpoint \(id)" + (id == current ? ", the chosen one (what `predict` writes)." : "."))
        let predictions = try Predictions.latestScores(db, dataset: datasetID, checkpoint: id)
        guard !predictions.isEmpty else { html.empty("No predictions yet: run `fitstore predict`."); return }
        var bins = [Double](repeating: 0, count: 11)
        for p in predictions { bins[ScoreBin.of(p)] += 1 }
        let mean = predictions.reduce(0, +) / Double(predictions.count)
        let sd = (predictions.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(predictions.count)).squareRoot()
        html.chart(SVGChart.bars(id: "predictions", title: String(format: "Checkpoint %lld: %d test predictions, mean %.2f, sd %.2f", id, predictions.count, mean, sd),
                                 categories: (0...10).map(String.init), series: [("predicted", bins)], xLabel: "predicted score (rounded, 0-10)", yLabel: "rows (count)"),
                   caption: nil)
    }

    /// Where the shown checkpoint is wrong, from its stored out-of-fold predictions (no
    /// retraining): predicted against actual, and the residuals by metric (the metrics with
    /// the largest share of squared error first) and by the response's writing system.
    func errors(_ html: inout Page, db: Database, datasetID: Int64, checkpoint ck: Checkpoint, train: [Row_], scripts: [Int64: String]) throws {
        let outOfFold = try OutOfFoldPredictions.fetch(db, checkpoint: ck.id)
        let scored = train.compactMap { r -> (row: SampleOverview, actual: Double, predicted: Double)? in
            guard let e = outOfFold[r.id], let actual = r.score, e.score.isFinite else { return nil }
            return (r, actual, e.score)
        }
        html.section("Where the model is wrong", note: "Checkpoint \(ck.id): what cross-validation predicted for each real training row, from the fold model that held it out.")
        guard scored.count >= 2 else {
            html.empty("Checkpoint \(ck.id) kept no out-of-fold predictions (trained with --cv-folds 0, or before they were stored).")
            return
        }
        let squared = scored.reduce(0) { $0 + ($1.predicted - $1.actual) * ($1.predicted - $1.actual) }
        let rmse = (squared / Double(scored.count)).squareRoot()
        let name = String(format: "Checkpoint %lld (out-of-fold RMSE %.4f, %d rows)", ck.id, rmse, scored.count)
        // A deterministic sample (every k-th row in sample order) keeps the file small.
        let points = Self.sample(scored.map { ($0.actual, $0.predicted) }, 3000)
        html.chart(SVGChart.scatter(id: "predicted-actual", title: "\(name): predicted against the judge's score", points: points,
                                    xLabel: "judge's score", yLabel: "out-of-fold prediction"),
                   caption: points.count < scored.count ? "\(points.count) rows evenly spaced in sample order, of \(scored.count)." : nil)
        var byMetric: [String: [Double]] = [:]
        for s in scored { byMetric[s.row.metric, default: []].append(s.predicted - s.actual) }
        let share = byMetric.mapValues { $0.reduce(0) { $0 + $1 * $1 } / max(squared, 1e-12) }
        let worst = byMetric.keys.sorted { (share[$0] ?? 0, $1) > (share[$1] ?? 0, $0) }.prefix(10)
        html.chart(SVGChart.boxes(id: "residual-metric", title: "\(name): residuals of the \(worst.count) metrics with the largest share of squared error",
                                  groups: worst.map { m in (String(format: "%.0f%% %@", (share[m] ?? 0) * 100, m), byMetric[m] ?? []) },
                                  xLabel: "share of the squared error, metric", yLabel: "prediction - score"),
                   caption: "Above 0: predicted too high. Boxes: quartiles; whiskers: 1.5 IQR.")
        try blockAblation(&html, db: db, datasetID: datasetID, checkpoint: ck)
        var byScript: [String: [Double]] = [:]
        for s in scored { byScript[s.row.responseText.flatMap { scripts[$0] } ?? "no response", default: []].append(s.predicted - s.actual) }
        let groups = byScript.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }.prefix(10)
        html.chart(SVGChart.boxes(id: "residual-script", title: "\(name): residuals by the response's writing system",
                                  groups: groups.map { ("\($0.key) (\($0.value.count))", $0.value) },
                                  xLabel: "writing system of the response (rows)", yLabel: "prediction - score"),
                   caption: nil)
    }

    /// What each feature block is worth, where the store has it: checkpoints on the same rows,
    /// encoders, settings and folds whose blocks differ from the shown one's by one block,
    /// with their fold models' CV (a kept bag's nested numbers are not comparable with them).
    func blockAblation(_ html: inout Page, db: Database, datasetID: Int64, checkpoint ck: Checkpoint) throws {
        guard let mine = try? TrainModel.config(of: ck), let own = Self.foldModelCV(ck) else { return }
        // Vector and interaction blocks; the extra columns a block brings (the system prompt's
        // cosine) come and go with it.
        let myBlocks = Set(mine.features.blocks.filter { $0.source != "extra" }.map(\.name))
        var points: [(label: String, cv: Double)] = []
        for item in try Checkpoint.listed(db, dataset: datasetID) {
            let other = item.checkpoint
            guard other.id != ck.id, other.model == ck.model, other.trainingDigest == ck.trainingDigest,
                  let config = try? TrainModel.config(of: other), config.cv_folds == mine.cv_folds,
                  config.boosting == mine.boosting, config.features.encoderKeys == mine.features.encoderKeys,
                  let cv = Self.foldModelCV(other) else { continue }
            let blocks = Set(config.features.blocks.filter { $0.source != "extra" }.map(\.name))
            let missing = myBlocks.subtracting(blocks), added = blocks.subtracting(myBlocks)
            if missing.count == 1, added.isEmpty, let block = missing.first {
                points.append(("without \(block) (\(other.id))", cv))
            } else if added.count == 1, missing.isEmpty, let block = added.first {
                points.append(("with \(block) (\(other.id))", cv))
            }
        }
        guard !points.isEmpty else {
            html.finding("Feature blocks: the store holds no checkpoint of checkpoint \(ck.id)'s rows and settings that differs from it by one block (train one with a block left out, e.g. `--system-prompt off`, to see what a block is worth).")
            return
        }
        let shown = [("checkpoint \(ck.id)", own)] + points.sorted { $0.cv < $1.cv }
        html.chart(SVGChart.dots(id: "block-ablation", title: "Checkpoint \(ck.id): CV RMSE with one feature block more or less (same rows, settings and folds)",
                                 categories: shown.map(\.0), values: shown.map(\.1), xLabel: "checkpoint (fold models' CV)",
                                 yLabel: "CV RMSE (axis from near the data)", highlight: [0]),
                   caption: "The fold models' CV of each, so a bag and a single model compare on the same footing.")
    }

    /// A checkpoint's CV by its fold models: a kept bag's nested single-model number, else its CV.
    static func foldModelCV(_ ck: Checkpoint) -> Double? {
        guard let evaluation = try? TrainModel.evaluation(of: ck), let cv = evaluation.crossValidation else { return nil }
        if let nested = evaluation.nestedBagging, nested.kept { return Double(nested.singleRMSE) }
        return Double(cv.rmse)
    }

    /// The choices that led to the shown checkpoint, with the fold-by-fold numbers each was
    /// made on: the comparisons recorded by the run that chose it (or that it took part in).
    func choices(_ html: inout Page, db: Database, datasetID: Int64, checkpoint ck: Checkpoint, chosen: Int64?) throws {
        var comparisons = try Comparison.involving(db, checkpoint: ck.id)
        if ck.id == chosen, let run = try ChosenCheckpoint.current(db, dataset: datasetID)?.run {
            // The choices that led to it: the newest comparison of each kind up to the run that
            // chose it (a rerun that finds a choice already recorded does not record it again).
            let ids = Set(comparisons.map(\.id)), kinds = Set(comparisons.map(\.kind))
            var newest: [Comparison.Kind: Comparison] = [:]
            for c in try Comparison.all(db, dataset: datasetID) where c.run <= run && !ids.contains(c.id) && !kinds.contains(c.kind) {
                if (newest[c.kind]?.id ?? -1) < c.id { newest[c.kind] = c }
            }
            comparisons += newest.values.filter { $0.kind != .tune && $0.kind != .blend }
        }
        comparisons.sort { $0.id < $1.id }
        let grouping = (try? TrainModel.config(of: ck))?.cv_groups
        html.section("The choices behind it", note: "Each choice made on the same folds: a candidate is kept only when its mean per-fold gain exceeds the standard error of that gain.")
        if let grouping {
            html.finding("Folds: grouped by \(grouping.kind.rawValue) (\(grouping.groups) groups, the largest \(grouping.largestGroup) rows; chosen by \(grouping.chosenBy)).")
        }
        guard !comparisons.isEmpty else {
            html.finding("No choice recorded for checkpoint \(ck.id): it was trained as asked (`train`), not chosen by `run`, `tune` or `blend`.")
            return
        }
        var rows: [[String]] = []
        for c in comparisons {
            for (i, candidate) in c.candidates.enumerated() {
                rows.append([i == 0 ? c.kind.rawValue : "", candidate.label + (candidate.checkpoint.map { " (checkpoint \($0))" } ?? ""),
                             String(format: "%.4f", candidate.cvRMSE), candidate.foldRMSE.map { String(format: "%.3f", $0) }.joined(separator: " "),
                             i == c.kept ? "kept" : "",
                             i == 0 ? (c.meanGain.map { g in String(format: "%+.4f ± %.4f", g, c.standardError ?? .nan) } ?? "–") : ""])
            }
        }
        html.table(title: "Choices for checkpoint \(ck.id) (CV RMSE; per fold, on the same folds)",
                   header: ["choice", "candidate", "CV RMSE", "per fold", "", "gain ± standard error"], rows: rows)
        // One chart: each comparison's candidates as their gain over its simplest, fold by fold.
        var series: [(name: String, points: [(Double, Double)])] = []
        for c in comparisons where c.candidates.count >= 2 {
            let base = c.candidates[0].foldRMSE
            for candidate in c.candidates.dropFirst() where candidate.foldRMSE.count == base.count {
                series.append(("\(c.kind.rawValue): \(candidate.label)", zip(base, candidate.foldRMSE).enumerated().map { (Double($0.offset + 1), $0.element.0 - $0.element.1) }))
            }
        }
        if !series.isEmpty {
            html.chart(SVGChart.lines(id: "choices", title: "Checkpoint \(ck.id): each choice's gain over its simpler candidate, fold by fold",
                                      series: Array(series.prefix(6)), xLabel: "fold", yLabel: "RMSE gain (above 0: the richer candidate is better)"),
                       caption: "A choice is kept when these gains are above 0 by more than their standard error.")
        }
    }

    /// The writing system of each of the texts.
    static func scripts(_ db: Database, textIDs: [Int64]) throws -> [Int64: String] {
        var out: [Int64: String] = [:]
        for (id, body) in try Texts.bodies(db, ids: Array(Set(textIDs))) { out[id] = ScriptDetector.detect(body) }
        return out
    }

    /// Every checkpoint of the data set side by side: what each was trained on and how it
    /// did in CV, so a change of settings can be judged (the figures above are one checkpoint's).
    func checkpoints(_ html: inout Page, db: Database, datasetID: Int64, shown: Int64) throws {
        let all = try Checkpoint.listed(db, dataset: datasetID)
        let scores = try CheckpointScore.latest(db, dataset: datasetID)
        guard all.count > 1 || !scores.isEmpty else { return }
        let chosen = try ChosenCheckpoint.current(db, dataset: datasetID)?.checkpoint
        var rows: [[String]] = [], cvBars: [(String, Double)] = []
        for item in all {
            let c = item.checkpoint
            // A blend has no training settings of its own: its members do.
            let settings = c.model == "blend" ? nil : try? TrainModel.config(of: c)
            let evaluation = try? TrainModel.evaluation(of: c)
            let cv = evaluation?.crossValidation
            let cvRMSE = evaluation?.outOfFoldRMSE
            let synthetic = (settings?.origins ?? []).filter { $0 != "real" }
            let marks = [c.id == shown ? "shown" : nil, c.id == chosen ? "chosen" : nil].compactMap { $0 }
            let label: String = "\(c.id)" + (marks.isEmpty ? "" : " (" + marks.joined(separator: ", ") + ")")
            var cvText = "–"
            if let cvRMSE, let cv { cvText = String(format: "%.4f (%d folds)", cvRMSE, cv.folds) }
            rows.append([label, c.createdAt, c.model, item.encoderName ?? "–",
                         synthetic.isEmpty ? "real only" : "real + " + synthetic.joined(separator: ", "),
                         cvText,
                         cv.map { String(format: "%.4f", $0.perMetricMeanRMSE) } ?? "–",
                         scores[c.id].map { String(format: "%.4f (%d rows)", $0.rmse, $0.rows) } ?? "–",
                         item.seconds.map { String(format: "%.1f s", $0) } ?? "–", String(format: "%.1f KB", Double(item.weightBytes) / 1024)])
            if let cvRMSE { cvBars.append(("\(c.id)", Double(cvRMSE))) }
        }
        html.table(title: "Every checkpoint of the data set (CV RMSE on real rows, test RMSE where `fitstore score` scored it; lower is better)",
                   header: ["checkpoint", "created", "model", "encoder", "training rows", "CV RMSE", "per-metric mean CV RMSE", "test RMSE",
                            "training time", "weights"],
                   rows: rows)
        if cvBars.count > 1 {
            html.chart(SVGChart.dots(id: "checkpoints-cv", title: "CV RMSE by checkpoint (checkpoint \(shown) in orange)", categories: cvBars.map(\.0),
                                     values: cvBars.map(\.1), xLabel: "checkpoint", yLabel: "CV RMSE (axis from near the data)",
                                     highlight: Set(cvBars.indices.filter { cvBars[$0].0 == "\(shown)" })),
                       caption: "Folds differ between checkpoints trained on different rows; compare within a few hundredths with care.")
        }
    }

    struct EpochLine: Decodable { let epoch: Int; let trainLoss: Double; let validationRMSE: Double?; let learningRate: Double }

    static func percentile(_ v: [Double], _ p: Double) -> Double {
        guard !v.isEmpty else { return 0 }
        let s = v.sorted()
        return s[min(s.count - 1, Int(p * Double(s.count - 1)))]
    }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        var d = 0.0, na = 0.0, nb = 0.0
        for i in a.indices { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i] }
        return na > 0 && nb > 0 ? d / (na.squareRoot() * nb.squareRoot()) : 0
    }

    /// Every k-th element, so that at most `limit` remain (deterministic).
    static func sample<T>(_ v: [T], _ limit: Int) -> [T] {
        guard v.count > limit else { return v }
        let step = Double(v.count) / Double(limit)
        return (0..<limit).map { v[Int(Double($0) * step)] }
    }
}
