import ArgumentParser
import Experiments
import Foundation
import Reproduction

/// `persephone run SPEC [key=value ...]`: resolves a spec and runs its sweep (docs/runner.md).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment spec: resolve, sweep, run resumably, write tables.",
        discussion: """
            Overrides are Hydra-style `key.sub=value`, type-checked against the experiment's schema. \
            A run folder is resumable: run the same command again after an interruption. See docs/runner.md.
            """)

    @Argument(help: "The spec file (experiments/<name>.yaml).")
    var spec: String?

    @Argument(help: "Overrides, `key.sub=value`.")
    var overrides: [String] = []

    @Option(name: .customLong("overlay"), help: "An overlay file of keys laid over the spec before the overrides, such as a scale: experiments/scales/full.yaml (repeatable, in order).")
    var overlays: [String] = []

    @Option(name: .customLong("sweep"), help: "A sweep axis, `key=a,b,c` (repeatable; replaces the spec's axis of that key).")
    var sweeps: [String] = []

    @Flag(help: "List every point (index, id, units) and the distinct units without running anything.")
    var dryRun = false

    @Option(help: "Run shard i of n (0-based; the units at positions p with p mod n == i). Default: SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT when set.")
    var shard: String?

    @Option(help: "Units computed at once (default: the number of active cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "The run folder (default: results/<name>, or results/<name>.shard-<i>-of-<n> for a shard).")
    var out: String?

    @Option(help: "The unit store (default: unit-store beside the run folder, results/unit-store).")
    var store: String?

    @Flag(help: "Move an existing run folder aside (to <folder>.<hash>) and start afresh.")
    var forceNew = false

    @Flag(help: "Move an existing run folder aside only when its spec, code or inputs differ from this run's; else resume.")
    var replaceChanged = false

    @Flag(help: "As --replace-changed, but leave a complete folder whose spec, code and inputs are current untouched (what `make results` uses).")
    var ifChanged = false

    @Flag(help: "List the registered experiment kinds.")
    var list = false

    @Option(help: "Print the keys of an experiment kind (default and reason) as a Markdown table, for docs/specs.md.")
    var keys: String?

    func run() throws {
        let registry = ExperimentRegistry.persephone
        if list {
            let kinds = registry.kinds
            print(kinds.map { "\($0.kind)\t\($0.summary)" }.joined(separator: "\n"))
            return
        }
        if let keys {
            guard let reference = registry.reference(of: keys) else {
                let known = registry.kinds.map(\.kind)
                throw ValidationError("unknown experiment kind `\(keys)`; known: " + known.joined(separator: ", "))
            }
            print(reference.markdown, terminator: "")
            return
        }
        guard let spec else { throw ValidationError("name a spec file, or pass --list") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        try reportingErrors {
            let plan = try registry.plan(specFile: spec, overlays: overlays, overrides: overrides, sweeps: sweeps)
            let chosen = try shard.map(Shard.init(parsing:))
                ?? Shard.fromSlurm(environment: ProcessInfo.processInfo.environment) ?? .all
            let folder = out ?? RunOptions.defaultFolder(name: plan.spec.name, shard: chosen)
            // Before anything is listed, frozen or computed: a missing or unfit input is one error, not one per point.
            try plan.checkInputs()
            if dryRun {
                print(try dryRunListing(plan, shard: chosen, folder: folder), terminator: "")
                let coverage = try plan.coverage(store: store.map(UnitStore.init(root:)) ?? UnitStore.beside(folder: folder),
                                                 code: Provenance.binaryCodeFingerprint)
                let units = coverage.reduce(0) { $0 + $1.units }, stored = coverage.reduce(0) { $0 + $1.stored }
                let left = coverage.compactMap(\.secondsLeft).reduce(0, +)
                print("in the unit store: \(stored) of \(units) point units"
                      + (stored < units ? (coverage.contains { $0.secondsLeft == nil } ? "; no unit of some kinds measured yet"
                                           : String(format: "; about %.0f s of unit time left at the stored units' measured times", left)) : ""))
                return
            }
            guard [forceNew, replaceChanged, ifChanged].filter({ $0 }).count <= 1 else {
                throw ValidationError("--force-new, --replace-changed and --if-changed exclude each other")
            }
            let existing: ExistingResults = forceNew ? .startAfresh : replaceChanged ? .replaceChanged
                : ifChanged ? .skipCurrent : .resume
            let summary = try plan.run(folder: folder, jobs: jobs, shard: chosen, existing: existing,
                                       store: store.map(UnitStore.init(root:)))
            if !summary.succeeded { throw ExitCode.failure }
        }
    }
}

/// Prints the error of a spec, run or table problem as one `error:` line and exits 1;
/// other errors go to ArgumentParser.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as SpecError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    } catch let error as RunError {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
