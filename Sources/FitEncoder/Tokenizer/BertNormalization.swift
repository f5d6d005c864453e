import Foundation

/// The BERT normalizer and pre-tokenizer of Hugging Face `tokenizers`, as `tokenizer.json`
/// names them (`BertNormalizer`, `BertPreTokenizer`), character for character:
///
/// - clean text: drop NUL, U+FFFD and every "other" character (general category C*) but tab,
///   newline and carriage return; turn whitespace (those three and White_Space) into a space;
/// - Chinese characters: put a space either side of each CJK ideograph (the CJK Unified
///   Ideographs blocks and their extensions, and the compatibility ideographs);
/// - strip accents (by default when lowercasing): canonical decomposition, then drop
///   nonspacing marks (Mn);
/// - lowercase: each scalar's full lowercase mapping, without context (Σ is always σ);
/// - pre-tokenize: split on whitespace (dropped) and around each punctuation character (ASCII
///   punctuation, and general category P*), which stands alone.
public struct BertNormalization: Sendable, Equatable {
    public var cleanText = true
    public var handleChineseChars = true
    public var stripAccents: Bool? = nil
    public var lowercase = true

    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    public func normalize(_ text: String) -> String {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        for s in text.unicodeScalars {
            if cleanText {
                if s.value == 0 || s.value == 0xFFFD || (Self.isOther(s) && !Self.isTabOrNewline(s)) { continue }
                if Self.isWhitespace(s) { scalars.append(" "); continue }
            }
            if handleChineseChars && Self.isChinese(s) {
                scalars.append(" "); scalars.append(s); scalars.append(" ")
            } else {
                scalars.append(s)
            }
        }
        var out = String(String.UnicodeScalarView(scalars))
        if stripAccents ?? lowercase {
            out = String(String.UnicodeScalarView(out.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
                $0.properties.generalCategory != .nonspacingMark
            }))
        }
        if lowercase {
            var lowered = String.UnicodeScalarView()
            for s in out.unicodeScalars { lowered.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars) }
            out = String(lowered)
        }
        return out
    }

    /// BertPreTokenizer: words split on whitespace and around punctuation.
    public static func preTokenize(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)); current = String.UnicodeScalarView() }
        }
        for s in text.unicodeScalars {
            if isWhitespace(s) {
                flush()
            } else if isPunctuation(s) {
                flush()
                words.append(String(s))
            } else {
                current.append(s)
            }
        }
        flush()
        return words
    }

    static func isTabOrNewline(_ s: Unicode.Scalar) -> Bool { s == "\t" || s == "\n" || s == "\r" }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool { isTabOrNewline(s) || s.properties.isWhitespace }

    /// General category C*: control, format, surrogate, private use, unassigned.
    static func isOther(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: true
        default: false
        }
    }

    static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let v = s.value
            return (0x21...0x2F).contains(v) || (0x3A...0x40).contains(v) || (0x5B...0x60).contains(v) || (0x7B...0x7E).contains(v)
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }

    static func isChinese(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }
}
