import FitEncoder
import FitStore
import GRDB

/// Which encoder's vectors a command uses: `--encoder NAME`, where the built-in model's name
/// ("e5-small") means the built-in model under the command's prefix and length-policy flags,
/// and any other name one the store has registered (imported vectors, a model folder).
public enum EncoderChoice {
    /// The key of the vectors `name` selects (nil: the built-in one), or an error that lists
    /// the store's encoders.
    public static func key(_ db: Database, name: String?, builtInKey: () throws -> String) throws -> String {
        guard let name, name != TextEmbedder.builtInName else { return try builtInKey() }
        guard let encoder = try Encoder.named(db, name) else {
            throw PipelineError.unknownEncoder(name: name, known: try Encoder.textEncoders(db).encoders.compactMap(\.encoder.name))
        }
        return encoder.key
    }

    /// The key the vectors imported under `name` have (one that does not exist yet included).
    public static func importedKey(_ name: String) -> String { "imported:\(name)" }
}
