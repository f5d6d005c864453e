import Foundation

/// Inline SVG charts for the HTML report: no scripts, no network, axes labelled with units,
/// colours from the Okabe-Ito palette (distinguishable with the common colour-vision
/// deficiencies). Every chart draws its data marks inside `<g class="marks">`, which the
/// render test counts.
///
/// Layout is measured, not fixed: margins grow to hold the tick labels (`TextWidth`), long
/// category labels turn, titles wrap, legends sit above the plot and wrap, and every axis
/// ends on a tick (`ChartAxis`). The render test in Chromium checks that no text leaves its
/// chart or overlaps another.
enum SVGChart {
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
    static let width = 640.0
    static let plotHeight = 200.0
    /// Font sizes (px) of the CSS classes title, tick and label.
    static let titleSize = 14.0, tickSize = 10.0, labelSize = 12.0

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// A value for a tooltip or caption.
    static func label(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e7 { return String(Int(v)) }
        return abs(v) >= 100 ? String(format: "%.0f", v) : String(format: "%.3g", v)
    }

    // MARK: - Frame

    /// What the x axis shows: a numeric axis, or one slot per category.
    enum XAxis {
        case numeric(ChartAxis)
        case categories([String])
    }

    /// The measured layout of a chart with axes.
    struct Frame {
        let titleLines: [String]
        let legendRows: [[(index: Int, name: String, x: Double)]]
        let left: Double, right: Double, top: Double, bottom: Double
        let plotWidth: Double, plotHeight: Double
        /// Category labels as drawn (cut to fit), whether they turn, and every how many is shown.
        let categoryLabels: [String]
        let turned: Bool
        let every: Int
        var height: Double { top + plotHeight + bottom }

        static let turn = 40.0  // degrees, for long category labels
        static let longestCategoryLabel = 120.0

        init(title: String, legend: [String], x: XAxis, y: ChartAxis?, plotHeight: Double) {
            titleLines = TextWidth.lines(title, size: titleSize, width: width - 16, bold: true)
            let yLabelWidths = (y?.ticks ?? []).map { TextWidth.of($0.label, size: tickSize) }
            var left = (yLabelWidths.max() ?? 0) + 8 + labelSize + 10
            right = 16
            if case .categories(let names) = x, !names.isEmpty {
                // A turned first label reaches left of its slot: make room for it.
                let first = TextWidth.of(TextWidth.fit(names[0], size: tickSize, width: Self.longestCategoryLabel), size: tickSize)
                let slot = (width - left - right) / Double(names.count)
                if first > slot - 4 { left = max(left, first * cos(Self.turn * .pi / 180) - slot / 2 + 8) }
            }
            self.left = left
            plotWidth = width - left - right
            // Legend rows: swatch 10, gap 4, text, then 14 before the next entry.
            var rows: [[(Int, String, Double)]] = [], row: [(Int, String, Double)] = [], cursor = 0.0
            if legend.count > 1 {
                for (k, name) in legend.enumerated() {
                    let shown = TextWidth.fit(name, size: tickSize, width: plotWidth - 14)
                    let w = 14 + TextWidth.of(shown, size: tickSize)
                    if cursor > 0 && cursor + w > plotWidth { rows.append(row); row = []; cursor = 0 }
                    row.append((k, shown, cursor))
                    cursor += w + 14
                }
                rows.append(row)
            }
            legendRows = rows
            top = 8 + Double(titleLines.count) * 18 + Double(rows.count) * 14 + (rows.isEmpty ? 4 : 8)
            self.plotHeight = plotHeight
            var labels: [String] = [], turned = false, every = 1, tickDepth = tickSize + 6
            if case .categories(let names) = x, !names.isEmpty {
                let slot = plotWidth / Double(names.count)
                labels = names.map { TextWidth.fit($0, size: tickSize, width: Self.longestCategoryLabel) }
                let widest = labels.map { TextWidth.of($0, size: tickSize) }.max() ?? 0
                if widest > slot - 4 {
                    turned = true
                    // Turned labels need a line's height of room each along the axis.
                    every = max(1, Int(ceil((tickSize * 1.6) / slot)))
                    let angle = Self.turn * .pi / 180
                    tickDepth = widest * sin(angle) + tickSize * cos(angle) + 10
                }
            } else if case .numeric = x {
                tickDepth = tickSize + 6
            }
            categoryLabels = labels
            self.turned = turned
            self.every = every
            bottom = tickDepth + labelSize + 14
        }

        /// The svg element, its title and legend, axes, ticks and labels around `body` (drawn
        /// in plot coordinates: origin at the plot's top left, y down).
        func render(id: String, title: String, x: XAxis, y: ChartAxis?, xLabel: String, yLabel: String, body: String) -> String {
            let pw = plotWidth, ph = plotHeight
            var s = SVGChart.open(id: id, title: title, width: width, height: height)
            for (i, line) in titleLines.enumerated() {
                s += "<text x=\"\(f(width / 2))\" y=\"\(f(20 + Double(i) * 18))\" text-anchor=\"middle\" class=\"title\">\(escape(line))</text>"
            }
            s += "<g transform=\"translate(\(f(left)),\(f(top)))\">"
            for (r, row) in legendRows.enumerated() {
                let y = -Double(legendRows.count - r) * 14 - 4
                for item in row {
                    s += "<rect class=\"legend\" x=\"\(f(item.x))\" y=\"\(f(y))\" width=\"10\" height=\"10\" fill=\"\(palette[item.index % palette.count])\"/>"
                    s += "<text x=\"\(f(item.x + 14))\" y=\"\(f(y + 9))\" class=\"tick\">\(escape(item.name))</text>"
                }
            }
            if let y {
                for t in y.ticks {
                    let py = ph - (t.value - y.lo) / (y.hi - y.lo) * ph
                    s += "<line x1=\"0\" x2=\"\(f(pw))\" y1=\"\(f(py))\" y2=\"\(f(py))\" class=\"grid\"/>"
                    s += "<text x=\"-6\" y=\"\(f(py + 3.5))\" text-anchor=\"end\" class=\"tick\">\(escape(t.label))</text>"
                }
            }
            switch x {
            case .numeric(let axis):
                for t in axis.ticks {
                    let px = (t.value - axis.lo) / (axis.hi - axis.lo) * pw
                    s += "<text x=\"\(f(px))\" y=\"\(f(ph + 16))\" text-anchor=\"middle\" class=\"tick\">\(escape(t.label))</text>"
                }
            case .categories(let names):
                let slot = pw / Double(max(1, names.count))
                for (i, shown) in categoryLabels.enumerated() where i % every == 0 {
                    let cx = Double(i) * slot + slot / 2
                    let tip = shown == names[i] ? "" : "<title>\(escape(names[i]))</title>"
                    if turned {
                        s += "<text transform=\"translate(\(f(cx + 3)),\(f(ph + 12))) rotate(-\(f(Self.turn)))\" text-anchor=\"end\" class=\"tick\">\(tip)\(escape(shown))</text>"
                    } else {
                        s += "<text x=\"\(f(cx))\" y=\"\(f(ph + 16))\" text-anchor=\"middle\" class=\"tick\">\(tip)\(escape(shown))</text>"
                    }
                }
            }
            s += "<line x1=\"0\" x2=\"\(f(pw))\" y1=\"\(f(ph))\" y2=\"\(f(ph))\" class=\"axis\"/><line x1=\"0\" x2=\"0\" y1=\"0\" y2=\"\(f(ph))\" class=\"axis\"/>"
            s += "<g class=\"marks\">" + body + "</g>"
            s += "<text x=\"\(f(pw / 2))\" y=\"\(f(ph + bottom - 6))\" text-anchor=\"middle\" class=\"label\">\(escape(TextWidth.fit(xLabel, size: labelSize, width: pw)))</text>"
            let yShown = TextWidth.fit(yLabel, size: labelSize, width: ph + top - 4)
            s += "<text transform=\"translate(\(f(-left + labelSize + 2)),\(f(ph / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"label\">\(escape(yShown))</text>"
            return s + "</g></svg>"
        }
    }

    static func open(id: String, title: String, width w: Double, height h: Double) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"\(escape(id))\" viewBox=\"0 0 \(f(w)) \(f(h))\" width=\"\(f(w))\" height=\"\(f(h))\" role=\"img\" aria-label=\"\(escape(title))\">"
    }

    // MARK: - Charts

    /// Vertical bars over categories (a histogram when the categories are bins). Several
    /// series are drawn side by side, with a legend. The axis starts at 0 and leaves room
    /// above the tallest bar.
    static func bars(id: String, title: String, categories: [String], series: [(name: String, values: [Double])],
                     xLabel: String, yLabel: String) -> String {
        let y = ChartAxis.linear(0, series.flatMap(\.values).max() ?? 1, fromZero: true, headroom: 0.05)
        let x = XAxis.categories(categories)
        let frame = Frame(title: title, legend: series.map(\.name), x: x, y: y, plotHeight: plotHeight)
        let pw = frame.plotWidth, ph = frame.plotHeight
        let slot = pw / Double(max(1, categories.count))
        let barWidth = max(1, slot * 0.8 / Double(max(1, series.count)))
        var body = ""
        for (k, s) in series.enumerated() {
            for (i, v) in s.values.enumerated() where v > 0 && i < categories.count {
                let bx = Double(i) * slot + slot * 0.1 + Double(k) * barWidth
                let hgt = y.fraction(v) * ph
                body += "<rect x=\"\(f(bx))\" y=\"\(f(ph - hgt))\" width=\"\(f(barWidth))\" height=\"\(f(max(0.5, hgt)))\" fill=\"\(palette[k % palette.count])\"><title>\(escape(s.name)) \(escape(categories[i])): \(label(v))</title></rect>"
            }
        }
        return frame.render(id: id, title: title, x: x, y: y, xLabel: xLabel, yLabel: yLabel, body: body)
    }

    /// One dot per category on an axis that starts near the smallest value, not at 0: for
    /// comparing RMSEs, whose differences of a few hundredths vanish on bars from 0. Each
    /// dot carries its value as a label.
    static func dots(id: String, title: String, categories: [String], values: [Double], xLabel: String, yLabel: String,
                     highlight: Set<Int> = []) -> String {
        let finite = values.filter(\.isFinite)
        let lo = finite.min() ?? 0, hi = finite.max() ?? 1
        let pad = max((hi - lo) * 0.15, 0.005)
        let y = ChartAxis.linear(lo - pad, hi + pad)
        let x = XAxis.categories(categories)
        let frame = Frame(title: title, legend: [], x: x, y: y, plotHeight: plotHeight)
        let pw = frame.plotWidth, ph = frame.plotHeight
        let slot = pw / Double(max(1, categories.count))
        var body = ""
        for (i, v) in values.enumerated() where v.isFinite && i < categories.count {
            let cx = Double(i) * slot + slot / 2, cy = ph - y.fraction(v) * ph
            let color = highlight.contains(i) ? palette[1] : palette[0]
            body += "<line x1=\"\(f(cx))\" x2=\"\(f(cx))\" y1=\"\(f(ph))\" y2=\"\(f(cy))\" stroke=\"\(color)\" stroke-opacity=\"0.35\"/>"
            body += "<circle cx=\"\(f(cx))\" cy=\"\(f(cy))\" r=\"4\" fill=\"\(color)\"><title>\(escape(categories[i])): \(String(format: "%.4f", v))</title></circle>"
            if categories.count <= 24 {
                body += "<text x=\"\(f(cx))\" y=\"\(f(cy - 7))\" text-anchor=\"middle\" class=\"tick\">\(String(format: "%.3f", v))</text>"
            }
        }
        return frame.render(id: id, title: title, x: x, y: y, xLabel: xLabel, yLabel: yLabel, body: body)
    }

    /// Horizontal bars, one per labelled row; the label column is as wide as the longest
    /// label (up to 45% of the chart, longer ones cut with the full name in a tooltip).
    static func horizontalBars(id: String, title: String, labels: [String], values: [Double], xLabel: String) -> String {
        let rowHeight = 16.0
        let titleLines = TextWidth.lines(title, size: titleSize, width: width - 16, bold: true)
        let shown = labels.map { TextWidth.fit($0, size: tickSize, width: width * 0.45) }
        let labelWidth = (shown.map { TextWidth.of($0, size: tickSize) }.max() ?? 0) + 14
        let right = 24.0
        let pw = width - labelWidth - right
        let ph = Double(labels.count) * rowHeight
        let top = 8 + Double(titleLines.count) * 18 + 6
        let h = top + ph + 48
        let x = ChartAxis.linear(0, values.max() ?? 1, fromZero: true, headroom: 0.03)
        var s = open(id: id, title: title, width: width, height: h)
        for (i, line) in titleLines.enumerated() {
            s += "<text x=\"\(f(width / 2))\" y=\"\(f(20 + Double(i) * 18))\" text-anchor=\"middle\" class=\"title\">\(escape(line))</text>"
        }
        s += "<g transform=\"translate(\(f(labelWidth)),\(f(top)))\">"
        for t in x.ticks {
            let px = x.fraction(t.value) * pw
            s += "<line x1=\"\(f(px))\" x2=\"\(f(px))\" y1=\"0\" y2=\"\(f(ph))\" class=\"grid\"/><text x=\"\(f(px))\" y=\"\(f(ph + 14))\" text-anchor=\"middle\" class=\"tick\">\(escape(t.label))</text>"
        }
        s += "<g class=\"marks\">"
        for (i, v) in values.enumerated() where i < labels.count {
            let y = Double(i) * rowHeight
            let tip = shown[i] == labels[i] ? "" : "<title>\(escape(labels[i]))</title>"
            s += "<text x=\"-6\" y=\"\(f(y + 11.5))\" text-anchor=\"end\" class=\"tick\">\(tip)\(escape(shown[i]))</text>"
            s += "<rect x=\"0\" y=\"\(f(y + 2))\" width=\"\(f(max(0.5, x.fraction(v) * pw)))\" height=\"\(f(rowHeight - 4))\" fill=\"\(palette[0])\"><title>\(escape(labels[i])): \(label(v))</title></rect>"
        }
        s += "</g><text x=\"\(f(pw / 2))\" y=\"\(f(ph + 36))\" text-anchor=\"middle\" class=\"label\">\(escape(TextWidth.fit(xLabel, size: labelSize, width: width - 16)))</text>"
        return s + "</g></svg>"
    }

    /// Points; axes may be logarithmic (values must then be positive).
    static func scatter(id: String, title: String, points: [(Double, Double)], xLabel: String, yLabel: String,
                        logX: Bool = false, logY: Bool = false) -> String {
        let xs = points.map(\.0), ys = points.map(\.1)
        func axis(_ v: [Double], _ log: Bool) -> ChartAxis {
            log ? .logarithmic(max(1, v.min() ?? 1), max(1, v.max() ?? 10)) : .linear(v.min() ?? 0, v.max() ?? 1)
        }
        let xa = axis(xs, logX), ya = axis(ys, logY)
        let frame = Frame(title: title, legend: [], x: .numeric(xa), y: ya, plotHeight: plotHeight)
        let pw = frame.plotWidth, ph = frame.plotHeight
        var body = ""
        for (x, y) in zip(xs, ys) {
            body += "<circle cx=\"\(f(xa.fraction(logX ? max(1, x) : x) * pw))\" cy=\"\(f(ph - ya.fraction(logY ? max(1, y) : y) * ph))\" r=\"2\" fill=\"\(palette[0])\" fill-opacity=\"0.35\"/>"
        }
        return frame.render(id: id, title: title, x: .numeric(xa), y: ya, xLabel: xLabel, yLabel: yLabel, body: body)
    }

    /// Box plots (quartiles, whiskers at 1.5 IQR) per labelled group. The group labels are
    /// drawn whole when they fit, turned when they do not.
    static func boxes(id: String, title: String, groups: [(label: String, values: [Double])], xLabel: String, yLabel: String,
                      range: ClosedRange<Double>? = nil) -> String {
        let all = groups.flatMap(\.values)
        let y = ChartAxis.linear(range?.lowerBound ?? (all.min() ?? 0), range?.upperBound ?? (all.max() ?? 1))
        let x = XAxis.categories(groups.map(\.label))
        let frame = Frame(title: title, legend: [], x: x, y: y, plotHeight: plotHeight)
        let pw = frame.plotWidth, ph = frame.plotHeight
        let py = { (v: Double) in ph - y.fraction(v) * ph }
        let slot = pw / Double(max(1, groups.count))
        var body = ""
        for (i, g) in groups.enumerated() where !g.values.isEmpty {
            let v = g.values.sorted()
            let q = { (p: Double) in v[min(v.count - 1, Int(p * Double(v.count - 1)))] }
            let (q1, med, q3) = (q(0.25), q(0.5), q(0.75))
            let iqr = q3 - q1
            let wlo = v.first { $0 >= q1 - 1.5 * iqr } ?? q1, whi = v.last { $0 <= q3 + 1.5 * iqr } ?? q3
            let cx = Double(i) * slot + slot / 2, bw = min(40, slot * 0.5)
            body += "<line x1=\"\(f(cx))\" x2=\"\(f(cx))\" y1=\"\(f(py(wlo)))\" y2=\"\(f(py(whi)))\" stroke=\"#333\"/>"
            body += "<rect x=\"\(f(cx - bw / 2))\" y=\"\(f(py(q3)))\" width=\"\(f(bw))\" height=\"\(f(max(1, py(q1) - py(q3))))\" fill=\"\(palette[i % 2 == 0 ? 5 : 1])\" stroke=\"#333\"><title>\(escape(g.label)): n \(v.count), median \(label(med))</title></rect>"
            body += "<line x1=\"\(f(cx - bw / 2))\" x2=\"\(f(cx + bw / 2))\" y1=\"\(f(py(med)))\" y2=\"\(f(py(med)))\" stroke=\"#000\" stroke-width=\"2\"/>"
            for o in v where o < wlo || o > whi {
                body += "<circle cx=\"\(f(cx))\" cy=\"\(f(py(o)))\" r=\"1.8\" fill=\"none\" stroke=\"#333\"/>"
            }
        }
        return frame.render(id: id, title: title, x: x, y: y, xLabel: xLabel, yLabel: yLabel, body: body)
    }

    /// Lines over a shared x axis, with a legend above the plot.
    static func lines(id: String, title: String, series: [(name: String, points: [(Double, Double)])], xLabel: String, yLabel: String,
                      logY: Bool = false) -> String {
        let pts = series.flatMap(\.points).filter { $0.1.isFinite && (!logY || $0.1 > 0) }
        let xa = ChartAxis.linear(pts.map(\.0).min() ?? 0, pts.map(\.0).max() ?? 1)
        let ya = logY ? ChartAxis.logarithmic(pts.map(\.1).min() ?? 1e-3, pts.map(\.1).max() ?? 1e-3)
                      : ChartAxis.linear(pts.map(\.1).min() ?? 0, pts.map(\.1).max() ?? 1)
        let frame = Frame(title: title, legend: series.map(\.name), x: .numeric(xa), y: ya, plotHeight: plotHeight)
        let pw = frame.plotWidth, ph = frame.plotHeight
        var body = ""
        for (k, s) in series.enumerated() {
            let d = s.points.filter { $0.1.isFinite && (!logY || $0.1 > 0) }.enumerated().map { i, p in
                "\(i == 0 ? "M" : "L")\(f(xa.fraction(p.0) * pw)),\(f(ph - ya.fraction(p.1) * ph))"
            }.joined()
            if !d.isEmpty { body += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(palette[k % palette.count])\" stroke-width=\"2\"><title>\(escape(s.name))</title></path>" }
        }
        return frame.render(id: id, title: title, x: .numeric(xa), y: ya, xLabel: xLabel, yLabel: yLabel, body: body)
    }

    /// A square matrix of values with row and column labels; a sequential blue scale, darker
    /// for higher, over `domain` (the data's range when nil). Needs two rows or more: one
    /// cell compares nothing.
    static func heatmap(id: String, title: String, labels: [String], matrix: [[Double]], valueLabel: String,
                        domain: ClosedRange<Double>? = nil) -> String {
        let n = labels.count
        let cell = min(28.0, 360.0 / Double(max(1, n)))
        let rowLabels = labels.map { TextWidth.fit($0, size: tickSize, width: 180) }
        let columnLabels = labels.map { TextWidth.fit($0, size: tickSize, width: 120) }
        let labelWidth = (rowLabels.map { TextWidth.of($0, size: tickSize) }.max() ?? 0) + 10
        let turn = 60.0 * .pi / 180
        let columnDepth = (columnLabels.map { TextWidth.of($0, size: tickSize) }.max() ?? 0) * sin(turn) + tickSize + 10
        // The colour key goes right of the turned column labels' reach.
        let lastColumnReach = (Double(n) - 0.5) * cell + ((columnLabels.map { TextWidth.of($0, size: tickSize) }.max() ?? 0) * cos(turn)) + tickSize + 4
        let kx = max(Double(n) * cell + 20, lastColumnReach + 10)
        let keyWidth = 14 + 4 + max(TextWidth.of("-0.00", size: tickSize), TextWidth.of(valueLabel, size: labelSize) - 18) + 8
        var w = labelWidth + kx + keyWidth
        let titleLines = TextWidth.lines(title, size: titleSize, width: max(w, width) - 16, bold: true)
        w = max(w, (titleLines.map { TextWidth.of($0, size: titleSize, bold: true) }.max() ?? 0) + 16)
        let top = 8 + Double(titleLines.count) * 18 + 8
        let h = top + max(Double(n) * cell + columnDepth, 150) + 10
        let values = matrix.flatMap { $0 }.filter(\.isFinite)
        let lo = domain?.lowerBound ?? (values.min() ?? 0), hi = domain?.upperBound ?? (values.max() ?? 1)
        func colour(_ v: Double) -> String {
            // A constant matrix takes the dark end: white cells would read as missing.
            let t = hi > lo ? min(1, max(0, (v - lo) / (hi - lo))) : 1
            // From #f7fbff to #08306b (a single-hue blue ramp).
            let r = Int(247 - t * (247 - 8)), g = Int(251 - t * (251 - 48)), b = Int(255 - t * (255 - 107))
            return String(format: "#%02x%02x%02x", r, g, b)
        }
        var s = open(id: id, title: title, width: w, height: h)
        for (i, line) in titleLines.enumerated() {
            s += "<text x=\"\(f(w / 2))\" y=\"\(f(20 + Double(i) * 18))\" text-anchor=\"middle\" class=\"title\">\(escape(line))</text>"
        }
        s += "<g transform=\"translate(\(f(labelWidth)),\(f(top)))\"><g class=\"marks\">"
        for i in 0..<n {
            s += "<text x=\"-6\" y=\"\(f(Double(i) * cell + cell / 2 + 3.5))\" text-anchor=\"end\" class=\"tick\">\(escape(rowLabels[i]))</text>"
            s += "<text transform=\"translate(\(f(Double(i) * cell + cell / 2 - 3)),\(f(Double(n) * cell + 6))) rotate(60)\" class=\"tick\">\(escape(columnLabels[i]))</text>"
            for j in 0..<n {
                s += "<rect x=\"\(f(Double(j) * cell))\" y=\"\(f(Double(i) * cell))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"\(colour(matrix[i][j]))\" stroke=\"#fff\" stroke-width=\"0.5\"><title>\(escape(labels[i])) / \(escape(labels[j])): \(String(format: "%.3f", matrix[i][j]))</title></rect>"
            }
        }
        s += "</g>"
        // Colour key.
        for k in 0..<10 {
            let v = lo + (hi - lo) * Double(9 - k) / 9
            s += "<rect x=\"\(f(kx))\" y=\"\(f(Double(k) * 12))\" width=\"14\" height=\"12\" fill=\"\(colour(v))\"/>"
        }
        s += "<text x=\"\(f(kx + 18))\" y=\"10\" class=\"tick\">\(String(format: "%.2f", hi))</text><text x=\"\(f(kx + 18))\" y=\"120\" class=\"tick\">\(String(format: "%.2f", lo))</text>"
        s += "<text x=\"\(f(kx))\" y=\"140\" class=\"label\">\(escape(valueLabel))</text>"
        return s + "</g></svg>"
    }
}
