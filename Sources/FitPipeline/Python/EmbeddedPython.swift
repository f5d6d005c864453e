import FitFormats
import Foundation

/// Runs a Python script that is compiled into the binary (from FitPipeline's `Resources/`),
/// for the one job where the Python ecosystem has the writer and we do not: Parquet, through
/// pyarrow. fitstore itself never needs Python; only the command that asks for such a format does.
///
/// The interpreter: `$FITSTORE_PYTHON`, else the `python3` beside the fitstore binary (the
/// virtual environment the wheel was installed into, which has pyarrow as a dependency),
/// else the first `python3` on PATH.
struct EmbeddedPython {
    let interpreter: String

    init() throws {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["FITSTORE_PYTHON"], !explicit.isEmpty {
            interpreter = explicit
            return
        }
        let fm = FileManager.default
        let own = (try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
        let beside = URL(fileURLWithPath: own).deletingLastPathComponent().appendingPathComponent("python3").path
        if fm.isExecutableFile(atPath: beside) {
            interpreter = beside
            return
        }
        for folder in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/python3"
            if fm.isExecutableFile(atPath: candidate) {
                interpreter = candidate
                return
            }
        }
        throw FormatError(file: "python3", message: "not found (beside fitstore, on PATH, or as $FITSTORE_PYTHON); it is needed for this format only")
    }

    /// Runs the embedded script `name` with `arguments`; `purpose` and `modules` say in an error
    /// what it was for and what to install. Throws with the script's last error line.
    func run(_ name: String, arguments: [String], purpose: String, modules: String) throws {
        guard let script = embeddedResources[name] else {
            throw FormatError(file: name, message: "the binary carries no such script (a build without FitPipeline's Resources)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: interpreter)
        process.arguments = ["-c", script] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw FormatError(file: interpreter, message: "cannot start it for \(purpose): \(error.localizedDescription)")
        }
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus != 0 else { return }
        let lines = String(decoding: said, as: UTF8.self).split(separator: "\n").map(String.init)
        if process.terminationStatus == 3, let missing = lines.last(where: { $0.hasPrefix("MISSING ") }) {
            throw FormatError(file: interpreter, message: "\(purpose) needs the Python modules \(modules), and this Python has no \(missing.dropFirst(8)) "
                              + "(pip install \(modules.replacingOccurrences(of: " and ", with: " ")), or point FITSTORE_PYTHON at a Python that has them)")
        }
        throw FormatError(file: interpreter, message: "\(purpose) failed (exit \(process.terminationStatus)): \(lines.last ?? "no message")")
    }
}
