import Foundation

/// The repository the tests run in: where tools/ and Sources/ are.
public enum Repository {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A file of the repository, by its path from the root.
    public static func file(_ path: String) -> URL { root.appendingPathComponent(path) }
}
