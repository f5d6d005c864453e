import GRDB

/// One line per active sample of a data set, with what the report charts: its split,
/// origin ('real' or the generator), score, metric, and the lengths of its texts.
public struct SampleOverview: Sendable {
    public var id: Int64
    public var split: String
    public var origin: String
    public var score: Double?
    public var metric: String
    public var major: String
    public var promptChars: Int?
    public var responseChars: Int?
    public var noResponse: Bool
    public var noSystem: Bool
    public var promptText: Int64?
    public var responseText: Int64?

    public static func fetch(_ db: Database, dataset: Int64) throws -> [SampleOverview] {
        try Row.fetchAll(db, sql: """
            SELECT s.split, COALESCE(s.generator, 'real') AS origin, s.score, m.name, m.major,
                   pt.chars AS pc, rt.chars AS rc, s.response_text_id IS NULL AS nr, s.system_text_id IS NULL AS ns, s.prompt_text_id,
                   s.response_text_id, s.id
              FROM sample s JOIN metric m ON m.id = s.metric_id
              LEFT JOIN text pt ON pt.id = s.prompt_text_id LEFT JOIN text rt ON rt.id = s.response_text_id
             WHERE s.dataset_id = ? AND s.retired_run_id IS NULL
            """, arguments: [dataset]).map {
            SampleOverview(id: try $0.stored(in: "sample")[11], split: try $0.stored(in: "sample")[0], origin: try $0.stored(in: "sample")[1], score: try $0.stored(in: "sample").score(2), metric: try $0.stored(in: "sample")[3], major: try $0.stored(in: "sample")[4], promptChars: try $0.stored(in: "sample")[5],
                           responseChars: try $0.stored(in: "sample")[6], noResponse: try $0.stored(in: "sample")[7], noSystem: try $0.stored(in: "sample")[8], promptText: try $0.stored(in: "sample")[9], responseText: try $0.stored(in: "sample")[10])
        }
    }
}
