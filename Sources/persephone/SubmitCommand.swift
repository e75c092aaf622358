import ArgumentParser
import Experiments
import Foundation
import Reproduction

/// `persephone submit SPEC --tasks N`: a Slurm job array of shards plus the merge job that
/// waits for it (docs/runner.md, "Slurm"). The scripts come from `SlurmSubmission`.
struct SubmitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit an experiment to Slurm: a job array of shards, then the merge (and report) after it.",
        discussion: """
            Writes <out>.slurm/array.sbatch (from experiments/slurm.sbatch) and <out>.slurm/merge.sbatch, runs \
            `sbatch --array=0-<N-1>` and `sbatch --dependency=afterok:<array job>`, and prints the job ids. \
            Run it on a login node, in the folder the spec's relative paths start from, with the binary and \
            results on a file system the nodes share. A task that failed: rerun the same command with --only <k>.
            """)

    @Argument(help: "The spec file (experiments/<name>.yaml).")
    var spec: String

    @Argument(help: "Overrides, `key.sub=value` (the same for every task).")
    var overrides: [String] = []

    @Option(name: .customLong("overlay"), help: "An overlay file laid over the spec before the overrides, as for `persephone run` (repeatable, in order).")
    var overlays: [String] = []

    @Option(name: .customLong("sweep"), help: "A sweep axis, `key=a,b,c` (repeatable), as for `persephone run`.")
    var sweeps: [String] = []

    @Option(help: "Array tasks: shards of the experiment's units of work (one user under one method), at most one per unit.")
    var tasks: Int

    @Option(help: "Resubmit only these tasks (comma-separated, with the first submission's --tasks); they resume their shards.")
    var only: String?

    @Option(help: "The Slurm partition (default: the cluster's).")
    var partition: String?

    @Option(help: "Each task's time limit, e.g. 02:00:00 (default: the template's #SBATCH --time).")
    var time: String?

    @Option(help: "The merged run folder (default: results/<name>); shards go to <out>.shard-<k>-of-<N>, scripts and logs to <out>.slurm/.")
    var out: String?

    @Option(help: "The job-array template.")
    var template = "experiments/slurm.sbatch"

    @Flag(help: "Print the scripts and the sbatch command lines; submit nothing.")
    var dryRun = false

    func run() throws {
        try reportingErrors {
            let registry = ExperimentRegistry.persephone
            let plan = try registry.plan(specFile: spec, overlays: overlays, overrides: overrides, sweeps: sweeps)
            let here = FileManager.default.currentDirectoryPath
            let folder = absolute(out ?? RunOptions.defaultFolder(name: plan.spec.name, shard: .all), in: here)
            let submission = try SlurmSubmission(
                spec: absolute(spec, in: here), runArguments: runArguments(in: here),
                tasks: tasks, units: try plan.distinctUnits().units.count, only: try only.map(parseTaskList),
                partition: partition, time: time, binary: try ownBinary(), folder: folder, workingDirectory: here,
                report: paperReport(kind: plan.spec.experiment, folder: folder, registry: registry))
            do {
                try submission.checkFolders(specHash: plan.spec.hash)
            } catch let error as RunError where dryRun {
                FileHandle.standardError.write(Data("warning: \(error)\n".utf8))
            }
            guard let templateText = try? String(contentsOfFile: template, encoding: .utf8) else {
                throw RunError("cannot read the job-array template \(template)",
                               hint: "run in the project folder, or pass --template <file> (experiments/slurm.sbatch is the shipped one)")
            }
            let arrayScript = try submission.arrayScript(template: templateText, templatePath: template)
            if dryRun {
                print("# \(submission.arrayScriptPath)\n\(arrayScript)\n# \(submission.mergeScriptPath)\n\(submission.mergeScript)")
                print((["sbatch"] + submission.arraySbatchArguments).map(shellQuoted).joined(separator: " "))
                print((["sbatch"] + submission.mergeSbatchArguments(after: "<array job id>")).map(shellQuoted).joined(separator: " "))
                return
            }
            guard let sbatch = executable(named: "sbatch", inPath: ProcessInfo.processInfo.environment["PATH"]) else {
                throw RunError("no `sbatch` on PATH: persephone submit hands the jobs to Slurm",
                               hint: "run it where Slurm's commands are (a login node), or add their folder to PATH; --dry-run prints the scripts without Slurm")
            }
            if Provenance.collect().code == nil {
                FileHandle.standardError.write(Data(("warning: the code fingerprint is unknown (uncommitted changes to Sources or "
                    + "Package.swift, or no git checkout): units stored by these tasks are never reused, so a resubmitted task "
                    + "recomputes its shard instead of resuming it; commit first to make tasks resumable\n").utf8))
            }
            try FileManager.default.createDirectory(atPath: submission.scriptFolder, withIntermediateDirectories: true)
            // Written to a temporary name and renamed (.atomic): a job never reads half a script.
            try Data(arrayScript.utf8).write(to: URL(fileURLWithPath: submission.arrayScriptPath), options: .atomic)
            try Data(submission.mergeScript.utf8).write(to: URL(fileURLWithPath: submission.mergeScriptPath), options: .atomic)
            let arrayJob = try submit(sbatch, submission.arraySbatchArguments)
            let mergeJob: String
            do {
                mergeJob = try submit(sbatch, submission.mergeSbatchArguments(after: arrayJob))
            } catch let error as RunError {
                throw RunError("array job \(arrayJob) is queued, but its merge job is not: \(error.message)",
                               hint: "when the array is done run `sbatch --dependency=afterok:\(arrayJob) \(submission.mergeScriptPath)` "
                                   + "or `bash \(submission.mergeScriptPath)`; or `scancel \(arrayJob)`")
            }
            print(followUp(submission, arrayJob: arrayJob, mergeJob: mergeJob))
        }
    }

    /// `persephone run`'s arguments after the spec, the same for every task.
    private func runArguments(in here: String) -> [String] {
        overlays.flatMap { ["--overlay", absolute($0, in: here)] } + overrides + sweeps.flatMap { ["--sweep", $0] }
    }

    /// What to watch and where the results land.
    private func followUp(_ submission: SlurmSubmission, arrayJob: String, mergeJob: String) -> String {
        let indices = submission.taskIndices
        var text = "array job \(arrayJob): tasks \(indices.map(String.init).joined(separator: ",")) of \(submission.tasks) "
            + "-> \(submission.folder).shard-<k>-of-\(submission.tasks)\n"
        text += "merge job \(mergeJob) (after the array) -> \(submission.folder)"
        text += submission.report.map { " and \($0.resultsFolder)/REPORT\($0.scale.map { "-" + $0 } ?? "").md" } ?? ""
        text += "\nfollow: squeue -j \(arrayJob),\(mergeJob)   sacct -j \(arrayJob),\(mergeJob)   logs in \(submission.scriptFolder)/\n"
        var again = ["persephone", "submit", spec] + overlays.flatMap { ["--overlay", $0] } + overrides
            + sweeps.flatMap { ["--sweep", $0] } + ["--tasks", String(tasks)]
        for (option, value) in [("--partition", partition), ("--time", time), ("--out", out)] {
            if let value { again += [option, value] }
        }
        text += "a task that failed: " + again.map(shellQuoted).joined(separator: " ") + " --only <k>"
        return text
    }
}

/// Runs `sbatch` and returns the job id it printed.
private func submit(_ sbatch: String, _ arguments: [String]) throws -> String {
    let result = try runProgram(sbatch, arguments)
    guard result.status == 0, let id = parsableJobID(result.output) else {
        let said = (result.errors + result.output).trimmingCharacters(in: .whitespacesAndNewlines)
        throw RunError("sbatch \(arguments.joined(separator: " ")) failed (exit status \(result.status)): \(said)",
                       hint: "check the partition and time limit against `sinfo -s`, and that slurmctld answers (`sinfo`)")
    }
    return id
}

/// `0,2` -> [0, 2].
private func parseTaskList(_ text: String) throws -> [Int] {
    try text.split(separator: ",", omittingEmptySubsequences: false).map {
        guard let index = Int($0.trimmingCharacters(in: .whitespaces)) else {
            throw RunError("--only `\(text)` is not a list of task numbers", hint: "write --only 2 or --only 0,2")
        }
        return index
    }
}

/// The merge job's report step: for a folder the report reads (`results/<kind>` or
/// `results/<kind>-full` of a registered paper experiment).
private func paperReport(kind: String, folder: String, registry: ExperimentRegistry) -> SlurmSubmission.Report? {
    let name = (folder as NSString).lastPathComponent
    guard registry.kinds.contains(where: { $0.kind == kind }), name == kind || name == kind + "-full" else { return nil }
    return .init(resultsFolder: (folder as NSString).deletingLastPathComponent, scale: name == kind ? nil : "full")
}

/// This process's executable, which the nodes run.
private func ownBinary() throws -> String {
    guard let path = Bundle.main.executablePath else {
        throw RunError("cannot tell where the persephone binary is", hint: "run it by its path, such as .build/release/persephone")
    }
    return (path as NSString).resolvingSymlinksInPath
}

private func absolute(_ path: String, in folder: String) -> String {
    ((path.hasPrefix("/") ? path : folder + "/" + path) as NSString).standardizingPath
}
