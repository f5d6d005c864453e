import Foundation

/// Running other programs from tests: both output pipes drained at once, so a child that
/// fills one pipe's buffer (64 KB) while we block reading the other can never hang a test.
public enum Program {
    public struct Result: Sendable {
        public let status: Int32
        public let output: String
        public let error: String
    }

    /// Runs `executable` with `arguments` (in `directory`, with `environment` added to ours).
    public static func run(_ executable: URL, _ arguments: [String], directory: URL? = nil,
                           environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errors = DispatchQueue(label: "stderr")
        nonisolated(unsafe) var e = Data()
        let group = DispatchGroup()
        errors.async(group: group) { e = err.fileHandleForReading.readDataToEndOfFile() }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: o, as: UTF8.self), error: String(decoding: e, as: UTF8.self))
    }

    /// Runs a program found on PATH (through /usr/bin/env).
    public static func run(_ name: String, _ arguments: [String], directory: URL? = nil) throws -> Result {
        try run(URL(fileURLWithPath: "/usr/bin/env"), [name] + arguments, directory: directory)
    }
}

/// python3 with the reference tools of tools/.
public enum Python {
    /// Whether python3 can import every module named.
    public static func has(_ modules: String...) -> Bool {
        (try? Program.run("python3", ["-c", modules.map { "import \($0)" }.joined(separator: "; ")]).status) == 0
    }

    public static let available = has("sys")
    public static let numpy = has("numpy")
    public static let torch = has("torch")
    public static let sentenceTransformers = has("sentence_transformers")

    /// Runs tools/NAME with python3; its result (stderr is the message of a failure).
    public static func tool(_ name: String, _ arguments: [String]) throws -> Program.Result {
        try Program.run("python3", [Repository.file("tools/\(name)").path] + arguments)
    }
}
