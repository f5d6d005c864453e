/// The version of this build, recorded with every run so results can be traced to code.
public enum FitstoreVersion {
    public static let string = "0.1.0"
    public static var codeVersion: String { "fitstore \(string)" }
}
