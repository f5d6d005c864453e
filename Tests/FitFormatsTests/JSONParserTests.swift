@testable import FitFormats
import Foundation
import Testing

@Suite struct JSONParserTests {
    func parse(_ text: String) throws -> JSONValue {
        try JSONDocument.parse(Array(text.utf8), file: "doc.json")
    }

    /// Parses `text` through the streaming path with a tiny chunk size, so every token
    /// boundary falls across chunk refills somewhere.
    func streamAll(_ text: String, chunk: Int) throws -> [JSONValue] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID()).json")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let stream = try JSONArrayStream(contentsOf: url, chunkSize: chunk)
        var out: [JSONValue] = []
        while let (index, value) = try stream.next() {
            #expect(index == out.count)
            out.append(value)
        }
        return out
    }

    @Test func parsesValues() throws {
        let v = try parse(#"{"a": [1, -2.5e3, true, false, null], "b": "x\"y\\z\/\n\t\u00e9\ud83d\ude00", "c": {}}"#)
        let o = try #require(v.objectValue)
        #expect(o.keys == ["a", "b", "c"])
        #expect(o["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
        #expect(o["b"] == .string("x\"y\\z/\n\té😀"))
        #expect(o["c"] == .object(JSONObject()))
    }

    @Test func keepsNumberLexemes() throws {
        #expect(try parse("[8.0, 10.00, 0]").arrayValue == [.number("8.0"), .number("10.00"), .number("0")])
    }

    @Test(arguments: [
        ("[1,]", "expected a value"),
        ("[1 2]", "expected ',' or ']'"),
        ("{\"a\":1,\"a\":2}", "duplicate member name"),
        ("\"abc", "unterminated string"),
        ("\"a\u{01}b\"", "unescaped control character"),
        ("[01]", "leading zero"),
        ("tru", "invalid literal"),
        ("\"\\ud800\"", "unpaired surrogate"),
        ("\"\\x\"", "invalid escape"),
        ("[1] x", "expected end of document"),
        ("", "expected a value"),
        ("{\"a\" 1}", "expected ':'"),
    ])
    func rejectsMalformed(text: String, message: String) {
        #expect {
            try parse(text)
        } throws: { error in
            guard let e = error as? JSONSyntaxError else { return false }
            return e.message.contains(message) && e.file == "doc.json"
        }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = Array("[\"ab".utf8) + [0xC3, 0x28] + Array("\"]".utf8)
        #expect(throws: JSONSyntaxError.self) { try JSONDocument.parse(bytes, file: "doc.json") }
    }

    @Test func reportsLineAndColumn() {
        do {
            _ = try parse("[\n  1,\n  2,\n  x\n]")
            Issue.record("expected an error")
        } catch let e as JSONSyntaxError {
            #expect(e.line == 4)
            #expect(e.column == 3)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func rejectsTooDeepNesting() {
        let text = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONSyntaxError.self) { try parse(text) }
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func streamsAcrossChunkBoundaries(chunk: Int) throws {
        let text = "\u{FEFF}[ {\"k\": \"नमस्ते \\u0928 \\ud83d\\ude00 வணக்கம்\", \"n\": 12.5e-1},\n [true, null], \"x\" ]  \n"
        let values = try streamAll(text, chunk: chunk)
        #expect(values.count == 3)
        #expect(values[0].objectValue?["k"] == .string("नमस्ते न 😀 வணக்கம்"))
        #expect(values[0].objectValue?["n"] == .number("12.5e-1"))
        #expect(values[1] == .array([.bool(true), .null]))
        #expect(values[2] == .string("x"))
    }

    @Test func streamRejectsNonArrayAndTrailingGarbage() throws {
        #expect(throws: JSONSyntaxError.self) { try streamAll("{\"a\": 1}", chunk: 4) }
        #expect(throws: JSONSyntaxError.self) { try streamAll("[1, 2] [3]", chunk: 4) }
        #expect(throws: JSONSyntaxError.self) { try streamAll("[1, 2", chunk: 4) }
        #expect(try streamAll("[]", chunk: 1).isEmpty)
    }

    @Test func quotingRoundTrips() throws {
        let s = "a\"b\\c\n\u{01}\tनमस्ते 😀"
        #expect(try parse(JSONQuoting.quote(s)) == .string(s))
    }
}
