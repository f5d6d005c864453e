import ArgumentParser
import FitPipeline
import FitStore
import Foundation

/// `--store PATH`, shared by every command.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store file (SQLite). Created when a writing command needs it.", valueName: "path"))
    var store: String = "./fitstore.sqlite"

    /// Opens the store. Only the commands that bring data in (`ingest`, `demo`, `run`) pass
    /// `create`: for every other one a path with no store is a mistyped --store, refused
    /// naming it, instead of a new empty store and a command that did nothing.
    func open(_ access: Store.Access = .readWrite, create: Bool = false) throws -> Store {
        ErrorWords.storePath = store
        let exists = FileManager.default.fileExists(atPath: store)
        if !exists && (!create || access == .readOnly) { throw StoreError.missing(path: store) }
        if access == .readWrite && !exists { CreatedStore.path = store }
        return try Store(path: store, access: access)
    }

    /// Read-only and sandboxed, for `fitstore sql`.
    func openForSQL(_ sandbox: SQLSandbox) throws -> Store {
        ErrorWords.storePath = store
        return try Store(path: store, access: .readOnly, sandbox: sandbox)
    }

    /// Refuses, before any work, an output path that is the store, one of its companion
    /// files or a link to them, a folder, or an SQLite file (`OutputFile.check`).
    func checkOutput(_ path: String, option: String = "--out") throws {
        try OutputGuard.check(path, store: store, option: option)
        try OutputFile.check(URL(fileURLWithPath: path), store: store, option: option)
    }

    /// For commands that read and may also write (predict stores its predictions): the
    /// store read-only when it cannot be written here, so that reading still works.
    func openWritableIfPossible() throws -> Store {
        guard FileManager.default.fileExists(atPath: store) else { throw StoreError.missing(path: store) }
        let folder = URL(fileURLWithPath: store).deletingLastPathComponent().path
        let writable = FileManager.default.isWritableFile(atPath: store) && FileManager.default.isWritableFile(atPath: folder)
        return try open(writable ? .readWrite : .readOnly)
    }
}
