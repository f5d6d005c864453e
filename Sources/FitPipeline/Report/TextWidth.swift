/// How wide a chart's text will be, so the layout can make room for it instead of clipping.
///
/// The report asks for DejaVu Sans (then Verdana, then any sans-serif) in its charts; the
/// widths below are DejaVu Sans's advance widths for printable ASCII, in ems (read from the
/// font's `hmtx` table). Other characters are taken at 1 em (wider than any Latin, Greek or
/// Cyrillic letter of the font but a few), combining marks at 0. Bold text is 10% wider. The
/// estimate is padded by 8% for fonts a little wider than DejaVu Sans; the render test in
/// Chromium measures what the browser really draws.
enum TextWidth {
    /// U+0020 ... U+007E.
    private static let ascii: [Double] = [
        0.318, 0.401, 0.460, 0.838, 0.636, 0.950, 0.780, 0.275, 0.390, 0.390, 0.500, 0.838, 0.318, 0.361, 0.318, 0.337,
        0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.337, 0.337, 0.838, 0.838, 0.838, 0.531,
        1.000, 0.684, 0.686, 0.698, 0.770, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863, 0.748, 0.787,
        0.603, 0.787, 0.695, 0.635, 0.611, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685, 0.390, 0.337, 0.390, 0.838, 0.500,
        0.500, 0.613, 0.635, 0.550, 0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634, 0.612,
        0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525, 0.636, 0.337, 0.636, 0.838,
    ]

    /// Estimated width in pixels of `text` at `size` px.
    static func of(_ text: String, size: Double, bold: Bool = false) -> Double {
        var ems = 0.0
        for scalar in text.unicodeScalars {
            let v = Int(scalar.value)
            if v >= 0x20 && v <= 0x7E {
                ems += ascii[v - 0x20]
            } else if scalar.properties.generalCategory == .nonspacingMark || scalar.properties.generalCategory == .enclosingMark {
                continue
            } else {
                ems += 1
            }
        }
        return ems * size * (bold ? 1.1 : 1) * 1.08
    }

    /// `text` cut to fit `width` px, with an ellipsis when cut.
    static func fit(_ text: String, size: Double, width: Double) -> String {
        guard of(text, size: size) > width else { return text }
        var kept = ""
        for character in text {
            if of(kept + String(character) + "…", size: size) > width { break }
            kept.append(character)
        }
        return kept + "…"
    }

    /// `text` broken at spaces into lines of at most `width` px (a word longer than that is cut).
    static func lines(_ text: String, size: Double, width: Double, bold: Bool = false) -> [String] {
        var out: [String] = [], line = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: false).map(String.init) {
            let candidate = line.isEmpty ? word : line + " " + word
            if of(candidate, size: size, bold: bold) <= width || line.isEmpty {
                line = candidate
            } else {
                out.append(line)
                line = word
            }
        }
        if !line.isEmpty { out.append(line) }
        return out.map { of($0, size: size, bold: bold) > width ? fit($0, size: size * (bold ? 1.1 : 1), width: width) : $0 }
    }
}
