import ArgumentParser
import FitEncoder
import FitPipeline
import FitStore
import FitTrain

// Options with a fixed set of values, parsed once by ArgumentParser: a wrong value is refused
// with the values it takes, before any command runs.

extension FoldGroupChoice: ExpressibleByArgument {}
extension FeatureSelection.Split: ExpressibleByArgument {}
extension Export.Format: ExpressibleByArgument {}
extension FeatureSelection.VectorBlock: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}

/// on, off, or auto (the model's default).
enum Switch: String, ExpressibleByArgument, CaseIterable {
    case on, off, auto

    /// nil for auto.
    var value: Bool? { self == .auto ? nil : self == .on }
}

/// A comma-separated list of values of a fixed set (`--omit prompt,metric`).
struct CommaList<Element: ExpressibleByArgument & RawRepresentable & CaseIterable>: ExpressibleByArgument where Element.RawValue == String {
    var values: [Element]

    init(_ values: [Element]) { self.values = values }

    init?(argument: String) {
        let parts = argument.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var values: [Element] = []
        for part in parts {
            guard let value = Element(rawValue: part) else { return nil }
            values.append(value)
        }
        self.values = values
    }

    var defaultValueDescription: String { values.map(\.rawValue).joined(separator: ",") }
    static var allValueStrings: [String] { Element.allCases.map(\.rawValue) }
}

/// The MLP's hidden widths, `1024,512,256`: positive whole numbers within the network's limits.
struct Widths: ExpressibleByArgument {
    var values: [Int]

    init(_ values: [Int]) { self.values = values }

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        // The inputs are known only once the features are; one input checks the widths' own limits.
        guard !values.isEmpty, values.count == parts.count,
              ResidualMLP.Config.problem(inputs: 1, widths: values, dropout: 0) == nil else { return nil }
        self.values = values
    }

    var defaultValueDescription: String { values.map(String.init).joined(separator: ",") }
}

/// `--length-policy`: one parser, LengthPolicy's own.
extension LengthPolicy: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public var defaultValueDescription: String { description }
}

extension Augment.Stage: ExpressibleByArgument {}

/// A band of scores, `LOW-HIGH` within 0-10 (`--low-band 1-3`).
struct ScoreBand: ExpressibleByArgument {
    var range: ClosedRange<Double>

    init(_ range: ClosedRange<Double>) { self.range = range }

    init?(argument: String) {
        let parts = argument.split(separator: "-", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let low = parts[0], let high = parts[1], low <= high, low >= 0, high <= 10 else { return nil }
        range = low...high
    }

    var defaultValueDescription: String { "\(ScoreBand.text(range.lowerBound))-\(ScoreBand.text(range.upperBound))" }
    static func text(_ d: Double) -> String { d == d.rounded() ? String(Int(d)) : "\(d)" }
}
