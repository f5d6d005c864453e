import ArgumentParser
import CFitSystem
import FitFormats
import FitStore
import Foundation

@main
struct Fitstore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fitstore",
        abstract: "Learn an LLM judge's fitness score (0-10) for (metric, prompt, response) triples, keeping every artifact in one SQLite file.",
        discussion: """
            Everything fitstore reads or makes (records, texts, vectors, synthetic samples, checkpoints, predictions) lives in one SQLite file, ./fitstore.sqlite unless --store says otherwise. Every command that writes records a run; inspect runs, samples and provenance with `fitstore sql` or the plain sqlite3 shell (see docs/sql.md).

            Start with:
              fitstore run [DIR]                the whole job, ingest to submission.csv
              fitstore demo                     write and ingest a small generated data set
              fitstore ingest DIR               ingest a DA5401-format folder
              fitstore stats                    what the store holds
              fitstore sql "SELECT * FROM run_summary"
              fitstore report --out report.html one offline HTML file of charts
              fitstore export --out DIR         the training matrix as .npy and safetensors
            """,
        version: FitstoreVersion.string,
        subcommands: [DemoCommand.self, IngestCommand.self, StatsCommand.self, SQLCommand.self, CodecsCommand.self, EncodeCommand.self, EmbedCommand.self, EncodersCommand.self, TextsCommand.self, VectorsCommand.self, GCCommand.self, AugmentCommand.self, RelationsCommand.self, AuditCommand.self, TrainCommand.self, PredictCommand.self, ScoreCommand.self, CheckpointsCommand.self, BlendCommand.self, PromoteCommand.self, TuneCommand.self, ExportCommand.self, ReportCommand.self, RunCommand.self])

    /// Parses and runs the command. Errors of parsing and of option checks are
    /// ArgumentParser's (with the usage text); an error while the command runs is one
    /// sentence (`ErrorWords`, else the error's own words), cut to a readable length, exit 1;
    /// and a store this process created for a command that failed is removed.
    static func main() {
        // Every line reaches a file or pipe when it is printed, as on a terminal: a redirected
        // `run > log` shows each stage when it ends, not all of them at exit.
        fitstore_line_buffer_stdout()
        // The numeric modules are compiled for x86-64 with AVX2 and FMA: on a CPU without them
        // their first instruction would kill the process with SIGILL. Say so instead.
        var missing = [CChar](repeating: 0, count: 256)
        fitstore_missing_cpu_features(&missing, missing.count)
        let lacking = String(decoding: missing.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // FITSTORE_PRETEND_CPU_LACKS names a feature to test this refusal on a CPU that has it.
        let named = lacking.isEmpty ? ProcessInfo.processInfo.environment["FITSTORE_PRETEND_CPU_LACKS"] ?? "" : lacking
        if !named.isEmpty {
            FileHandle.standardError.write(Data("Error: this CPU lacks \(named), which fitstore is built for (x86-64 with AVX2 and FMA, Intel since 2013 (Haswell), AMD since 2015 (Excavator)); it cannot run here.\n".utf8))
            Foundation.exit(1)
        }
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch {
            if !(error is CleanExit) { CreatedStore.removeIfEmpty() }
            // ArgumentParser's own (help, version, a parse error found late) are its to print.
            if error is CleanExit || error is ExitCode || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
                exit(withError: error)
            }
            let words = ErrorWords.message(for: error) ?? (error as? ValidationError)?.message ?? "\(error)"
            FileHandle.standardError.write(Data("Error: \(Excerpt.message(words))\n".utf8))
            Foundation.exit(1)
        }
    }
}
