/// Why a pipeline step cannot go on, each case with what to do about it. (Failures of the
/// store itself are `StoreError`s; bad input files are the format errors that name file,
/// record and field.)
public enum PipelineError: Error, CustomStringConvertible, Sendable {
    /// Texts need vectors and the model that makes them is not on this machine.
    case modelMissing(path: String, textsWithoutVectors: Int, encoder: String)

    public var description: String {
        switch self {
        case .modelMissing(let path, let count, let encoder):
            "\(count) text(s) in use have no vector under encoder \(encoder), and the model file \(path) is missing: "
                + "run tools/setup (it fetches the model), or point --model-file at a copy"
        }
    }
}
