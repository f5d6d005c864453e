import FitStore
import Foundation

extension HTMLReport {
    /// The page being assembled: sections, charts, tables and "not yet" notes.
    struct Page {
        let title: String
        private var body = ""
        private(set) var charts: [String] = []
        private(set) var emptySections: [String] = []
        private var currentSection = ""

        init(title: String) { self.title = title }

        mutating func intro(dataset: String, rows: [Row_], storePath: String) {
            let real = rows.filter { $0.origin == "real" }
            body += "<header><h1>\(SVGChart.escape(title))</h1><p>Store <code>\(SVGChart.escape(storePath))</code>, written \(Timestamp.now()) by fitstore \(FitstoreVersion.string). "
            body += "\(real.filter { $0.split == "train" }.count) real train rows, \(real.filter { $0.split == "test" }.count) test rows, \(rows.count - real.count) synthetic rows, \(Set(real.map(\.metric)).count) metrics.</p></header>"
        }

        mutating func section(_ name: String, note: String?) {
            currentSection = name
            body += "<h2>\(SVGChart.escape(name))</h2>" + (note.map { "<p class=\"note\">\(SVGChart.escape($0))</p>" } ?? "")
        }

        mutating func chart(_ svg: String, caption: String?) {
            if let r = svg.range(of: "data-chart=\""), let end = svg[r.upperBound...].firstIndex(of: "\"") {
                charts.append(String(svg[r.upperBound..<end]))
            }
            body += "<figure>" + svg + (caption.map { "<figcaption>\(SVGChart.escape($0))</figcaption>" } ?? "") + "</figure>"
        }

        mutating func table(title: String, header: [String], rows: [[String]]) {
            body += "<table><caption>\(SVGChart.escape(title))</caption><tr>" + header.map { "<th>\(SVGChart.escape($0))</th>" }.joined() + "</tr>"
            for r in rows { body += "<tr>" + r.map { "<td>\(SVGChart.escape($0))</td>" }.joined() + "</tr>" }
            body += "</table>"
        }

        mutating func empty(_ message: String) {
            emptySections.append(currentSection)
            body += "<p class=\"empty\" data-empty=\"\(SVGChart.escape(currentSection))\">\(SVGChart.escape(message))</p>"
        }

        func render() -> String {
            """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(SVGChart.escape(title))</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; max-width: 1380px; margin: 24px auto; padding: 0 16px; color: #222; }
            h1 { font-size: 22px; } h2 { border-bottom: 2px solid #0072B2; padding-bottom: 4px; margin-top: 36px; clear: both; }
            figure { display: inline-block; vertical-align: top; margin: 8px 12px 16px 0; max-width: 660px; }
            figcaption, .note { color: #555; font-size: 12px; }
            .empty { background: #fff6e0; border-left: 4px solid #E69F00; padding: 8px 12px; }
            svg .title { font-size: 14px; font-weight: 600; } svg .tick { font-size: 10px; fill: #333; } svg .label { font-size: 12px; fill: #222; }
            svg .grid { stroke: #e5e5e5; } svg .axis { stroke: #333; }
            table { border-collapse: collapse; margin: 8px 0 16px; font-size: 12px; } caption { text-align: left; font-weight: 600; padding: 4px 0; }
            td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
            </style></head><body>
            \(body)
            <script>
            // Render check (used by the test in headless Chromium): each chart's drawn size and
            // the number of its data marks with a non-empty box, as attributes.
            addEventListener("load", () => {
              for (const svg of document.querySelectorAll("svg.chart")) {
                const box = svg.getBoundingClientRect();
                const marks = [...svg.querySelectorAll("g.marks > :not(.legend)")].filter(e => { const b = e.getBBox(); return b.width > 0 || b.height > 0; });
                svg.setAttribute("data-rendered", Math.round(box.width) + "x" + Math.round(box.height) + ":" + marks.length);
              }
              document.body.setAttribute("data-checked", "yes");
            });
            </script>
            </body></html>
            """
        }
    }
}
