import ArgumentParser
import Experiments
import Reproduction

/// `persephone merge DIR...`: joins shard folders into one run folder with its tables.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the unit records of shard folders (same spec hash) into tables.")

    @Argument(help: "The shard folders written by `persephone run --shard i/n`.")
    var folders: [String] = []

    @Option(help: "The merged run folder (default: results/<name> of the shards' spec).")
    var out: String?

    func run() throws {
        guard !folders.isEmpty else { throw ValidationError("name the shard folders to merge") }
        try reportingErrors {
            let output = try out ?? "results/\(frozenSpecName(of: folders[0]))"
            let registry = ExperimentRegistry.persephone
            let summary = try mergeRunFolders(folders, into: output, replan: { try registry.plan(frozen: $0, folder: $1) })
            if !summary.failed.isEmpty || !summary.missing.isEmpty { throw ExitCode.failure }
        }
    }
}
