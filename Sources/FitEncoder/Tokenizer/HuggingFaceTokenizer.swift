import FitFormats
import Foundation

/// A tokenizer read from a Hugging Face `tokenizer.json`: normalizers, pre-tokenizers and a
/// WordPiece or Unigram model, applied as the `tokenizers` library applies them, plus the
/// special tokens its post-processor puts around a single sequence. A component this file
/// does not implement is refused naming the field, never approximated.
public struct HuggingFaceTokenizer: Sendable {
    enum Normalizer: Sendable {
        case bert(BertNormalization)
        case precompiled(PrecompiledCharsmap)
        case replace(pattern: String, isRegex: Bool, content: String)
        case lowercase
        case nfd, nfkd, nfc, nfkc
        case stripAccents
        case strip(left: Bool, right: Bool)
        case prepend(String)
    }

    enum PreTokenizer: Sendable {
        case bert
        case whitespaceSplit
        /// `\w+|[^\w\s]+`
        case whitespace
        case metaspace(replacement: String, prepend: Prepend, split: Bool)

        enum Prepend: Sendable { case always, first, never }
    }

    enum Model: Sendable {
        case wordPiece(WordPieceModel)
        case unigram(UnigramModel)
    }

    /// A token matched in the text before the model runs (special tokens such as <s> or
    /// [CLS] typed in a text): on the raw text when not `normalized`, else on the normalized
    /// text; `lstrip`/`rstrip` take the whitespace on that side with it; `singleWord` matches
    /// only a whole word.
    struct AddedToken: Sendable {
        let content: [UInt8]
        let id: Int32
        let normalized: Bool
        let lstrip: Bool
        let rstrip: Bool
        let singleWord: Bool
    }

    let normalizers: [Normalizer]
    let preTokenizers: [PreTokenizer]
    let model: Model
    let addedTokens: [AddedToken]
    /// Ids before and after a single sequence's content (e.g. [CLS] / [SEP], <s> / </s>).
    public let prefixIDs: [Int32]
    public let suffixIDs: [Int32]
    public let padID: Int32

    public var vocabularySize: Int {
        switch model {
        case .wordPiece(let m): m.count
        case .unigram(let m): m.count
        }
    }

    /// The largest token id this tokenizer can put in a sequence: of its vocabulary, its
    /// unknown token, its added tokens, the special tokens around a sequence, and padding.
    /// Each must be a row of the model's embedding table.
    public var largestID: Int32 {
        let model: Int32 = switch self.model {
        case .wordPiece(let m): m.largestID
        case .unigram(let m): max(m.unknown, Int32(m.count - 1))
        }
        return ([model, padID] + prefixIDs + suffixIDs + addedTokens.map(\.id)).max() ?? model
    }

    /// The smallest such id (a negative one is refused as surely as one past the table).
    public var smallestID: Int32 {
        ([padID] + prefixIDs + suffixIDs + addedTokens.map(\.id)).min() ?? 0
    }

    // MARK: Encoding

    /// The content token ids of `text` (no special tokens around it; special tokens typed in
    /// the text are matched as the reference matches them).
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for piece in Self.split(Array(text.utf8), on: addedTokens.filter { !$0.normalized }) {
            switch piece {
            case .token(let id): ids.append(id)
            case .text(let raw):
                var s = String(decoding: raw, as: UTF8.self)
                for n in normalizers { s = Self.apply(n, s) }
                for inner in Self.split(Array(s.utf8), on: addedTokens.filter(\.normalized)) {
                    switch inner {
                    case .token(let id): ids.append(id)
                    case .text(let normalized): model(pretokenized: String(decoding: normalized, as: UTF8.self), into: &ids)
                    }
                }
            }
        }
        return ids
    }

    private func model(pretokenized s: String, into ids: inout [Int32]) {
        var words = [s]
        for p in preTokenizers { words = words.flatMap { Self.split($0, p) } }
        for word in words where !word.isEmpty {
            switch model {
            case .wordPiece(let m): m.encode(word: word, into: &ids)
            case .unigram(let m): m.encode(word: word, into: &ids)
            }
        }
    }

    enum Piece { case text([UInt8]), token(Int32) }

    /// `bytes` cut at the leftmost-longest occurrences of `tokens`.
    static func split(_ bytes: [UInt8], on tokens: [AddedToken]) -> [Piece] {
        guard !tokens.isEmpty else { return [.text(bytes)] }
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        func isWordByte(_ b: UInt8) -> Bool { b >= 0x80 || (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F }
        var out: [Piece] = []
        var textStart = 0, i = 0
        while i < bytes.count {
            var best: AddedToken?
            for t in tokens where t.content.count > (best?.content.count ?? 0) && i + t.content.count <= bytes.count
                && bytes[i..<(i + t.content.count)].elementsEqual(t.content) {
                if t.singleWord {
                    let before = i == 0 || !isWordByte(bytes[i - 1])
                    let end = i + t.content.count
                    let after = end == bytes.count || !isWordByte(bytes[end])
                    if !(before && after) { continue }
                }
                best = t
            }
            guard let token = best else { i += 1; continue }
            var start = i, end = i + token.content.count
            if token.lstrip { while start > textStart && isSpace(bytes[start - 1]) { start -= 1 } }
            if token.rstrip { while end < bytes.count && isSpace(bytes[end]) { end += 1 } }
            if start > textStart { out.append(.text(Array(bytes[textStart..<start]))) }
            out.append(.token(token.id))
            textStart = end
            i = end
        }
        if textStart < bytes.count { out.append(.text(Array(bytes[textStart...]))) }
        return out
    }

    static func apply(_ n: Normalizer, _ s: String) -> String {
        switch n {
        case .bert(let b): return b.normalize(s)
        case .precompiled(let p): return p.normalize(s)
        case .replace(let pattern, let isRegex, let content):
            if isRegex, let regex = try? NSRegularExpression(pattern: pattern) {
                return regex.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: NSRegularExpression.escapedTemplate(for: content))
            }
            return s.replacingOccurrences(of: pattern, with: content)
        case .lowercase:
            var out = String.UnicodeScalarView()
            for u in s.unicodeScalars { out.append(contentsOf: u.properties.lowercaseMapping.unicodeScalars) }
            return String(out)
        case .nfd: return s.decomposedStringWithCanonicalMapping
        case .nfkd: return s.decomposedStringWithCompatibilityMapping
        case .nfc: return s.precomposedStringWithCanonicalMapping
        case .nfkc: return s.precomposedStringWithCompatibilityMapping
        case .stripAccents:
            return String(String.UnicodeScalarView(s.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }))
        case .strip(let left, let right):
            var scalars = Array(s.unicodeScalars)
            if left { while let f = scalars.first, f.properties.isWhitespace { scalars.removeFirst() } }
            if right { while let l = scalars.last, l.properties.isWhitespace { scalars.removeLast() } }
            return String(String.UnicodeScalarView(scalars))
        case .prepend(let p): return s.isEmpty ? s : p + s
        }
    }

    static func split(_ s: String, _ p: PreTokenizer) -> [String] {
        switch p {
        case .bert:
            return BertNormalization.preTokenize(s)
        case .whitespaceSplit:
            return s.unicodeScalars.split(whereSeparator: { $0.properties.isWhitespace }).map { String(String.UnicodeScalarView($0)) }
        case .whitespace:
            // \w+|[^\w\s]+ : runs of word scalars, runs of other non-space scalars.
            var out: [String] = [], current = String.UnicodeScalarView(), kind = 0
            for u in s.unicodeScalars {
                let k = u.properties.isWhitespace ? 0 : Self.isWord(u) ? 1 : 2
                if k != kind, !current.isEmpty { out.append(String(current)); current = String.UnicodeScalarView() }
                if k != 0 { current.append(u) }
                kind = k
            }
            if !current.isEmpty { out.append(String(current)) }
            return out
        case .metaspace(let replacement, let prepend, let split):
            var t = s.replacingOccurrences(of: " ", with: replacement)
            if prepend == .always && !t.hasPrefix(replacement) { t = replacement + t }
            guard split else { return [t] }
            // Split before each replacement character, which starts the next piece.
            var out: [String] = [], current = ""
            for c in t.unicodeScalars {
                if String(c) == replacement, !current.isEmpty { out.append(current); current = "" }
                current.unicodeScalars.append(c)
            }
            if !current.isEmpty { out.append(current) }
            return out
        }
    }

    /// Regex `\w`: letters, marks, decimal numbers and connector punctuation.
    static func isWord(_ u: Unicode.Scalar) -> Bool {
        switch u.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    // MARK: Loading

    /// `tokenizerClass`: tokenizer_config.json's tokenizer_class. transformers 5 builds the
    /// pipeline of the classes it knows from the class, not the file; for XLMRobertaTokenizer
    /// (XLM-R, the e5 family, bge-m3) that is whitespace split then Metaspace, which drops
    /// whitespace-only pieces a file's lone Metaspace would keep. sentence-transformers runs
    /// through transformers, so we follow the class where it differs.
    public init(path: String, tokenizerClass: String? = nil) throws {
        let json: JSONValue
        do {
            json = try JSONDocument.parse(contentsOf: URL(fileURLWithPath: path))
        } catch let error as JSONSyntaxError {
            throw TokenizerFileError(path: path, field: "(the file)", message: "is not valid JSON: \(error)")
        } catch {
            throw TokenizerFileError(path: path, field: "(the file)", message: "cannot be read: \(error.localizedDescription)")
        }
        guard case .object(let root) = json else { throw TokenizerFileError(path: path, field: "(the file)", message: "is not a JSON object") }
        func fail(_ field: String, _ message: String) -> TokenizerFileError { TokenizerFileError(path: path, field: field, message: message) }
        func type(_ o: JSONObject, _ field: String) throws -> String {
            guard let t = o["type"]?.stringValue else { throw fail(field + ".type", "is missing") }
            return t
        }
        func bool(_ o: JSONObject, _ key: String, _ field: String, default d: Bool?) throws -> Bool? {
            switch o[key] {
            case nil, .null?: return d
            case .bool(let b)?: return b
            default: throw fail("\(field).\(key)", "is not a boolean")
            }
        }

        // Model.
        guard case .object(let m)? = root["model"] else { throw fail("model", "is missing") }
        let modelType = try type(m, "model")
        switch modelType {
        case "WordPiece":
            guard case .object(let vocab)? = m["vocab"] else { throw fail("model.vocab", "is not an object of piece -> id") }
            var pieces: [(String, Int32)] = []
            for (piece, value) in zip(vocab.keys, vocab.values) {
                guard case .number(let lexeme) = value, let id = Int32(lexeme), id >= 0 else { throw fail("model.vocab[\(piece)]", "is not an id") }
                pieces.append((piece, id))
            }
            guard let unkToken = m["unk_token"]?.stringValue, let unk = pieces.first(where: { $0.0 == unkToken })?.1 else {
                throw fail("model.unk_token", "is not a piece of the vocabulary")
            }
            var maxChars = 100
            if case .number(let lexeme)? = m["max_input_chars_per_word"], let n = Int(lexeme) { maxChars = n }
            let prefix = m["continuing_subword_prefix"]?.stringValue ?? "##"
            model = .wordPiece(WordPieceModel(vocabulary: pieces, unknown: unk, continuingPrefix: prefix, maxInputCharsPerWord: maxChars))
        case "Unigram":
            guard case .array(let vocab)? = m["vocab"] else { throw fail("model.vocab", "is not a list of [piece, score]") }
            var pieces: [(String, Double)] = []
            for (i, entry) in vocab.enumerated() {
                guard case .array(let pair) = entry, pair.count == 2, let piece = pair[0].stringValue,
                      case .number(let lexeme) = pair[1], let score = Double(lexeme), score.isFinite else {
                    throw fail("model.vocab[\(i)]", "is not [piece, score]")
                }
                pieces.append((piece, score))
            }
            guard case .number(let lexeme)? = m["unk_id"], let unk = Int(lexeme), pieces.indices.contains(unk) else {
                throw fail("model.unk_id", "is not an index of the vocabulary")
            }
            if try bool(m, "byte_fallback", "model", default: false) == true { throw fail("model.byte_fallback", "true is not supported") }
            model = .unigram(UnigramModel(pieces: pieces, unknown: unk, fuseUnknown: true))
        default:
            throw fail("model.type", "'\(modelType)' is not supported (WordPiece and Unigram are)")
        }

        // Normalizers.
        func normalizer(_ value: JSONValue, _ field: String) throws -> [Normalizer] {
            if case .null = value { return [] }
            guard case .object(let o) = value else { throw fail(field, "is not an object") }
            switch try type(o, field) {
            case "Sequence":
                guard case .array(let list)? = o["normalizers"] else { throw fail(field + ".normalizers", "is not a list") }
                return try list.enumerated().flatMap { try normalizer($1, "\(field).normalizers[\($0)]") }
            case "BertNormalizer":
                return [.bert(BertNormalization(
                    cleanText: try bool(o, "clean_text", field, default: true)!,
                    handleChineseChars: try bool(o, "handle_chinese_chars", field, default: true)!,
                    stripAccents: try bool(o, "strip_accents", field, default: nil),
                    lowercase: try bool(o, "lowercase", field, default: true)!))]
            case "Precompiled":
                guard let b64 = o["precompiled_charsmap"]?.stringValue else { return [] }
                return [.precompiled(try PrecompiledCharsmap(base64: b64, file: path))]
            case "Replace":
                guard let content = o["content"]?.stringValue, case .object(let pattern)? = o["pattern"] else {
                    throw fail(field, "needs a pattern and a content")
                }
                if let s = pattern["String"]?.stringValue { return [.replace(pattern: s, isRegex: false, content: content)] }
                if let r = pattern["Regex"]?.stringValue {
                    guard (try? NSRegularExpression(pattern: r)) != nil else { throw fail(field + ".pattern.Regex", "is not a regular expression this build reads") }
                    return [.replace(pattern: r, isRegex: true, content: content)]
                }
                throw fail(field + ".pattern", "is neither String nor Regex")
            case "Lowercase": return [.lowercase]
            case "NFD": return [.nfd]
            case "NFKD": return [.nfkd]
            case "NFC": return [.nfc]
            case "NFKC": return [.nfkc]
            case "StripAccents": return [.stripAccents]
            case "Strip":
                return [.strip(left: try bool(o, "strip_left", field, default: true)!, right: try bool(o, "strip_right", field, default: true)!)]
            case "Prepend":
                guard let p = o["prepend"]?.stringValue else { throw fail(field + ".prepend", "is missing") }
                return [.prepend(p)]
            case let other:
                throw fail(field + ".type", "'\(other)' is not supported")
            }
        }
        normalizers = try root["normalizer"].map { try normalizer($0, "normalizer") } ?? []

        // Pre-tokenizers.
        func preTokenizer(_ value: JSONValue, _ field: String) throws -> [PreTokenizer] {
            if case .null = value { return [] }
            guard case .object(let o) = value else { throw fail(field, "is not an object") }
            switch try type(o, field) {
            case "Sequence":
                guard case .array(let list)? = o["pretokenizers"] else { throw fail(field + ".pretokenizers", "is not a list") }
                return try list.enumerated().flatMap { try preTokenizer($1, "\(field).pretokenizers[\($0)]") }
            case "BertPreTokenizer": return [.bert]
            case "WhitespaceSplit": return [.whitespaceSplit]
            case "Whitespace": return [.whitespace]
            case "Metaspace":
                let replacement = o["replacement"]?.stringValue ?? "\u{2581}"
                var prepend = PreTokenizer.Prepend.always
                if let scheme = o["prepend_scheme"]?.stringValue {
                    switch scheme {
                    case "always": prepend = .always
                    case "never": prepend = .never
                    case "first": prepend = .first
                    default: throw fail(field + ".prepend_scheme", "'\(scheme)' is not known")
                    }
                } else if try bool(o, "add_prefix_space", field, default: true) == false {
                    prepend = .never
                }
                // "first" prepends to the first word only: with one text per call that is
                // every text's first piece, as "always" does for a text not split before.
                return [.metaspace(replacement: replacement, prepend: prepend == .first ? .always : prepend,
                                   split: try bool(o, "split", field, default: true)!)]
            case let other:
                throw fail(field + ".type", "'\(other)' is not supported")
            }
        }
        var pre = try root["pre_tokenizer"].map { try preTokenizer($0, "pre_tokenizer") } ?? []
        if case .unigram = model, let tokenizerClass, tokenizerClass.hasPrefix("XLMRobertaTokenizer"),
           case .metaspace(let replacement, _, _)? = pre.last {
            pre = [.whitespaceSplit, .metaspace(replacement: replacement, prepend: .always, split: true)]
        }
        preTokenizers = pre

        // Added tokens.
        var added: [AddedToken] = []
        if case .array(let list)? = root["added_tokens"] {
            for (i, item) in list.enumerated() {
                guard case .object(let o) = item, let content = o["content"]?.stringValue, !content.isEmpty,
                      case .number(let l)? = o["id"], let id = Int32(l), id >= 0 else {
                    throw fail("added_tokens[\(i)]", "needs a content and an id")
                }
                added.append(AddedToken(content: Array(content.utf8), id: id,
                                        normalized: try bool(o, "normalized", "added_tokens[\(i)]", default: false)!,
                                        lstrip: try bool(o, "lstrip", "added_tokens[\(i)]", default: false)!,
                                        rstrip: try bool(o, "rstrip", "added_tokens[\(i)]", default: false)!,
                                        singleWord: try bool(o, "single_word", "added_tokens[\(i)]", default: false)!))
            }
        }
        addedTokens = added

        // Special tokens around a single sequence.
        var prefix: [Int32] = [], suffix: [Int32] = []
        if case .object(let post)? = root["post_processor"] {
            switch try type(post, "post_processor") {
            case "TemplateProcessing":
                guard case .array(let single)? = post["single"] else { throw fail("post_processor.single", "is not a list") }
                var special: [String: [Int32]] = [:]
                if case .object(let tokens)? = post["special_tokens"] {
                    for (name, value) in zip(tokens.keys, tokens.values) {
                        guard case .object(let t) = value, case .array(let ids)? = t["ids"] else { continue }
                        special[name] = ids.compactMap { if case .number(let l) = $0 { Int32(l) } else { nil } }
                    }
                }
                var seenSequence = false
                for (i, item) in single.enumerated() {
                    guard case .object(let o) = item else { throw fail("post_processor.single[\(i)]", "is not an object") }
                    if o["Sequence"] != nil { seenSequence = true; continue }
                    guard case .object(let st)? = o["SpecialToken"], let id = st["id"]?.stringValue, let ids = special[id] else {
                        throw fail("post_processor.single[\(i)]", "is neither a Sequence nor a known SpecialToken")
                    }
                    if seenSequence { suffix += ids } else { prefix += ids }
                }
            case "RobertaProcessing", "BertProcessing":
                func special(_ key: String) throws -> Int32 {
                    guard case .array(let pair)? = post[key], pair.count == 2, case .number(let l) = pair[1], let id = Int32(l) else {
                        throw fail("post_processor.\(key)", "is not [token, id]")
                    }
                    return id
                }
                prefix = [try special("cls")]
                suffix = [try special("sep")]
            case let other:
                throw fail("post_processor.type", "'\(other)' is not supported")
            }
        }
        prefixIDs = prefix
        suffixIDs = suffix
        var pad: Int32 = 0
        if case .object(let padding)? = root["padding"], case .number(let l)? = padding["pad_id"], let p = Int32(l) { pad = p }
        padID = pad
        let size: Int
        switch model {
        case .wordPiece(let m): size = m.count
        case .unigram(let m): size = m.count
        }
        for id in prefix + suffix + added.map(\.id) where !(0..<Int32(size)).contains(id) {
            throw fail("post_processor", "special token id \(id) is outside the vocabulary of \(size)")
        }
    }
}
