import ArgumentParser
import FitStore
import Foundation

/// `--store PATH`, shared by every command.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store file (SQLite). Created when a writing command needs it.", valueName: "path"))
    var store: String = "./fitstore.sqlite"

    func open(_ access: Store.Access = .readWrite) throws -> Store {
        ErrorWords.storePath = store
        if access == .readWrite && !FileManager.default.fileExists(atPath: store) { CreatedStore.path = store }
        return try Store(path: store, access: access)
    }

    /// For commands that read and may also write (predict stores its predictions): the
    /// store read-only when it cannot be written here, so that reading still works.
    func openWritableIfPossible() throws -> Store {
        let folder = URL(fileURLWithPath: store).deletingLastPathComponent().path
        let writable = FileManager.default.isWritableFile(atPath: store) && FileManager.default.isWritableFile(atPath: folder)
        return try open(writable ? .readWrite : .readOnly)
    }
}
