/// What one ingest did. The counts are also the run row's `counts` JSON.
public struct IngestReport: Sendable {
    public struct Counts: Codable, Sendable, Equatable {
        public var metricsAdded = 0
        public var metricsUpdated = 0
        public var metricsUnlisted = 0
        public var definitionsChanged = 0
        public var metricVectorsAdded = 0
        public var trainAdded = 0
        public var trainChanged = 0
        public var trainUnchanged = 0
        public var trainRetired = 0
        public var testAdded = 0
        public var testChanged = 0
        public var testUnchanged = 0
        public var testRetired = 0
        public var textsAdded = 0
        public var responsesMissing = 0
        public var systemPromptsMissing = 0
        public var bytesRead = 0

        public var rowsWritten: Int {
            metricsAdded + metricsUpdated + definitionsChanged + metricVectorsAdded + trainAdded + trainChanged
                + testAdded + testChanged + textsAdded + trainRetired + testRetired
        }

        enum CodingKeys: String, CodingKey {
            case metricsAdded = "metrics_added", metricsUpdated = "metrics_updated"
            case metricsUnlisted = "metrics_unlisted", definitionsChanged = "definitions_changed"
            case metricVectorsAdded = "metric_vectors_added"
            case trainAdded = "train_added", trainChanged = "train_changed"
            case trainUnchanged = "train_unchanged", trainRetired = "train_retired"
            case testAdded = "test_added", testChanged = "test_changed"
            case testUnchanged = "test_unchanged", testRetired = "test_retired"
            case textsAdded = "texts_added", responsesMissing = "responses_missing"
            case systemPromptsMissing = "system_prompts_missing", bytesRead = "bytes_read"
        }
    }

    public var dataset: String
    /// nil when nothing changed and no run was recorded.
    public var runID: Int64?
    public var counts = Counts()
    public var warnings: [String] = []
    public var seconds: Double = 0
    /// A dry run: the counts say what would happen; nothing was written.
    public var dryRun = false

    public var changed: Bool { runID != nil }
}
