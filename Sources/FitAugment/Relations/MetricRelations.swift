import FitFormats
import Foundation

/// Which metrics oppose each other and which can stand in for each other: the curated data
/// behind the seed's first two augmentation stages. Loaded from a JSON file:
///
///     {"dataset": "...", "about": "...",
///      "opposites": {"a": "b", "b": "a", ...},        symmetric, one opposite per metric
///      "substitutes": {"a": ["c", "d"], ...}}          symmetric
///
/// Loading validates everything: known names (when the data set's metrics are given),
/// symmetry, no self-pairs, and no pair that is both opposite and substitute.
public struct MetricRelations: Sendable, Equatable {
    public let opposites: [String: String]
    public let substitutes: [String: [String]]
    public let source: String

    public struct Invalid: Error, CustomStringConvertible {
        public let file: String
        public let message: String
        public var description: String { "\(file): \(message)" }
    }

    public init(opposites: [String: String], substitutes: [String: [String]], source: String) {
        self.opposites = opposites
        self.substitutes = substitutes
        self.source = source
    }

    public static func load(_ url: URL, metrics: Set<String>? = nil) throws -> MetricRelations {
        try load(root: try JSONDocument.parse(contentsOf: url), file: url.path, metrics: metrics)
    }

    static func load(root document: JSONValue, file: String, metrics: Set<String>?) throws -> MetricRelations {
        func fail(_ m: String) -> Invalid { Invalid(file: file, message: m) }
        guard case .object(let root) = document else { throw fail("expected a JSON object") }
        var opposites: [String: String] = [:]
        if let o = root["opposites"] {
            guard case .object(let map) = o else { throw fail("'opposites' must be an object from metric to metric") }
            for (k, v) in zip(map.keys, map.values) {
                guard case .string(let s) = v else { throw fail("opposites['\(k)']: expected a metric name") }
                opposites[k] = s
            }
        }
        var substitutes: [String: [String]] = [:]
        if let s = root["substitutes"] {
            guard case .object(let map) = s else { throw fail("'substitutes' must be an object from metric to a list of metrics") }
            for (k, v) in zip(map.keys, map.values) {
                guard case .array(let items) = v else { throw fail("substitutes['\(k)']: expected a list of metric names") }
                substitutes[k] = try items.map {
                    guard case .string(let name) = $0 else { throw fail("substitutes['\(k)']: expected metric names") }
                    return name
                }
            }
        }
        let relations = MetricRelations(opposites: opposites, substitutes: substitutes, source: file)
        try relations.validate(metrics: metrics, file: file)
        return relations
    }

    public func validate(metrics: Set<String>?, file: String) throws {
        func fail(_ m: String) -> Invalid { Invalid(file: file, message: m) }
        for (a, b) in opposites.sorted(by: { $0.key < $1.key }) {
            if a == b { throw fail("opposites['\(a)']: a metric cannot be its own opposite") }
            if opposites[b] != a { throw fail("opposites['\(a)'] = '\(b)' but opposites['\(b)'] is \(opposites[b].map { "'\($0)'" } ?? "missing"): opposites must be symmetric") }
            if let metrics {
                for n in [a, b] where !metrics.contains(n) { throw fail("opposites: unknown metric '\(n)'") }
            }
        }
        for (a, list) in substitutes.sorted(by: { $0.key < $1.key }) {
            for b in list {
                if a == b { throw fail("substitutes['\(a)']: a metric cannot substitute itself") }
                if !(substitutes[b] ?? []).contains(a) { throw fail("substitutes['\(a)'] lists '\(b)' but not the reverse: substitutes must be symmetric") }
                if opposites[a] == b { throw fail("'\(a)' and '\(b)' are both opposites and substitutes") }
                if let metrics, !metrics.contains(b) { throw fail("substitutes['\(a)']: unknown metric '\(b)'") }
            }
            if let metrics, !metrics.contains(a) { throw fail("substitutes: unknown metric '\(a)'") }
        }
    }

    /// Every metric name the relations mention.
    public var names: Set<String> {
        Set(opposites.keys).union(opposites.values).union(substitutes.keys).union(substitutes.values.flatMap { $0 })
    }

    /// The relation files shipped with fitstore.
    public static let shippedNames = ["relations-da5401"]

    /// A shipped relations file, validated. The files are compiled into the binary
    /// (Resources/, embedded at build time), so a copied binary still has them.
    public static func shipped(_ name: String) throws -> MetricRelations? {
        guard let text = embeddedResources[name] else { return nil }
        let source = "builtin:\(name).json"
        return try load(root: try JSONDocument.parse(Array(text.utf8), file: source), file: source, metrics: nil)
    }

    /// The shipped relations whose names all belong to `metrics`, if any.
    public static func builtIn(for metrics: Set<String>) throws -> MetricRelations? {
        for name in shippedNames {
            if let relations = try shipped(name), relations.names.isSubset(of: metrics) { return relations }
        }
        return nil
    }
}
