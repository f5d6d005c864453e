/// Where pipeline steps report progress; the CLI prints it, tests ignore it.
public protocol ProgressSink: Sendable {
    /// A line of news ("metrics: 145 added").
    func note(_ message: String)
    /// Work done so far in a phase, for a bar or a progress line.
    func advance(phase: String, done: Int, total: Int?, unit: String)
    /// The phase is over.
    func finish(phase: String)
}

public struct SilentProgress: ProgressSink {
    public init() {}
    public func note(_ message: String) {}
    public func advance(phase: String, done: Int, total: Int?, unit: String) {}
    public func finish(phase: String) {}
}
