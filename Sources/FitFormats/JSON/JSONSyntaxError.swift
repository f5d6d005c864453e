/// A JSON document that is not well-formed, located by file, line, column and byte offset.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int
    public let column: Int
    public let byteOffset: Int
    public let message: String

    public var description: String {
        "\(file): line \(line), column \(column) (byte \(byteOffset)): \(message)"
    }
}
