import Foundation

/// One sentence for why stored JSON could not be decoded into one of our settings types,
/// naming the path of the value (`features.promptDims`) instead of Swift's DecodingError dump.
public enum DecodingWords {
    public static func sentence(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else {
            let ns = error as NSError
            if ns.domain == NSCocoaErrorDomain { return "it is not valid JSON" }
            return "\(error)"
        }
        func path(_ keys: [any CodingKey]) -> String {
            let parts = keys.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            let joined = parts.enumerated().map { i, p in p.hasPrefix("[") || i == 0 ? p : "." + p }.joined()
            return joined.isEmpty ? "the top level" : joined
        }
        switch decoding {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null where \(noun(type)) is needed"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) is not \(noun(type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "it is not valid JSON" : "\(path(context.codingPath)) holds a value out of range"
        @unknown default:
            return "it cannot be decoded"
        }
    }

    static func noun(_ type: Any.Type) -> String {
        switch "\(type)" {
        case "Int", "Int64", "Int32", "UInt64": "a whole number"
        case "Double", "Float": "a number"
        case "String": "text"
        case "Bool": "true or false"
        case let name where name.hasPrefix("Array"): "a list"
        case let name where name.hasPrefix("Dictionary"): "an object"
        default: "a value of the expected kind"
        }
    }
}
