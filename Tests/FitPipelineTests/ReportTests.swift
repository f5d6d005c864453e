@testable import FitPipeline
import FitFormats
import FitStore
import FitTestSupport
import Foundation
import Testing

/// The HTML report renders in headless Chromium with every chart drawn and not empty, and a
/// store without training data gives "not yet" notes instead of failing.
@Suite(.serialized) struct ReportTests {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// The demo's charts: its few metrics get one chart of means; its boosted model's
    /// constant shrinkage is a sentence, not a learning-rate chart.
    static let expectedCharts = ["missing", "score-distribution", "languages", "response-languages", "lengths", "length-scatter", "length-by-score",
                                 "metric-frequency", "metric-mean", "metric-boxes", "category-cosine",
                                 "augmentation-scores", "history-loss", "cv", "predicted-actual", "residual-metric", "residual-script", "predictions"]

    @Test func aStoreWithoutTrainingSaysWhatIsMissing() throws {
        let fx = try Fixture()
        let store = try fx.demoStore(train: 30, test: 5)
        let out = fx.root.appendingPathComponent("r.html")
        let summary = try HTMLReport(store: store).write(dataset: "demo", to: out)
        #expect(Set(summary.emptySections) == ["Metric embeddings", "Synthetic data", "Training", "Predictions"])
        let html = try String(contentsOf: out, encoding: .utf8)
        #expect(html.contains("run `fitstore train`") && html.contains("run `fitstore augment`"))
        let remote = try remoteResources(in: html)
        #expect(remote.isEmpty, "no network resources: \(remote)")
    }

    @Test(.enabled(if: Reference.available(chromium != nil), "Chromium is not installed (tools/setup installs the Debian package)"))
    func everyChartRendersInChromium() throws {
        let fx = try Fixture()
        let store = try fx.demoStore(train: 120, test: 20)
        let embed = try Embed(store: store).run(EmbedTests.options())
        try Fixture.addNegatives(store, encoderKey: embed.encoderKey, low: 40, mid: 20)
        var options = TrainModel.Options(dataset: "demo", encoderKey: embed.encoderKey)
        options.boosting.trees = 40
        let trained = try TrainModel(store: store).run(options)
        _ = try Predict(store: store).run(dataset: "demo", checkpoint: trained.checkpointID, out: fx.root.appendingPathComponent("s.csv"))

        let out = fx.root.appendingPathComponent("report.html")
        let summary = try HTMLReport(store: store).write(dataset: "demo", to: out)
        #expect(summary.emptySections.isEmpty, "\(summary.emptySections)")
        #expect(summary.charts == Self.expectedCharts)
        let html = try String(contentsOf: out, encoding: .utf8)
        let remote = try remoteResources(in: html)
        #expect(remote.isEmpty, "self-contained: \(remote)")

        for width in [1400, 800] {
            let dom = try Self.renderedDOM(out, width: width, fx: fx)
            #expect(dom.contains("data-checked=\"yes\""), "the page loaded and its render check ran")
            for id in Self.expectedCharts {
                let pattern = "data-chart=\"\(id)\"[^>]*data-rendered=\"(\\d+)x(\\d+):(\\d+)\""
                let match = try #require(dom.firstMatch(of: try Regex(pattern)), "chart \(id) is missing from the rendered page")
                let numbers = (1...3).map { Int(match.output[$0].substring ?? "0") ?? 0 }
                #expect(numbers[0] > 100 && numbers[1] > 50 && numbers[2] > 0, "chart \(id) rendered \(numbers[0])x\(numbers[1]) with \(numbers[2]) marks")
            }
            let faults = try Self.textFaults(dom)
            #expect(faults.count == Self.expectedCharts.count && faults.values.allSatisfy(\.isEmpty), "at \(width) px: \(faults)")
            #expect(try Self.pageFits(dom), "at \(width) px the page needs no horizontal scroll bar")
        }
        let flags = Self.flags(fx)
        let png = fx.root.appendingPathComponent("report.png")
        let chromium = try #require(Self.chromium, "Chromium is not installed")
        _ = try Program.run(URL(fileURLWithPath: chromium), flags + ["--window-size=1400,2000", "--screenshot=\(png.path)", out.absoluteString])
        let bytes = try Data(contentsOf: png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) && bytes.count > 20_000, "a PNG with content (\(bytes.count) bytes)")
    }

    static func flags(_ fx: Fixture) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(fx.root.appendingPathComponent("chrome").path)"]
    }

    /// The page after its load script ran, in a window `width` px wide.
    static func renderedDOM(_ page: URL, width: Int, fx: Fixture) throws -> String {
        let chromium = try #require(Self.chromium, "Chromium is not installed (tools/setup installs the Debian package)")
        return try Program.run(URL(fileURLWithPath: chromium), flags(fx) + ["--window-size=\(width),2000", "--dump-dom", page.absoluteString]).output
    }

    /// Chart id -> the text faults the page's render check found in it (labels outside the
    /// chart, pairs of labels that overlap), as measured by the browser.
    static func textFaults(_ dom: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for match in dom.matches(of: try Regex(#"data-chart="([^"]+)"[^>]*data-text="(\d+):(\d+)" data-text-faults="([^"]*)""#)) {
            let id = String(match.output[1].substring ?? "")
            out[id] = String(match.output[4].substring ?? "")
        }
        return out
    }

    static func pageFits(_ dom: String) throws -> Bool {
        guard let m = dom.firstMatch(of: try Regex(#"data-page-width="(\d+)/(\d+)""#)),
              let scroll = m.output[1].substring.flatMap({ Int($0) }), let client = m.output[2].substring.flatMap({ Int($0) }) else { return false }
        return scroll <= client
    }

    /// Charts built to be awkward (a title that must wrap, long and many category labels,
    /// long legend names, one value on a round tick, a decaying and a constant learning
    /// rate, long heatmap labels, a log scatter) keep every label inside the chart and apart
    /// from the others, as Chromium draws them at 1,400 and 800 px. A chart drawn wrong on
    /// purpose is caught, so the check can fail.
    @Test(.enabled(if: Reference.available(chromium != nil), "Chromium is not installed (tools/setup installs the Debian package)"))
    func awkwardChartsKeepTheirTextInside() throws {
        let fx = try Fixture()
        let metrics = ["dialogue/engagingness", "dialogue/understandability", "safety/toxicity_towards_protected_groups",
                       "language_consistency/response_language_match", "topic_drift_rate/off_topic_response", "coherence",
                       "hallucination_rate", "dialogue/overall_quality", "instruction_following/format_compliance", "a"]
        var page = HTMLReport.Page(title: "awkward charts")
        page.section("charts", note: nil)
        page.chart(SVGChart.bars(id: "wrap", title: "A title long enough that it cannot fit on one line of a chart six hundred and forty pixels wide, so it wraps",
                                 categories: metrics, series: [("first series, with a long name", (0..<10).map { Double($0) }),
                                                               ("second series, whose name is longer still to force the legend to wrap", (0..<10).map { Double(10 - $0) }),
                                                               ("third", (0..<10).map { _ in 5 })],
                                 xLabel: "metric", yLabel: "rows (count)"), caption: nil)
        page.chart(SVGChart.bars(id: "round", title: "The largest value on a round tick", categories: (0...10).map(String.init),
                                 series: [("s", (0...10).map { Double($0 * 100) })], xLabel: "score", yLabel: "rows (count)"), caption: nil)
        page.chart(SVGChart.boxes(id: "boxes", title: "Scores per metric", groups: metrics.map { ($0.split(separator: "/").last.map(String.init) ?? $0, [1, 4, 5, 6, 9]) },
                                  xLabel: "metric", yLabel: "judge score (0-10)", range: 0...10), caption: nil)
        page.chart(SVGChart.lines(id: "lr", title: "Learning rate", series: [("learning rate", (0..<40).map { (Double($0 + 1), 1e-3 * pow(0.5, Double($0 / 8))) })],
                                  xLabel: "epoch", yLabel: "learning rate (log scale)", logY: true), caption: nil)
        page.chart(SVGChart.lines(id: "constant", title: "A constant", series: [("train RMSE", (0..<5).map { (Double($0), 2.5) }), ("validation RMSE", (0..<5).map { (Double($0), 2.5) })],
                                  xLabel: "round", yLabel: "RMSE (score units)"), caption: nil)
        page.chart(SVGChart.horizontalBars(id: "hbars", title: "Long labels", labels: metrics.map { $0 + "/with/an/even/longer/suffix/than/any/real/metric/name" },
                                           values: (0..<10).map { Double($0 * 3) }, xLabel: "mean judge score (0-10)"), caption: nil)
        page.chart(SVGChart.heatmap(id: "heat", title: "Cosine similarity between metric categories", labels: metrics.prefix(3).map { $0 + " (12)" },
                                    matrix: [[1, 0.8, 0.2], [0.8, 1, 0.3], [0.2, 0.3, 1]], valueLabel: "cosine of mean unit vectors"), caption: nil)
        page.chart(SVGChart.heatmap(id: "heat-constant", title: "Two categories", labels: ["a (1)", "b (1)"],
                                    matrix: [[1, 1], [1, 1]], valueLabel: "cosine"), caption: nil)
        page.chart(SVGChart.scatter(id: "scatter", title: "Prompt length vs response length", points: (1..<300).map { (Double($0 * 37), Double($0 * $0)) },
                                    xLabel: "prompt length (characters, log scale)", yLabel: "response length (characters, log scale)", logX: true, logY: true), caption: nil)
        // RMSE dots: 30 checkpoints (too many for value labels), close values, one highlighted;
        // and three with their values printed, two of them equal.
        page.chart(SVGChart.dots(id: "dots-many", title: "CV RMSE by checkpoint (checkpoint 12 in orange)", categories: (1...30).map(String.init),
                                 values: (1...30).map { 2.30 + Double(($0 * 37) % 11) / 100 }, xLabel: "checkpoint",
                                 yLabel: "CV RMSE (axis from near the data)", highlight: [11]), caption: nil)
        page.chart(SVGChart.dots(id: "dots-few", title: "Checkpoint 3: 5-fold CV on 5000 real rows", categories: ["boosted model", "per-metric mean", "constant mean"],
                                 values: [2.3029, 2.6592, 2.6592], xLabel: "predictor", yLabel: "RMSE (axis from near the data)", highlight: [0]), caption: nil)
        // Drawn wrong on purpose: a label left of the chart, and two labels on one spot.
        page.chart(SVGChart.open(id: "broken", title: "broken", width: 200, height: 100)
                   + "<text x=\"-30\" y=\"50\" class=\"tick\">outside</text><text x=\"100\" y=\"50\" class=\"tick\">one</text>"
                   + "<text x=\"102\" y=\"51\" class=\"tick\">two</text><g class=\"marks\"><rect x=\"0\" y=\"0\" width=\"5\" height=\"5\"/></g></svg>", caption: nil)
        let out = fx.root.appendingPathComponent("awkward.html")
        try Data(page.render().utf8).write(to: out)
        for width in [1400, 800] {
            let faults = try Self.textFaults(try Self.renderedDOM(out, width: width, fx: fx))
            #expect(faults.count == page.charts.count, "every chart was checked: \(faults.keys.sorted())")
            for (id, fault) in faults where id != "broken" {
                #expect(fault.isEmpty, "at \(width) px, chart \(id): \(fault)")
            }
            let broken = faults["broken"] ?? ""
            #expect(broken.contains("outside: outside") && broken.contains("overlap: one | two"), "the check catches a broken chart: \(broken)")
        }
    }

    /// The remote-resource check itself: it finds http, https and protocol-relative
    /// addresses in src, href, CSS url() and @import, quoted any way, in any case.
    @Test func theRemoteResourceCheckCatchesEveryForm() throws {
        for page in ["<img src=\"http://x/a.png\">", "<img SRC='https://x/a.png'>", "<a href = \"HTTPS://x\">",
                     "<script src=//cdn.x/a.js></script>", "<div style=\"background: url('https://x/b.png')\">",
                     "<style>@import url(\"http://x/c.css\");</style>", "<link Href=\"//x/d.css\">"] {
            let found = try remoteResources(in: page)
            #expect(!found.isEmpty, "\(page)")
        }
        for page in ["<a href=\"#cv\">", "<img src=\"data:image/png;base64,AAAA\">", "<p>see https://example.org</p>"] {
            let found = try remoteResources(in: page)
            #expect(found.isEmpty, "\(page): \(found)")
        }
    }
}

/// The report's defects found in review (issue #15, item 8), each pinned: no empty chart
/// where a sentence says it, no 1x1 heatmap, whole metric names, one mean chart for few
/// metrics, each outlier once, RMSE against RMSE, no flat learning-rate line, every
/// checkpoint compared, and a section with content never listed as empty.
@Suite struct ReportContentTests {
    /// Three metrics of one category, nothing missing, one long response judged under all
    /// three; 8-dimensional vectors imported; two checkpoints (the newest without CV).
    static func store(_ fx: Fixture) throws -> Store {
        let metrics = ["dialogue/engagingness", "dialogue/understandability", "dialogue/coherence"]
        try fx.write("metric_names.json", "[" + metrics.map(JSONQuoting.quote).joined(separator: ", ") + "]")
        try NpyMatrix(rows: 3, columns: 4, values: [1, 0, 0, 0.2, 0.9, 0.1, 0, 0.1, 0.8, 0, 0.3, 0])
            .write(to: fx.folder.appendingPathComponent("metric_name_embeddings.npy"))
        var train: [String] = []
        for i in 0..<40 {
            let response = i == 7 ? String(repeating: "a long and winding answer ", count: 80) : "answer \(i)"
            for (k, m) in metrics.enumerated() { train.append(Fixture.record(m, "\((i + k) % 11)", "prompt \(i)", response, "system \(i % 3)")) }
        }
        try fx.write("train_data.json", "[" + train.joined(separator: ",") + "]")
        try fx.write("test_data.json", "[" + Fixture.record(metrics[0], nil, "prompt t", "answer t", "system 0") + "]")
        let store = try fx.openStore()
        _ = try Ingest(store: store).run(folder: fx.folder, options: .init(datasetName: "one"))
        let keys = fx.root.appendingPathComponent("t.jsonl"), npy = fx.root.appendingPathComponent("v.npy")
        let n = try TextList(store: store).writeMissing(encoder: "v", builtInKey: { "unused" }, to: keys)
        try NpyMatrix(rows: n, columns: 8, values: (0..<(n * 8)).map { Float(($0 * 37) % 23) / 23 - 0.5 }).write(to: npy)
        _ = try VectorImport(store: store).run(encoder: "v", keys: keys, vectors: npy)
        var options = TrainModel.Options(dataset: "one", encoderKey: "imported:v")
        options.boosting.trees = 15
        options.cvFolds = 2
        _ = try TrainModel(store: store).run(options)
        options.cvFolds = 0
        options.boosting.trees = 16
        _ = try TrainModel(store: store).run(options)
        return store
    }

    @Test func theReviewedDefectsAreGone() throws {
        let fx = try Fixture()
        let store = try Self.store(fx)
        let out = fx.root.appendingPathComponent("r.html")
        let summary = try HTMLReport(store: store).write(dataset: "one", to: out)
        let html = try String(contentsOf: out, encoding: .utf8)
        // "Training" holds the history of a checkpoint without CV: it is not empty.
        #expect(summary.emptySections == ["Synthetic data", "Predictions"], "\(summary.emptySections)")
        // Nothing missing: a sentence, not an empty chart with a 0...1e-12 axis.
        #expect(!summary.charts.contains("missing") && html.contains("Missing values: none"))
        // One category: nothing to compare, said; no 1x1 heatmap.
        #expect(!summary.charts.contains("category-cosine") && html.contains("one category (dialogue, 3 metrics)"))
        // Three metrics: one chart of their means, not the same bars as "highest" and "lowest".
        #expect(summary.charts.contains("metric-mean") && !summary.charts.contains("metric-mean-top") && !summary.charts.contains("metric-mean-bottom"))
        #expect(html.contains("Metric frequency (all 3)"))
        // Whole metric names under the boxes.
        #expect(html.contains(">engagingness</text>") && html.contains(">understandability</text>"))
        // The long response is judged three times; it is listed once, with its three metrics.
        #expect(html.components(separatedBy: "dialogue/coherence, dialogue/engagingness, dialogue/understandability").count - 1 == 1)
        // RMSE beside RMSE; boosting's constant shrinkage is a sentence, not a flat line.
        #expect(html.contains("train RMSE (root of the mean squared error)") && !html.contains("train MSE"))
        #expect(!summary.charts.contains("history-lr") && html.contains("Learning rate: 0.03 throughout"))
        // Both checkpoints side by side.
        #expect(html.contains("Every checkpoint of the data set") && html.contains("1 (shown, chosen)") && html.contains("(2 folds)"))
        // Where the model is wrong, from checkpoint 1's out-of-fold predictions.
        #expect(summary.charts.contains("predicted-actual") && summary.charts.contains("residual-metric") && summary.charts.contains("residual-script"))
        #expect(html.contains("Checkpoint 1 (out-of-fold RMSE"))
        // No checkpoint differs from it by one block yet: said. Then one with the system prompt block.
        #expect(!summary.charts.contains("block-ablation") && html.contains("differs from it by one block"))
        var options = TrainModel.Options(dataset: "one", encoderKey: "imported:v")
        options.boosting.trees = 15
        options.cvFolds = 2
        options.system = true
        let withSystem = try TrainModel(store: store).run(options)
        let again = try HTMLReport(store: store).write(dataset: "one", checkpoint: 1, to: out)
        let text = try String(contentsOf: out, encoding: .utf8)
        #expect(again.charts.contains("block-ablation") && text.contains("with system (\(withSystem.checkpointID))"), "\(again.charts)")
    }
}

/// Chart geometry that does not need a browser: every axis ends on a tick and holds its data,
/// bars leave room above the tallest, labels are not cut when they fit.
@Suite struct ChartLayoutTests {
    @Test func axesEndOnTicksAndHoldTheirData() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<2000 {
            let scale = pow(10, Double(rng.next() % 12) - 6)
            let a = (Double(rng.next() % 2000) / 1000 - 1) * scale
            let b = a + Double(rng.next() % 1000) / 100 * scale
            for axis in [ChartAxis.linear(a, b), .linear(a, b, fromZero: true, headroom: 0.05)] {
                #expect(axis.lo <= a && axis.hi >= b, "\(a)...\(b): \(axis.lo)...\(axis.hi)")
                #expect(axis.ticks.first?.value == axis.lo && axis.ticks.last?.value == axis.hi)
                #expect(axis.ticks.count >= 2 && axis.ticks.count <= 12, "\(axis.ticks.count) ticks")
            }
            if b > 0 {
                #expect(ChartAxis.linear(0, b, fromZero: true, headroom: 0.05).fraction(b) < 1, "the tallest bar stays below the top")
            }
            let low = max(abs(a), 1e-9), high = low * (1 + Double(rng.next() % 5000))
            let log = ChartAxis.logarithmic(low, high)
            #expect(log.fraction(low) >= 0 && log.fraction(high) <= 1 + 1e-12, "\(low)...\(high): 10^\(log.lo)...10^\(log.hi)")
            #expect(log.ticks.first?.value == log.lo && log.ticks.last?.value == log.hi)
        }
        // A learning rate halved by the plateau schedule: every value between two labelled decades.
        let lr = ChartAxis.logarithmic(1.25e-4, 1e-3)
        #expect(lr.ticks.map(\.label) == ["1e-4", "1e-3"] && lr.fraction(1.25e-4) >= 0 && lr.fraction(1e-3) <= 1)
        // A constant: a decade either side.
        #expect(ChartAxis.logarithmic(0.03, 0.03).ticks.map(\.label) == ["0.01", "0.1"])
    }

    @Test func barsNeverTouchThePlotTop() throws {
        // 10 is both the largest value and a round tick.
        let svg = SVGChart.bars(id: "b", title: "t", categories: ["a", "b", "c"], series: [("s", [0, 5, 10])], xLabel: "x", yLabel: "y")
        let pattern = try Regex(#"<rect x="[^"]+" y="([0-9.\-]+)""#)
        let ys = svg.matches(of: pattern).compactMap { match -> Double? in match.output[1].substring.flatMap { Double($0) } }
        #expect(ys.count == 2 && ys.allSatisfy { $0 > 5 }, "\(ys)")
    }

    @Test func labelsAreWholeOrCutWithTheFullNameKept() {
        let long = "dialogue/" + String(repeating: "very_long_metric_name_", count: 4)
        let svg = SVGChart.boxes(id: "b", title: "t", groups: [("engagingness", [1, 2, 3]), (long, [4, 5, 6])], xLabel: "x", yLabel: "y")
        #expect(svg.contains(">engagingness</text>"))
        #expect(svg.contains("<title>\(long)</title>") && svg.contains("…</text>"), "a cut label keeps its full name as a tooltip")
        #expect(TextWidth.fit("short", size: 10, width: 200) == "short")
        #expect(TextWidth.of(TextWidth.fit(long, size: 10, width: 60), size: 10) <= 60)
    }
}
