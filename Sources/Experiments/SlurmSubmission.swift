import Foundation

/// What `persephone submit` hands to Slurm for one sharded experiment: a job-array script
/// whose task `k` runs shard `k` of `tasks` into `<folder>.shard-<k>-of-<tasks>`, and a
/// merge script, submitted as a job that waits for the array (`--dependency=afterok`),
/// joining the shards into `folder` (and, for the paper's experiments, redrawing the
/// report). Pure: the paths and texts only; the command runs `sbatch` (docs/runner.md, "Slurm").
///
/// The array script bakes in the shard count, so a task resubmitted alone
/// (`sbatch --array=<k> <script>`, or `submit ... --only k`) still runs shard `k` of
/// `tasks` and resumes its folder.
public struct SlurmSubmission: Sendable, Equatable {
    /// The spec file, as `persephone run` is to read it on the nodes.
    public var spec: String
    /// What follows the spec on `persephone run`'s command line: overrides and `--sweep` options, the same for every task.
    public var runArguments: [String]
    /// Array tasks, one shard each.
    public var tasks: Int
    /// Array indices submitted now: every task, or the ones being resubmitted.
    public var taskIndices: [Int]
    /// `--partition`, or nil for the cluster's default.
    public var partition: String?
    /// `--time` (Slurm's `[days-]hours:minutes:seconds` forms), or nil for the template's.
    public var time: String?
    /// The `persephone` binary the nodes run (on a file system they share).
    public var binary: String
    /// The merged run folder; shards go beside it.
    public var folder: String
    /// The job's working directory: where relative paths of the spec (checkpoint, dataset) resolve.
    public var workingDirectory: String
    /// The report step of the merge job, or nil.
    public var report: Report?

    /// `persephone report --results RESULTS [--scale SCALE]`: how the merge job redraws
    /// REPORT.md when the merged folder is one of the paper's (`<kind>` or `<kind>-<scale>`).
    public struct Report: Sendable, Equatable {
        public var resultsFolder: String
        public var scale: String?

        public init(resultsFolder: String, scale: String?) {
            self.resultsFolder = resultsFolder
            self.scale = scale
        }
    }

    /// Checks the request against the work there is: `units` is what a shard splits (the
    /// plan's distinct units, `RunPlan.distinctUnits()`), so at most that many tasks each get
    /// something to do.
    public init(spec: String, runArguments: [String], tasks: Int, units: Int, only: [Int]? = nil,
                partition: String? = nil, time: String? = nil, binary: String, folder: String,
                workingDirectory: String, report: Report? = nil) throws {
        guard tasks >= 1 else {
            throw RunError("--tasks \(tasks): a submission needs at least one task",
                           hint: "pass --tasks N with 1 <= N <= \(units) (the spec's units of work)")
        }
        guard tasks <= units else {
            throw RunError("--tasks \(tasks) is more than the \(units) unit\(units == 1 ? "" : "s") of work of \(spec): "
                           + "\(tasks - units) task\(tasks - units == 1 ? " would" : "s would") have nothing to do",
                           hint: "pass --tasks \(units) or fewer (`persephone run \(spec) --dry-run` lists the units)")
        }
        let indices = only ?? Array(0..<tasks)
        guard !indices.isEmpty else {
            throw RunError("--only names no task", hint: "name the tasks to resubmit, such as --only 2 or --only 0,2")
        }
        if let bad = indices.first(where: { !(0..<tasks).contains($0) }) {
            throw RunError("--only \(bad): there is no task \(bad) among \(tasks)",
                           hint: "name tasks between 0 and \(tasks - 1), with the same --tasks as the first submission")
        }
        for (option, value) in [("--partition", partition), ("--time", time)] {
            if let value, value.isEmpty || value.contains(where: \.isWhitespace) {
                throw RunError("\(option) `\(value)` is not a Slurm \(option.dropFirst(2))",
                               hint: option == "--time" ? "write minutes or [days-]hours:minutes:seconds, such as --time 02:00:00"
                                                        : "name one partition (`sinfo -s` lists them)")
            }
        }
        self.spec = spec
        self.runArguments = runArguments
        self.tasks = tasks
        self.taskIndices = Array(Set(indices)).sorted()
        self.partition = partition
        self.time = time
        self.binary = binary
        self.folder = folder
        self.workingDirectory = workingDirectory
        self.report = report
    }

    /// Refuses, before anything is queued, folders the jobs would refuse: a shard folder or
    /// the merged folder that froze another spec than `specHash` (the runner never mixes them).
    public func checkFolders(specHash: String) throws {
        for path in taskIndices.map(shardFolder) + [folder] {
            guard let frozen = try RunFolder(path: path).readFrozenSpec(), frozen.hash != specHash else { continue }
            throw RunError("\(path) holds the results of spec \(frozen.hash), but this spec resolves to \(specHash); "
                           + "its job would refuse to mix them",
                           hint: "remove \(path), or pass --out for another folder")
        }
    }

    /// The folder task `index` writes: the runner's own shard folder naming.
    public func shardFolder(_ index: Int) -> String { "\(folder).shard-\(index)-of-\(tasks)" }

    /// Where the scripts and the jobs' logs go.
    public var scriptFolder: String { folder + ".slurm" }
    public var arrayScriptPath: String { scriptFolder + "/array.sbatch" }
    public var mergeScriptPath: String { scriptFolder + "/merge.sbatch" }

    var jobName: String { "persephone-" + (folder.split(separator: "/").last.map(String.init) ?? "run") }

    /// The job-array script: the template with this submission's settings inserted after
    /// its last `#SBATCH` line (sbatch reads directives only up to the first command). The
    /// template's command must read `SPEC`, `BIN`, `SHARD`, `OUT` and pass `"$@"` to `run`.
    public func arrayScript(template: String, templatePath: String) throws -> String {
        var lines = template.components(separatedBy: "\n")
        guard let last = lines.lastIndex(where: { $0.hasPrefix("#SBATCH") }) else {
            throw RunError("\(templatePath) has no #SBATCH line", hint: "use the shipped experiments/slurm.sbatch as the template")
        }
        for needed in ["$SPEC", "$BIN", "$SHARD", "$OUT", "\"$@\""] where !template.contains(needed) {
            throw RunError("\(templatePath) does not use \(needed)",
                           hint: "its command must be `\"$BIN\" run \"$SPEC\" ... --shard \"$SHARD\" --out \"$OUT\" \"$@\"`, as in the shipped experiments/slurm.sbatch")
        }
        let settings = [
            "",
            "# Written by `persephone submit` from \(templatePath): task k of --array runs shard k of \(tasks).",
            "# Resubmit a task alone with `sbatch --array=<k> \(shellQuoted(arrayScriptPath))`; it resumes its shard.",
            "SPEC=\(shellQuoted(spec))",
            "BIN=\(shellQuoted(binary))",
            "SHARD=\"${SLURM_ARRAY_TASK_ID:?submit this script as a job array, such as sbatch --array=0-\(tasks - 1)}/\(tasks)\"",
            "OUT=\(shellQuoted(folder)).shard-\"$SLURM_ARRAY_TASK_ID\"-of-\(tasks)",
            "set -- " + runArguments.map(shellQuoted).joined(separator: " "),
        ]
        lines.insert(contentsOf: settings, at: last + 1)
        return lines.joined(separator: "\n")
    }

    /// The merge job: joins every shard folder into `folder`, then redraws the report.
    public var mergeScript: String {
        var lines = [
            "#!/bin/bash",
            "# Written by `persephone submit`: runs after every task of the array ended ok (--dependency=afterok).",
            "#SBATCH --cpus-per-task=1",
            "set -euo pipefail",
            "cd \(shellQuoted(workingDirectory))",
            ([shellQuoted(binary), "merge"] + (0..<tasks).map { shellQuoted(shardFolder($0)) }
                + ["--out", shellQuoted(folder)]).joined(separator: " "),
        ]
        if let report {
            lines.append(([shellQuoted(binary), "report", "--results", shellQuoted(report.resultsFolder)]
                + (report.scale.map { ["--scale", shellQuoted($0)] } ?? [])).joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `sbatch`'s arguments for the array (it prints `<job id>[;cluster]` with `--parsable`).
    public var arraySbatchArguments: [String] {
        ["--parsable", "--array=" + arrayRange, "--job-name=" + jobName, "--chdir=" + workingDirectory,
         "--output=" + scriptFolder + "/array-%A_%a.out"] + placement + [arrayScriptPath]
    }

    /// `sbatch`'s arguments for the merge job, after the array job `arrayJob`. A task that
    /// fails makes the dependency unsatisfiable, and Slurm then cancels the merge job
    /// instead of leaving it pending; resubmitting the task submits a new one.
    public func mergeSbatchArguments(after arrayJob: String) -> [String] {
        ["--parsable", "--dependency=afterok:" + arrayJob, "--kill-on-invalid-dep=yes", "--job-name=" + jobName + "-merge",
         "--chdir=" + workingDirectory, "--output=" + scriptFolder + "/merge-%j.out"] + placement + [mergeScriptPath]
    }

    /// `0-2` for every task, `1` or `0,2` for a resubmission.
    var arrayRange: String {
        taskIndices == Array(0..<tasks) ? "0-\(tasks - 1)" : taskIndices.map(String.init).joined(separator: ",")
    }

    var placement: [String] {
        (partition.map { ["--partition=" + $0] } ?? []) + (time.map { ["--time=" + $0] } ?? [])
    }
}

/// The job id in `sbatch --parsable`'s output (`<id>` or `<id>;<cluster>`), or nil when
/// the output is not one.
public func parsableJobID(_ output: String) -> String? {
    let id = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
    return !id.isEmpty && id.allSatisfy(\.isNumber) ? id : nil
}

/// The first executable file called `name` in the colon-separated `path` (as the shell
/// looks commands up), or nil.
public func executable(named name: String, inPath path: String?) -> String? {
    for folder in (path ?? "").split(separator: ":") {
        let candidate = String(folder) + "/" + name
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate, isDirectory: &isFolder), !isFolder.boolValue,
           FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
    }
    return nil
}

/// `text` as one word for bash: bare when it holds only safe characters, else single-quoted.
public func shellQuoted(_ text: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:+@%,")
    if !text.isEmpty, text.allSatisfy(safe.contains) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
