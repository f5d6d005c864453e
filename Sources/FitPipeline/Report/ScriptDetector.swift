/// Language detection by writing system: a text's label is the script of most of its
/// letters (Unicode block ranges). It tells Hindi from Bengali from Tamil, but not Hindi from
/// Nepali or Marathi (all Devanagari), nor English from other Latin-script languages; the
/// report says so.
enum ScriptDetector {
    static let scripts: [(name: String, ranges: [ClosedRange<UInt32>])] = [
        ("Latin (English, …)", [0x41...0x5A, 0x61...0x7A, 0xC0...0x24F]),
        ("Devanagari (Hindi, Nepali, Marathi)", [0x900...0x97F]),
        ("Bengali", [0x980...0x9FF]),
        ("Gurmukhi (Punjabi)", [0xA00...0xA7F]),
        ("Gujarati", [0xA80...0xAFF]),
        ("Odia", [0xB00...0xB7F]),
        ("Tamil", [0xB80...0xBFF]),
        ("Telugu", [0xC00...0xC7F]),
        ("Kannada", [0xC80...0xCFF]),
        ("Malayalam", [0xD00...0xD7F]),
        ("Sinhala", [0xD80...0xDFF]),
        ("Arabic script", [0x600...0x6FF]),
        ("Cyrillic", [0x400...0x4FF]),
        ("CJK (Chinese, Japanese)", [0x3040...0x30FF, 0x4E00...0x9FFF]),
        ("Hangul (Korean)", [0xAC00...0xD7AF]),
    ]

    static func detect(_ text: String) -> String {
        var counts = [Int](repeating: 0, count: scripts.count)
        for scalar in text.unicodeScalars {
            let v = scalar.value
            guard v >= 0x41 else { continue }
            for (i, s) in scripts.enumerated() where s.ranges.contains(where: { $0.contains(v) }) {
                counts[i] += 1
                break
            }
        }
        guard let best = counts.indices.max(by: { counts[$0] < counts[$1] }), counts[best] > 0 else { return "no letters" }
        return scripts[best].name
    }
}
