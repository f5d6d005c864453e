import Foundation

/// A fresh folder under the system's temporary directory, removed when released.
public final class TemporaryDirectory {
    public let url: URL

    public init(_ prefix: String = "fitstore-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(at: url) }
}
