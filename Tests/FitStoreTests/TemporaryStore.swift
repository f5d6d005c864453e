import FitStore
import Foundation

/// A store in a fresh temporary folder, removed when the value is released.
final class TemporaryStore {
    let folder: URL
    var path: String { folder.appendingPathComponent("fitstore.sqlite").path }

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("fitstore-test-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func open(_ access: Store.Access = .readWrite, schemaVersion: Int? = nil) throws -> Store {
        try Store(path: path, access: access, schemaVersion: schemaVersion)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }
}
