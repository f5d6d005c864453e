import FitEncoder
import FitStore
import Foundation

/// Which vectors a command works with: the built-in model under its settings, or the
/// encoders a store has by name (several: their vectors concatenated in each feature block,
/// in this order). Resolved against a store into encoder keys and embed options.
public struct EncoderSelection: Sendable {
    /// The names `--encoder` lists; empty: the built-in model.
    public var names: [String]
    public var modelPath: String
    public var configuration: TextEmbedder.Configuration
    /// The built-in model's pinned digest (`ModelLocator.pinnedSHA256`).
    public var pinnedSHA256: String?
    /// `--precision` when given: the built-in model's vectors are made with it (the
    /// configuration holds it); a folder encoder added with another one is refused rather
    /// than silently giving vectors of its own precision.
    public var askedPrecision: Precision?

    public init(names: [String], modelPath: String, configuration: TextEmbedder.Configuration, pinnedSHA256: String?,
                askedPrecision: Precision? = nil) {
        self.names = names
        self.askedPrecision = askedPrecision
        self.modelPath = modelPath
        self.configuration = configuration
        self.pinnedSHA256 = pinnedSHA256
    }

    /// The identity of the built-in model's vectors under these settings; needs no model
    /// file (commands that only read vectors work without it).
    public func builtInKey() throws -> String {
        try TextEmbedder.identity(modelPath: modelPath, configuration: configuration, pinnedSHA256: pinnedSHA256)
    }

    /// The identity of the one encoder selected (a list is refused: only some commands take one).
    public func key(in store: Store) throws -> String {
        guard names.count <= 1 else {
            throw PipelineError.badEncoderList(list: names.joined(separator: ","), reason: "this command takes one name (only train, export, run and embed take several)")
        }
        return try store.read { try EncoderChoice.key($0, name: names.first, builtInKey: builtInKey) }
    }

    /// The identities of every encoder selected, in order.
    public func keys(in store: Store) throws -> [String] {
        guard !names.isEmpty else { return [try key(in: store)] }
        if let empty = names.firstIndex(where: \.isEmpty) {
            throw PipelineError.badEncoderList(list: names.joined(separator: ","), reason: "name \(empty + 1) of the list is empty")
        }
        guard Set(names).count == names.count else {
            throw PipelineError.badEncoderList(list: names.joined(separator: ","), reason: "it names an encoder twice")
        }
        return try store.read { db in try names.map { try EncoderChoice.key(db, name: $0, builtInKey: builtInKey) } }
    }

    /// What `embed` does for each encoder selected, in order: run the built-in model or a
    /// folder encoder, or check that an imported encoder's vectors cover every text.
    public func embedOptionsEach(in store: Store) throws -> [Embed.Options] {
        guard names.count > 1 else { return [try embedOptions(in: store, name: names.first)] }
        _ = try keys(in: store)  // refuses unknown names before anything runs
        return try names.map { try embedOptions(in: store, name: $0) }
    }

    public func embedOptions(in store: Store, name: String?) throws -> Embed.Options {
        var options = Embed.Options(modelPath: modelPath, configuration: configuration, pinnedSHA256: pinnedSHA256)
        if let name, name != TextEmbedder.builtInName {
            let key = try store.read { try EncoderChoice.key($0, name: name, builtInKey: builtInKey) }
            if let registered = try store.read({ try Encoder.keyed($0, key) }), registered.source == .folder {
                let settings = try FolderEncoders.settings(of: registered)
                if let asked = askedPrecision, asked != settings.madeWith {
                    throw PipelineError.precisionFixed(name: name, has: settings.madeWith.rawValue, asked: asked.rawValue)
                }
                options.folder = (name, key, settings)
            } else {
                if let asked = askedPrecision {
                    throw PipelineError.precisionFixed(name: name, has: "imported", asked: asked.rawValue)
                }
                options.imported = (name, key)
            }
        }
        return options
    }
}
