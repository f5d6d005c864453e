import ArgumentParser
import FitStore

/// `--store PATH`, shared by every command.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store file (SQLite). Created when a writing command needs it.", valueName: "path"))
    var store: String = "./fitstore.sqlite"

    func open(_ access: Store.Access = .readWrite) throws -> Store {
        try Store(path: store, access: access)
    }
}
