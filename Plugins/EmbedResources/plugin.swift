import Foundation
import PackagePlugin

/// Embeds the files of a target's `Resources/` folder into the target as string literals
/// (`embeddedResources[name]`).
///
/// Why a plugin and not `resources:`: SwiftPM's `Bundle.module` looks for a bundle beside
/// the binary and then at the absolute build path compiled into it, so a release binary
/// copied to another directory or machine loses its resources. The build reruns the
/// embedder whenever a resource changes.
@main
struct EmbedResources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let directory = target.directoryURL.appending(path: "Resources")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { !$0.hasPrefix(".") }
            .sorted()
        let inputs = names.map { directory.appending(path: $0) }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedResources.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(names.count) resource file(s) into \(target.name)",
                executable: try context.tool(named: "ResourceEmbedder").url,
                arguments: ["files", output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
