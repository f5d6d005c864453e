import FitFormats
import Testing

@Suite struct DA5401RecordTests {
    func decode(_ text: String, kind: DA5401Record.Kind = .train) throws -> DA5401Record {
        try DA5401Record.decode(JSONDocument.parse(Array(text.utf8), file: "t.json"), index: 4, file: "train_data.json", kind: kind)
    }

    @Test func decodesStringScoresAndNulls() throws {
        let r = try decode(#"{"metric_name": "m/a", "score": "8.0", "user_prompt": "p", "response": null, "system_prompt": "  \n"}"#)
        #expect(r == DA5401Record(metricName: "m/a", userPrompt: "p", response: nil, systemPrompt: nil, score: 8))
        let r2 = try decode(#"{"metric_name": "m", "score": 10, "user_prompt": "p", "response": "r"}"#)
        #expect(r2.score == 10 && r2.response == "r" && r2.systemPrompt == nil)
    }

    @Test func testRowsNeedNoScore() throws {
        let r = try decode(#"{"metric_name": "m", "user_prompt": "p", "response": "r", "system_prompt": "s"}"#, kind: .test)
        #expect(r.score == nil && r.systemPrompt == "s")
    }

    @Test(arguments: [
        (#"[1]"#, nil as String?, "expected an object"),
        (#"{"score": "1", "user_prompt": "p"}"#, "metric_name", "missing"),
        (#"{"metric_name": 3, "score": "1", "user_prompt": "p"}"#, "metric_name", "expected a string"),
        (#"{"metric_name": "m", "user_prompt": "p"}"#, "score", "missing"),
        (#"{"metric_name": "m", "score": "abc", "user_prompt": "p"}"#, "score", "not a number"),
        (#"{"metric_name": "m", "score": "12", "user_prompt": "p"}"#, "score", "outside [0, 10]"),
        (#"{"metric_name": "m", "score": true, "user_prompt": "p"}"#, "score", "expected a number"),
        (#"{"metric_name": "m", "score": "1"}"#, "user_prompt", "missing"),
        (#"{"metric_name": "m", "score": "1", "user_prompt": "p", "response": 5}"#, "response", "expected a string or null"),
        (#"{"metric_name": "m", "score": "1", "user_prompt": "p", "system_prompt": []}"#, "system_prompt", "expected a string or null"),
    ])
    func namesRecordAndField(text: String, field: String?, message: String) {
        #expect {
            try decode(text)
        } throws: { error in
            guard let e = error as? RecordError else { return false }
            return e.record == 4 && e.field == field && e.message.contains(message)
                && "\(e)".hasPrefix("train_data.json: record 4 (0-based)")
        }
    }
}
