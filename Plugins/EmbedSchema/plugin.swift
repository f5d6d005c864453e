import Foundation
import PackagePlugin

/// Embeds the numbered migrations of `schema/*.sql` into the FitStore module.
///
/// Why a plugin: `schema/` is the one place a person edits SQL, and the binary must carry the
/// migrations without a resource bundle beside it. The build reruns the embedder whenever a
/// migration file changes.
@main
struct EmbedSchema: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let schemaDirectory = context.package.directoryURL.appending(path: "schema")
        let names = try FileManager.default.contentsOfDirectory(atPath: schemaDirectory.path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
        let inputs = names.map { schemaDirectory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedSchema.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(names.count) schema migrations",
                executable: try context.tool(named: "ResourceEmbedder").url,
                arguments: ["schema", output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
