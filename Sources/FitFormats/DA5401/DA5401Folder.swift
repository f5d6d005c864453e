import Foundation

/// The files of a DA5401-format folder. Only `metric_names.json` is required.
public struct DA5401Folder: Sendable {
    public enum Role: String, Sendable, CaseIterable {
        case metricNames = "metric_names"
        case metricEmbeddings = "metric_embeddings"
        case metricDefinitions = "metric_definitions"
        case train
        case test

        public var fileName: String {
            switch self {
            case .metricNames: "metric_names.json"
            case .metricEmbeddings: "metric_name_embeddings.npy"
            case .metricDefinitions: "metric_definitions.json"
            case .train: "train_data.json"
            case .test: "test_data.json"
            }
        }
    }

    public let url: URL
    /// Files present, by role, in ingest order.
    public let files: [(role: Role, url: URL)]

    public init(_ url: URL) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw FormatError(file: url.path, message: "not a folder: ingest takes a DA5401-format folder")
        }
        self.url = url
        var files: [(Role, URL)] = []
        for role in Role.allCases {
            let file = url.appendingPathComponent(role.fileName)
            // Anything under the name counts as there (a link that loops or leads nowhere
            // included) and must be a readable regular file: never silently skipped.
            if InputFile.isPresent(file.path) {
                try InputFile.requireRegular(file)
                files.append((role, file))
            }
        }
        guard files.contains(where: { $0.0 == .metricNames }) else {
            throw FormatError(file: url.appendingPathComponent(Role.metricNames.fileName).path,
                              message: "missing: a DA5401-format folder needs metric_names.json")
        }
        self.files = files
    }

    public func file(_ role: Role) -> URL? { files.first { $0.role == role }?.url }

    /// Reads `metric_names.json`: a JSON array of unique, non-empty strings.
    public static func readMetricNames(_ url: URL) throws -> [String] {
        let value = try JSONDocument.parse(contentsOf: url)
        guard case .array(let items) = value else {
            throw RecordError(file: url.path, record: nil, field: nil, message: "expected a JSON array of metric names, got \(value.typeName)")
        }
        var names: [String] = []
        var firstIndex: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            guard case .string(let name) = item else {
                throw RecordError(file: url.path, record: i, field: nil, message: "expected a string, got \(item.typeName)")
            }
            guard !name.trimmingWhitespace().isEmpty else {
                throw RecordError(file: url.path, record: i, field: nil, message: "empty metric name")
            }
            if let earlier = firstIndex[name] {
                throw RecordError(file: url.path, record: i, field: nil, message: "duplicate metric name \(Excerpt.quote(name)) (first at record \(earlier))")
            }
            firstIndex[name] = i
            names.append(name)
        }
        guard !names.isEmpty else {
            throw RecordError(file: url.path, record: nil, field: nil, message: "no metric names")
        }
        return names
    }

    /// Reads `metric_definitions.json`: an object from metric name to definition text.
    public static func readMetricDefinitions(_ url: URL, known: Set<String>) throws -> [(name: String, definition: String)] {
        let value = try JSONDocument.parse(contentsOf: url)
        guard case .object(let object) = value else {
            throw RecordError(file: url.path, record: nil, field: nil, message: "expected an object from metric name to definition, got \(value.typeName)")
        }
        var out: [(String, String)] = []
        for (i, name) in object.keys.enumerated() {
            guard known.contains(name) else {
                throw RecordError(file: url.path, record: i, field: name, message: "unknown metric name (not in metric_names.json)")
            }
            guard case .string(let text) = object.values[i] else {
                throw RecordError(file: url.path, record: i, field: name, message: "expected a string, got \(object.values[i].typeName)")
            }
            out.append((name, text))
        }
        return out
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var s = Substring(self)
        while let f = s.unicodeScalars.first, f.properties.isWhitespace { s = s.dropFirst() }
        while let l = s.unicodeScalars.last, l.properties.isWhitespace { s = s.dropLast() }
        return s
    }
}
