/// One row of a DA5401-format `train_data.json` or `test_data.json`.
public struct DA5401Record: Sendable, Equatable {
    public var metricName: String
    public var userPrompt: String
    /// nil when the record has no response (DA5401's train holds one such row).
    public var response: String?
    /// nil when missing, null or whitespace-only.
    public var systemPrompt: String?
    /// nil for test rows.
    public var score: Double?

    public init(metricName: String, userPrompt: String, response: String?, systemPrompt: String?, score: Double?) {
        self.metricName = metricName
        self.userPrompt = userPrompt
        self.response = response
        self.systemPrompt = systemPrompt
        self.score = score
    }

    public enum Kind: Sendable { case train, test }

    /// Validates a parsed element; every problem names the file, record index and field.
    public static func decode(_ value: JSONValue, index: Int, file: String, kind: Kind) throws -> DA5401Record {
        func fail(_ field: String?, _ message: String) -> RecordError {
            RecordError(file: file, record: index, field: field, message: message)
        }
        guard case .object(let object) = value else {
            throw fail(nil, "expected an object, got \(value.typeName)")
        }
        func requiredString(_ field: String) throws -> String {
            guard let v = object[field] else { throw fail(field, "missing") }
            guard case .string(let s) = v else { throw fail(field, "expected a string, got \(v.typeName)") }
            return s
        }
        func optionalString(_ field: String) throws -> String? {
            switch object[field] {
            case nil, .null?: return nil
            case .string(let s)?: return s
            case let v?: throw fail(field, "expected a string or null, got \(v.typeName)")
            }
        }
        let metric = try requiredString("metric_name")
        guard !metric.isEmpty else { throw fail("metric_name", "empty") }
        let prompt = try requiredString("user_prompt")
        let response = try optionalString("response")
        var system = try optionalString("system_prompt")
        if let s = system, s.unicodeScalars.allSatisfy(\.properties.isWhitespace) { system = nil }
        var score: Double?
        if kind == .train {
            guard let raw = object["score"] else { throw fail("score", "missing") }
            let text: String
            switch raw {
            case .number(let lexeme): text = lexeme
            case .string(let s): text = s
            default: throw fail("score", "expected a number or numeric string, got \(raw.typeName)")
            }
            do { score = try ScoreText.parse(text) } catch { throw fail("score", error.description) }
        }
        return DA5401Record(metricName: metric, userPrompt: prompt, response: response, systemPrompt: system, score: score)
    }
}
