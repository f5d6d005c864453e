import Foundation

/// Inline SVG charts for the HTML report: no scripts, no network, axes labelled with units,
/// colours from the Okabe-Ito palette (distinguishable with the common colour-vision
/// deficiencies). Every chart draws its data marks inside `<g class="marks">`, which the
/// render test counts.
enum SVGChart {
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
    static let width = 640.0, height = 280.0
    static let left = 64.0, right = 16.0, top = 28.0, bottom = 52.0

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// About `count` round tick values covering lo...hi.
    static func ticks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var t = ceil(lo / step) * step
        while t <= hi + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    static func label(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e7 { return String(Int(v)) }
        return abs(v) >= 100 ? String(format: "%.0f", v) : abs(v) >= 1 ? String(format: "%.2g", v) : String(format: "%.2g", v)
    }

    /// The frame: title, axes with ticks and labels; `body` draws the marks in plot coordinates.
    static func frame(id: String, title: String, xLabel: String, yLabel: String, xTicks: [(Double, String)], yTicks: [(Double, String)],
                      height h: Double = height, body: String) -> String {
        let pw = width - left - right, ph = h - top - bottom
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"\(escape(id))\" viewBox=\"0 0 \(f(width)) \(f(h))\" width=\"\(f(width))\" height=\"\(f(h))\" role=\"img\" aria-label=\"\(escape(title))\">"
        s += "<text x=\"\(f(width / 2))\" y=\"18\" text-anchor=\"middle\" class=\"title\">\(escape(title))</text>"
        s += "<g transform=\"translate(\(f(left)),\(f(top)))\">"
        for (y, text) in yTicks {
            s += "<line x1=\"0\" x2=\"\(f(pw))\" y1=\"\(f(y))\" y2=\"\(f(y))\" class=\"grid\"/><text x=\"-6\" y=\"\(f(y + 4))\" text-anchor=\"end\" class=\"tick\">\(escape(text))</text>"
        }
        for (x, text) in xTicks {
            s += "<text x=\"\(f(x))\" y=\"\(f(ph + 16))\" text-anchor=\"middle\" class=\"tick\">\(escape(text))</text>"
        }
        s += "<line x1=\"0\" x2=\"\(f(pw))\" y1=\"\(f(ph))\" y2=\"\(f(ph))\" class=\"axis\"/><line x1=\"0\" x2=\"0\" y1=\"0\" y2=\"\(f(ph))\" class=\"axis\"/>"
        s += "<g class=\"marks\">" + body + "</g>"
        s += "<text x=\"\(f(pw / 2))\" y=\"\(f(ph + 40))\" text-anchor=\"middle\" class=\"label\">\(escape(xLabel))</text>"
        s += "<text transform=\"translate(-48,\(f(ph / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"label\">\(escape(yLabel))</text>"
        return s + "</g></svg>"
    }

    /// Vertical bars over categories (a histogram when the categories are bins). Several
    /// series are drawn side by side, with a legend.
    static func bars(id: String, title: String, categories: [String], series: [(name: String, values: [Double])],
                     xLabel: String, yLabel: String) -> String {
        let pw = width - left - right, ph = height - top - bottom
        let maxValue = max(1e-12, series.flatMap(\.values).max() ?? 1)
        let yt = ticks(0, maxValue)
        let top = max(maxValue, yt.last ?? maxValue)
        let slot = pw / Double(max(1, categories.count))
        let barWidth = max(1, slot * 0.8 / Double(max(1, series.count)))
        var body = ""
        for (k, s) in series.enumerated() {
            for (i, v) in s.values.enumerated() where v > 0 {
                let x = Double(i) * slot + slot * 0.1 + Double(k) * barWidth
                let hgt = v / top * ph
                body += "<rect x=\"\(f(x))\" y=\"\(f(ph - hgt))\" width=\"\(f(barWidth))\" height=\"\(f(max(0.5, hgt)))\" fill=\"\(palette[k % palette.count])\"><title>\(escape(s.name)) \(escape(categories[i])): \(label(v))</title></rect>"
            }
        }
        body += legend(series.map(\.name))
        let every = max(1, categories.count / 12)
        let xt = categories.enumerated().filter { $0.offset % every == 0 }.map { (Double($0.offset) * slot + slot / 2, $0.element) }
        return frame(id: id, title: title, xLabel: xLabel, yLabel: yLabel, xTicks: xt,
                     yTicks: yt.map { (ph - $0 / top * ph, label($0)) }, body: body)
    }

    /// Horizontal bars, one per labelled row (long metric names fit).
    static func horizontalBars(id: String, title: String, labels: [String], values: [Double], xLabel: String) -> String {
        let rowHeight = 16.0
        let h = Double(labels.count) * rowHeight + 70
        let labelWidth = 300.0
        let pw = width - labelWidth - right
        let maxValue = max(1e-12, values.max() ?? 1)
        let xt = ticks(0, maxValue)
        let top = max(maxValue, xt.last ?? maxValue)
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"\(escape(id))\" viewBox=\"0 0 \(f(width)) \(f(h))\" width=\"\(f(width))\" height=\"\(f(h))\" role=\"img\" aria-label=\"\(escape(title))\">"
        s += "<text x=\"\(f(width / 2))\" y=\"18\" text-anchor=\"middle\" class=\"title\">\(escape(title))</text><g transform=\"translate(\(f(labelWidth)),28)\">"
        let ph = Double(labels.count) * rowHeight
        for t in xt {
            let x = t / top * pw
            s += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"0\" y2=\"\(f(ph))\" class=\"grid\"/><text x=\"\(f(x))\" y=\"\(f(ph + 14))\" text-anchor=\"middle\" class=\"tick\">\(label(t))</text>"
        }
        s += "<g class=\"marks\">"
        for (i, (name, v)) in zip(labels, values).enumerated() {
            let y = Double(i) * rowHeight
            let shown = name.count > 46 ? String(name.prefix(45)) + "…" : name
            s += "<text x=\"-6\" y=\"\(f(y + 12))\" text-anchor=\"end\" class=\"tick\">\(escape(shown))</text>"
            s += "<rect x=\"0\" y=\"\(f(y + 2))\" width=\"\(f(max(0.5, v / top * pw)))\" height=\"\(f(rowHeight - 4))\" fill=\"\(palette[0])\"><title>\(escape(name)): \(label(v))</title></rect>"
        }
        s += "</g><text x=\"\(f(pw / 2))\" y=\"\(f(ph + 34))\" text-anchor=\"middle\" class=\"label\">\(escape(xLabel))</text>"
        return s + "</g></svg>"
    }

    /// Points; axes may be logarithmic (values must then be positive).
    static func scatter(id: String, title: String, points: [(Double, Double)], xLabel: String, yLabel: String,
                        logX: Bool = false, logY: Bool = false) -> String {
        let pw = width - left - right, ph = height - top - bottom
        let tx = { (v: Double) in logX ? log10(max(v, 1)) : v }, ty = { (v: Double) in logY ? log10(max(v, 1)) : v }
        let xs = points.map { tx($0.0) }, ys = points.map { ty($0.1) }
        let (x0, x1) = (xs.min() ?? 0, max((xs.max() ?? 1), (xs.min() ?? 0) + 1e-9))
        let (y0, y1) = (ys.min() ?? 0, max((ys.max() ?? 1), (ys.min() ?? 0) + 1e-9))
        var body = ""
        for (x, y) in zip(xs, ys) {
            body += "<circle cx=\"\(f((x - x0) / (x1 - x0) * pw))\" cy=\"\(f(ph - (y - y0) / (y1 - y0) * ph))\" r=\"2\" fill=\"\(palette[0])\" fill-opacity=\"0.35\"/>"
        }
        let fmt = { (log: Bool, v: Double) in log ? label(pow(10, v).rounded()) : label(v) }
        return frame(id: id, title: title, xLabel: xLabel, yLabel: yLabel,
                     xTicks: ticks(x0, x1).map { (($0 - x0) / (x1 - x0) * pw, fmt(logX, $0)) },
                     yTicks: ticks(y0, y1).map { (ph - ($0 - y0) / (y1 - y0) * ph, fmt(logY, $0)) }, body: body)
    }

    /// Box plots (quartiles, whiskers at 1.5 IQR) per labelled group.
    static func boxes(id: String, title: String, groups: [(label: String, values: [Double])], xLabel: String, yLabel: String,
                      range: ClosedRange<Double>? = nil) -> String {
        let pw = width - left - right, ph = height - top - bottom
        let all = groups.flatMap(\.values)
        let lo = range?.lowerBound ?? (all.min() ?? 0), hi = range?.upperBound ?? max((all.max() ?? 1), lo + 1e-9)
        let y = { (v: Double) in ph - (v - lo) / (hi - lo) * ph }
        let slot = pw / Double(max(1, groups.count))
        var body = ""
        for (i, g) in groups.enumerated() where !g.values.isEmpty {
            let v = g.values.sorted()
            let q = { (p: Double) in v[min(v.count - 1, Int(p * Double(v.count - 1)))] }
            let (q1, med, q3) = (q(0.25), q(0.5), q(0.75))
            let iqr = q3 - q1
            let wlo = v.first { $0 >= q1 - 1.5 * iqr } ?? q1, whi = v.last { $0 <= q3 + 1.5 * iqr } ?? q3
            let cx = Double(i) * slot + slot / 2, bw = slot * 0.5
            body += "<line x1=\"\(f(cx))\" x2=\"\(f(cx))\" y1=\"\(f(y(wlo)))\" y2=\"\(f(y(whi)))\" stroke=\"#333\"/>"
            body += "<rect x=\"\(f(cx - bw / 2))\" y=\"\(f(y(q3)))\" width=\"\(f(bw))\" height=\"\(f(max(1, y(q1) - y(q3))))\" fill=\"\(palette[i % 2 == 0 ? 5 : 1])\" stroke=\"#333\"><title>\(escape(g.label)): n \(v.count), median \(label(med))</title></rect>"
            body += "<line x1=\"\(f(cx - bw / 2))\" x2=\"\(f(cx + bw / 2))\" y1=\"\(f(y(med)))\" y2=\"\(f(y(med)))\" stroke=\"#000\" stroke-width=\"2\"/>"
            for o in v where o < wlo || o > whi {
                body += "<circle cx=\"\(f(cx))\" cy=\"\(f(y(o)))\" r=\"1.8\" fill=\"none\" stroke=\"#333\"/>"
            }
        }
        let xt = groups.enumerated().map { (Double($0.offset) * slot + slot / 2, String($0.element.label.split(separator: "/").last.map { $0.suffix(11) } ?? "")) }
        return frame(id: id, title: title, xLabel: xLabel, yLabel: yLabel, xTicks: xt,
                     yTicks: ticks(lo, hi).map { (y($0), label($0)) }, body: body)
    }

    /// Lines over a shared x axis, with a legend.
    static func lines(id: String, title: String, series: [(name: String, points: [(Double, Double)])], xLabel: String, yLabel: String,
                      logY: Bool = false) -> String {
        let pw = width - left - right, ph = height - top - bottom
        let ty = { (v: Double) in logY ? log10(max(v, 1e-12)) : v }
        let pts = series.flatMap(\.points).filter { $0.1.isFinite }
        let x0 = pts.map(\.0).min() ?? 0, x1 = max(pts.map(\.0).max() ?? 1, x0 + 1e-9)
        var y0 = pts.map { ty($0.1) }.min() ?? 0, y1 = pts.map { ty($0.1) }.max() ?? 1
        if y1 - y0 < 1e-9 {
            // A constant series (e.g. a fixed learning rate): centre it in a small range.
            let pad = logY ? 0.5 : max(abs(y0) * 0.1, 0.5)
            (y0, y1) = (y0 - pad, y1 + pad)
        }
        var body = ""
        for (k, s) in series.enumerated() {
            let d = s.points.filter { $0.1.isFinite }.enumerated().map { i, p in
                "\(i == 0 ? "M" : "L")\(f((p.0 - x0) / (x1 - x0) * pw)),\(f(ph - (ty(p.1) - y0) / (y1 - y0) * ph))"
            }.joined()
            if !d.isEmpty { body += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(palette[k % palette.count])\" stroke-width=\"2\"><title>\(escape(s.name))</title></path>" }
        }
        body += legend(series.map(\.name))
        return frame(id: id, title: title, xLabel: xLabel, yLabel: yLabel,
                     xTicks: ticks(x0, x1).map { (($0 - x0) / (x1 - x0) * pw, label($0)) },
                     yTicks: ticks(y0, y1).map { (ph - ($0 - y0) / (y1 - y0) * ph, logY ? String(format: "%.1e", pow(10, $0)) : label($0)) }, body: body)
    }

    /// A square matrix of values in [-1, 1] (or lo...hi), with row labels; a sequential
    /// blue scale, darker for higher.
    static func heatmap(id: String, title: String, labels: [String], matrix: [[Double]], valueLabel: String) -> String {
        let n = labels.count
        let cell = min(28.0, 360.0 / Double(max(1, n)))
        let labelWidth = 170.0
        let w = labelWidth + Double(n) * cell + 140, h = 40 + Double(n) * cell + 90
        let values = matrix.flatMap { $0 }.filter(\.isFinite)
        let lo = values.min() ?? 0, hi = max(values.max() ?? 1, lo + 1e-9)
        func colour(_ v: Double) -> String {
            let t = (v - lo) / (hi - lo)
            // From #f7fbff to #08306b (a single-hue blue ramp).
            let r = Int(247 - t * (247 - 8)), g = Int(251 - t * (251 - 48)), b = Int(255 - t * (255 - 107))
            return String(format: "#%02x%02x%02x", r, g, b)
        }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"\(escape(id))\" viewBox=\"0 0 \(f(w)) \(f(h))\" width=\"\(f(w))\" height=\"\(f(h))\" role=\"img\" aria-label=\"\(escape(title))\">"
        s += "<text x=\"\(f(w / 2))\" y=\"18\" text-anchor=\"middle\" class=\"title\">\(escape(title))</text><g transform=\"translate(\(f(labelWidth)),32)\"><g class=\"marks\">"
        for i in 0..<n {
            s += "<text x=\"-6\" y=\"\(f(Double(i) * cell + cell * 0.7))\" text-anchor=\"end\" class=\"tick\">\(escape(String(labels[i].prefix(26))))</text>"
            s += "<text transform=\"translate(\(f(Double(i) * cell + cell * 0.6)),\(f(Double(n) * cell + 6))) rotate(60)\" class=\"tick\">\(escape(String(labels[i].prefix(18))))</text>"
            for j in 0..<n {
                s += "<rect x=\"\(f(Double(j) * cell))\" y=\"\(f(Double(i) * cell))\" width=\"\(f(cell))\" height=\"\(f(cell))\" fill=\"\(colour(matrix[i][j]))\"><title>\(escape(labels[i])) / \(escape(labels[j])): \(String(format: "%.3f", matrix[i][j]))</title></rect>"
            }
        }
        s += "</g>"
        // Colour key.
        let kx = Double(n) * cell + 20
        for k in 0..<10 {
            let v = lo + (hi - lo) * Double(9 - k) / 9
            s += "<rect x=\"\(f(kx))\" y=\"\(f(Double(k) * 12))\" width=\"14\" height=\"12\" fill=\"\(colour(v))\"/>"
        }
        s += "<text x=\"\(f(kx + 18))\" y=\"10\" class=\"tick\">\(String(format: "%.2f", hi))</text><text x=\"\(f(kx + 18))\" y=\"120\" class=\"tick\">\(String(format: "%.2f", lo))</text>"
        s += "<text x=\"\(f(kx))\" y=\"140\" class=\"label\">\(escape(valueLabel))</text>"
        return s + "</g></svg>"
    }

    static func legend(_ names: [String]) -> String {
        guard names.count > 1 else { return "" }
        var s = ""
        for (k, name) in names.enumerated() {
            let x = width - left - right - 170, y = Double(k) * 14
            s += "<rect class=\"legend\" x=\"\(f(x))\" y=\"\(f(y))\" width=\"10\" height=\"10\" fill=\"\(palette[k % palette.count])\"/><text x=\"\(f(x + 14))\" y=\"\(f(y + 9))\" class=\"tick\">\(escape(name))</text>"
        }
        return s
    }
}
