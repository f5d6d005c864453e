@testable import FitPipeline
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

    static let expectedCharts = ["missing", "score-distribution", "languages", "lengths", "length-scatter", "length-by-score",
                                 "metric-frequency", "metric-mean-top", "metric-mean-bottom", "metric-boxes", "category-cosine",
                                 "augmentation-scores", "history-loss", "history-lr", "cv", "predictions"]

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

    @Test(.enabled(if: chromium != nil, "Chromium is not installed (tools/setup installs the Debian package)"))
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

        let flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(fx.root.appendingPathComponent("chrome").path)"]
        let dom = try Program.run(URL(fileURLWithPath: Self.chromium!), flags + ["--dump-dom", out.absoluteString]).output
        #expect(dom.contains("data-checked=\"yes\""), "the page loaded and its render check ran")
        for id in Self.expectedCharts {
            let pattern = "data-chart=\"\(id)\"[^>]*data-rendered=\"(\\d+)x(\\d+):(\\d+)\""
            let match = try #require(dom.firstMatch(of: try Regex(pattern)), "chart \(id) is missing from the rendered page")
            let numbers = (1...3).map { Int(match.output[$0].substring ?? "0") ?? 0 }
            #expect(numbers[0] > 100 && numbers[1] > 50 && numbers[2] > 0, "chart \(id) rendered \(numbers[0])x\(numbers[1]) with \(numbers[2]) marks")
        }
        let png = fx.root.appendingPathComponent("report.png")
        _ = try Program.run(URL(fileURLWithPath: Self.chromium!), flags + ["--window-size=1400,2000", "--screenshot=\(png.path)", out.absoluteString])
        let bytes = try Data(contentsOf: png)
        #expect(bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) && bytes.count > 20_000, "a PNG with content (\(bytes.count) bytes)")
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
