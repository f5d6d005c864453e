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
        /// Whether the current section shows anything yet: a section is listed as empty only
        /// when its "not yet" note is all it holds.
        private var sectionHasContent = false

        init(title: String) { self.title = title }

        mutating func intro(dataset: String, rows: [Row_], storePath: String) {
            let real = rows.filter { $0.origin == "real" }
            body += "<header><h1>\(SVGChart.escape(title))</h1><p>Store <code>\(SVGChart.escape(storePath))</code>, written \(Timestamp.now()) by fitstore \(FitstoreVersion.string). "
            body += "\(real.filter { $0.split == "train" }.count) real train rows, \(real.filter { $0.split == "test" }.count) test rows, \(rows.count - real.count) synthetic rows, \(Set(real.map(\.metric)).count) metrics.</p></header>"
        }

        mutating func section(_ name: String, note: String?) {
            currentSection = name
            sectionHasContent = false
            body += "<h2>\(SVGChart.escape(name))</h2>" + (note.map { "<p class=\"note\">\(SVGChart.escape($0))</p>" } ?? "")
        }

        mutating func chart(_ svg: String, caption: String?) {
            if let r = svg.range(of: "data-chart=\""), let end = svg[r.upperBound...].firstIndex(of: "\"") {
                charts.append(String(svg[r.upperBound..<end]))
            }
            sectionHasContent = true
            body += "<figure>" + svg + (caption.map { "<figcaption>\(SVGChart.escape($0))</figcaption>" } ?? "") + "</figure>"
        }

        mutating func table(title: String, header: [String], rows: [[String]]) {
            sectionHasContent = true
            body += "<div class=\"table\"><table><caption>\(SVGChart.escape(title))</caption><tr>" + header.map { "<th>\(SVGChart.escape($0))</th>" }.joined() + "</tr>"
            for r in rows { body += "<tr>" + r.map { "<td>\(SVGChart.escape($0))</td>" }.joined() + "</tr>" }
            body += "</table></div>"
        }

        /// A finding said in words where a chart would show nothing (say, no missing values).
        mutating func finding(_ message: String) {
            sectionHasContent = true
            body += "<p class=\"finding\">\(SVGChart.escape(message))</p>"
        }

        /// What is not in the store yet, and the command that makes it.
        mutating func empty(_ message: String) {
            if !sectionHasContent && emptySections.last != currentSection { emptySections.append(currentSection) }
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
            .finding { background: #eef6fb; border-left: 4px solid #0072B2; padding: 8px 12px; }
            svg.chart { max-width: 100%; height: auto; }
            svg text { font-family: "DejaVu Sans", Verdana, "Bitstream Vera Sans", sans-serif; }
            svg .title { font-size: 14px; font-weight: 600; } svg .tick { font-size: 10px; fill: #333; } svg .label { font-size: 12px; fill: #222; }
            svg .grid { stroke: #e5e5e5; } svg .axis { stroke: #333; }
            div.table { max-width: 100%; overflow-x: auto; }
            table { border-collapse: collapse; margin: 8px 0 16px; font-size: 12px; } caption { text-align: left; font-weight: 600; padding: 4px 0; }
            td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
            </style></head><body>
            \(body)
            <script>
            // Render check (used by the test in headless Chromium): each chart's drawn size and
            // the number of its data marks with a non-empty box; then its text as drawn: how
            // many labels reach outside the chart, and how many pairs of labels overlap.
            addEventListener("load", () => {
              for (const svg of document.querySelectorAll("svg.chart")) {
                const box = svg.getBoundingClientRect();
                const marks = [...svg.querySelectorAll("g.marks > :not(.legend)")].filter(e => { const b = e.getBBox(); return b.width > 0 || b.height > 0; });
                svg.setAttribute("data-rendered", Math.round(box.width) + "x" + Math.round(box.height) + ":" + marks.length);
                // Each label as the quadrilateral it covers on screen (turned labels too).
                const quads = [...svg.querySelectorAll("text")].map(t => {
                  const b = t.getBBox(), m = t.getScreenCTM();
                  const p = (x, y) => new DOMPoint(x, y).matrixTransform(m);
                  return [t, [p(b.x, b.y), p(b.x + b.width, b.y), p(b.x + b.width, b.y + b.height), p(b.x, b.y + b.height)], b.width];
                }).filter(([, , w]) => w > 0);
                const outside = quads.filter(([, q]) => q.some(c => c.x < box.left - 0.5 || c.x > box.right + 0.5 || c.y < box.top - 0.5 || c.y > box.bottom + 0.5));
                // Two convex quadrilaterals overlap (by more than 1 px) unless some edge's normal separates them.
                const separated = (a, b) => [a, b].some(q => q.some((c, i) => {
                  const d = q[(i + 1) % 4], nx = d.y - c.y, ny = c.x - d.x, len = Math.hypot(nx, ny) || 1;
                  const proj = r => r.map(v => (v.x * nx + v.y * ny) / len);
                  const pa = proj(a), pb = proj(b);
                  return Math.min(...pa) >= Math.max(...pb) - 1 || Math.min(...pb) >= Math.max(...pa) - 1;
                }));
                const overlaps = [];
                for (let i = 0; i < quads.length; i++) for (let j = i + 1; j < quads.length; j++) {
                  if (!separated(quads[i][1], quads[j][1])) overlaps.push(quads[i][0].textContent + " | " + quads[j][0].textContent);
                }
                svg.setAttribute("data-text", outside.length + ":" + overlaps.length);
                svg.setAttribute("data-text-faults", outside.map(([t]) => "outside: " + t.textContent).concat(overlaps.map(o => "overlap: " + o)).join(" ; "));
              }
              // The page itself must not need a horizontal scroll bar.
              document.body.setAttribute("data-page-width", document.documentElement.scrollWidth + "/" + document.documentElement.clientWidth);
              document.body.setAttribute("data-checked", "yes");
            });
            </script>
            </body></html>
            """
        }
    }
}
