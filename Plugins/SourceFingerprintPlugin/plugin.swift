import Foundation
import PackagePlugin

/// Embeds the code fingerprint (`SourceFingerprint`) into the target it is applied to as
/// `embeddedSourceFingerprint`. The command's inputs are the files the fingerprint covers,
/// so any change to them regenerates it.
@main
struct SourceFingerprintPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedSourceFingerprint.swift")
        // The same files as SourceFingerprint.files (plugins cannot import library targets).
        var inputs = [root.appendingPathComponent("Package.swift")]
        let sources = root.appendingPathComponent("Sources")
        if let walker = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: [.isRegularFileKey],
                                                       options: [.skipsHiddenFiles]) {
            for case let url as URL in walker where ["swift", "c", "h", "modulemap"].contains(url.pathExtension) {
                inputs.append(url)
            }
        }
        return [.buildCommand(displayName: "Embedding the code fingerprint of Sources/ and Package.swift",
                              executable: try context.tool(named: "source-fingerprint").url,
                              arguments: [root.path, output.path],
                              inputFiles: inputs, outputFiles: [output])]
    }
}
