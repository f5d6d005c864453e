import Foundation

/// SentencePiece's precompiled normalization rules, as `tokenizer.json` carries them
/// (`"type": "Precompiled"`, base64): a darts-clone double-array trie over UTF-8 byte strings
/// whose values point into a block of NUL-terminated replacements.
///
/// Applied as Hugging Face `tokenizers` applies it: per extended grapheme cluster, a cluster
/// under 6 bytes that the trie matches is replaced whole; otherwise each scalar that the
/// trie matches is replaced, and the others kept. A match is the trie's first (shortest)
/// prefix match of the chunk, and replaces the whole chunk: odd, but what the reference does.
public struct PrecompiledCharsmap: Sendable {
    let units: [UInt32]
    let normalized: [UInt8]

    public init(base64: String, file: String) throws {
        guard let data = Data(base64Encoded: base64) else {
            throw TokenizerFileError(path: file, field: "normalizer.precompiled_charsmap", message: "is not base64")
        }
        let bytes = [UInt8](data)
        guard bytes.count >= 4 else {
            throw TokenizerFileError(path: file, field: "normalizer.precompiled_charsmap", message: "holds \(bytes.count) bytes")
        }
        let trieSize = Int(UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
        guard trieSize % 4 == 0, trieSize > 0, 4 + trieSize <= bytes.count else {
            throw TokenizerFileError(path: file, field: "normalizer.precompiled_charsmap", message: "trie size \(trieSize) does not fit its \(bytes.count) bytes")
        }
        units = stride(from: 4, to: 4 + trieSize, by: 4).map {
            UInt32(bytes[$0]) | UInt32(bytes[$0 + 1]) << 8 | UInt32(bytes[$0 + 2]) << 16 | UInt32(bytes[$0 + 3]) << 24
        }
        normalized = Array(bytes[(4 + trieSize)...])
    }

    // darts-clone unit fields.
    @inline(__always) static func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    @inline(__always) static func value(_ u: UInt32) -> Int { Int(u & 0x7FFF_FFFF) }
    @inline(__always) static func label(_ u: UInt32) -> UInt32 { u & 0x8000_00FF }
    @inline(__always) static func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }

    /// The replacement of the shortest prefix of `chunk` the trie holds, if any.
    func transform(_ chunk: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard !units.isEmpty else { return nil }
        var node = Self.offset(units[0])
        for c in chunk {
            node ^= Int(c)
            guard node >= 0, node < units.count else { return nil }
            let unit = units[node]
            guard Self.label(unit) == UInt32(c) else { return nil }
            node ^= Self.offset(unit)
            if Self.hasLeaf(unit) {
                guard node >= 0, node < units.count else { return nil }
                let start = Self.value(units[node])
                guard start < normalized.count else { return nil }
                var end = start
                while end < normalized.count && normalized[end] != 0 { end += 1 }
                return normalized[start..<end]
            }
        }
        return nil
    }

    public func normalize(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for grapheme in text {
            let bytes = Array(String(grapheme).utf8)
            if bytes.count < 6, let replacement = transform(bytes[...]) {
                out.append(contentsOf: replacement)
                continue
            }
            for scalar in grapheme.unicodeScalars {
                let part = Array(String(scalar).utf8)
                if let replacement = transform(part[...]) { out.append(contentsOf: replacement) } else { out.append(contentsOf: part) }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Why a `tokenizer.json` cannot be used: the file and the field.
public struct TokenizerFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let field: String
    public let message: String
    public var description: String { "\(path): \(field) \(message)" }
}
