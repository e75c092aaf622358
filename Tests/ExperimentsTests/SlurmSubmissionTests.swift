import Experiments
import Foundation
import Testing

/// `SlurmSubmission`'s scripts are run with bash here, against stand-in binaries that
/// record their arguments, so what a Slurm task would execute is checked word by word.
@Suite("SlurmSubmission")
struct SlurmSubmissionTests {
    /// The shipped template, read from the package.
    static let templatePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("experiments/slurm.sbatch").path

    func submission(_ dir: TemporaryDirectory, tasks: Int = 3, units: Int = 9, only: [Int]? = nil,
                    arguments: [String] = ["data.users=2"], report: SlurmSubmission.Report? = nil) throws -> SlurmSubmission {
        try SlurmSubmission(spec: dir.path + "/my spec.yaml", runArguments: arguments, tasks: tasks, units: units,
                            only: only, binary: dir.path + "/bin/persephone", folder: dir.path + "/results/gvp",
                            workingDirectory: dir.path, report: report)
    }

    /// A stand-in for `persephone` that writes its arguments, one per line, to
    /// `<path>.args` (the last call's) and appends them, one call per line, to `<path>.calls`.
    func recorder(at path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try "#!/bin/bash\nprintf '%s\\n' \"$@\" > \"$0.args\"\necho \"$*\" >> \"$0.calls\"\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    }

    func recorded(_ path: String) throws -> [String] {
        try String(contentsOfFile: path + ".args", encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }

    @Test func refusesTaskCountsWithNothingToDo() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        do {
            _ = try submission(dir, tasks: 0)
            Issue.record("0 tasks were accepted")
        } catch let error as RunError {
            #expect(error.message == "--tasks 0: a submission needs at least one task")
            #expect(error.hint.contains("1 <= N <= 9"))
        }
        do {
            _ = try submission(dir, tasks: 10, units: 9)
            Issue.record("10 tasks for 9 work items were accepted")
        } catch let error as RunError {
            #expect(error.message.hasPrefix("--tasks 10 is more than the 9 units of work of \(dir.path)/my spec.yaml"))
            #expect(error.message.hasSuffix("1 task would have nothing to do"))
            #expect(error.hint.hasPrefix("pass --tasks 9 or fewer"))
        }
        #expect(try submission(dir, tasks: 9, units: 9).taskIndices == Array(0..<9))
        for only in [[3], [-1], []] {
            #expect(throws: RunError.self, "--only \(only) of 3 tasks") { try submission(dir, only: only) }
        }
        #expect(try submission(dir, only: [2, 0, 2]).taskIndices == [0, 2])
        #expect(throws: RunError.self) {
            try SlurmSubmission(spec: "s", runArguments: [], tasks: 1, units: 1, partition: "a b", binary: "b",
                                folder: "f", workingDirectory: "/")
        }
        #expect(throws: RunError.self) {
            try SlurmSubmission(spec: "s", runArguments: [], tasks: 1, units: 1, time: "", binary: "b",
                                folder: "f", workingDirectory: "/")
        }
    }

    @Test func arrayScriptRunsShardKOfNWithTheArgumentsIntact() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let arguments = ["data.users=2", "seeds=[1, 2]", "note=it's \"quoted\" $HOME", "--sweep", "lr=0.1,0.2"]
        let s = try submission(dir, arguments: arguments)
        let template = try String(contentsOfFile: Self.templatePath, encoding: .utf8)
        let script = try s.arrayScript(template: template, templatePath: "experiments/slurm.sbatch")
        // The settings come after the last directive, so sbatch still reads every #SBATCH line.
        let lines = script.components(separatedBy: "\n")
        let lastDirective = try #require(lines.lastIndex { $0.hasPrefix("#SBATCH") })
        let specLine = try #require(lines.firstIndex { $0.hasPrefix("SPEC=") })
        #expect(specLine > lastDirective)
        #expect(lines.filter { $0.hasPrefix("#SBATCH") } == template.components(separatedBy: "\n").filter { $0.hasPrefix("#SBATCH") })

        try recorder(at: s.binary)
        let path = try dir.file("array.sbatch", script)
        for task in [0, 2] {
            let result = try bash(path, environment: ["SLURM_ARRAY_TASK_ID": "\(task)", "SLURM_CPUS_PER_TASK": "2"])
            #expect(result.status == 0, "\(result.errors)")
            #expect(try recorded(s.binary) == ["run", s.spec, "--jobs", "2", "--shard", "\(task)/3",
                                               "--out", s.shardFolder(task)] + arguments)
            #expect(s.shardFolder(task) == dir.path + "/results/gvp.shard-\(task)-of-3")
        }
        let outside = try bash(path, environment: [:])
        #expect(outside.status != 0)
        #expect(outside.errors.contains("submit this script as a job array, such as sbatch --array=0-2"))
    }

    @Test func templateWithoutDirectivesOrArgumentsIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let s = try submission(dir)
        #expect(throws: RunError("t.sbatch has no #SBATCH line", hint: "use the shipped experiments/slurm.sbatch as the template")) {
            try s.arrayScript(template: "#!/bin/bash\nexec \"$BIN\" run \"$SPEC\" \"$SHARD\" \"$OUT\" \"$@\"\n", templatePath: "t.sbatch")
        }
        do {
            _ = try s.arrayScript(template: "#!/bin/bash\n#SBATCH --time=1\nexec \"$BIN\" run \"$SPEC\" --shard \"$SHARD\" --out \"$OUT\"\n",
                                  templatePath: "t.sbatch")
            Issue.record("a template that drops the overrides was accepted")
        } catch let error as RunError {
            #expect(error.message == "t.sbatch does not use \"$@\"")
        }
    }

    @Test func mergeScriptJoinsEveryShardThenDrawsTheReport() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let report = SlurmSubmission.Report(resultsFolder: dir.path + "/results", scale: "full")
        // A resubmission of one task still merges all of them.
        let s = try submission(dir, only: [1], report: report)
        try recorder(at: s.binary)
        let result = try bash(try dir.file("merge.sbatch", s.mergeScript), environment: [:])
        #expect(result.status == 0, "\(result.errors)")
        let calls = try String(contentsOfFile: s.binary + ".calls", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(calls == [(["merge"] + (0..<3).map(s.shardFolder) + ["--out", s.folder]).joined(separator: " "),
                          "report --results \(dir.path)/results --scale full"], "merge, then the report")
        #expect(!(try submission(dir).mergeScript.contains("report")))
    }

    @Test func foldersOfAnotherSpecAreRefusedBeforeSubmitting() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let p = try plan(sweepSpec)
        let s = try submission(dir, units: try p.distinctUnits().units.count)
        try s.checkFolders(specHash: p.spec.hash)  // nothing there yet
        _ = try Runner(plan: p, options: testOptions(s.shardFolder(1), shard: Shard(index: 1, count: 3))).run()
        try s.checkFolders(specHash: p.spec.hash)  // the same spec: the task resumes it
        let other = try plan(sweepSpec + "note: changed\n")
        #expect(other.spec.hash != p.spec.hash)
        #expect(throws: RunError("\(s.shardFolder(1)) holds the results of spec \(p.spec.hash), but this spec resolves to "
                                 + "\(other.spec.hash); its job would refuse to mix them",
                                 hint: "remove \(s.shardFolder(1)), or pass --out for another folder")) {
            try s.checkFolders(specHash: other.spec.hash)
        }
        // Resubmitting task 0 alone does not look at task 1's folder.
        try submission(dir, units: try p.distinctUnits().units.count, only: [0]).checkFolders(specHash: other.spec.hash)
    }

    @Test func sbatchArguments() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let s = try submission(dir)
        #expect(s.scriptFolder == dir.path + "/results/gvp.slurm")
        #expect(s.arraySbatchArguments == ["--parsable", "--array=0-2", "--job-name=persephone-gvp", "--chdir=" + dir.path,
                                           "--output=\(s.scriptFolder)/array-%A_%a.out", s.arrayScriptPath])
        #expect(s.mergeSbatchArguments(after: "41") == [
            "--parsable", "--dependency=afterok:41", "--kill-on-invalid-dep=yes", "--job-name=persephone-gvp-merge",
            "--chdir=" + dir.path, "--output=\(s.scriptFolder)/merge-%j.out", s.mergeScriptPath])
        var placed = try submission(dir, only: [2, 0])
        placed.partition = "short"
        placed.time = "00:30:00"
        #expect(placed.arraySbatchArguments.contains("--array=0,2"))
        #expect(Array(placed.arraySbatchArguments.suffix(3)) == ["--partition=short", "--time=00:30:00", s.arrayScriptPath])
        #expect(Array(placed.mergeSbatchArguments(after: "7").suffix(3)) == ["--partition=short", "--time=00:30:00", s.mergeScriptPath])
    }

    @Test func runProgramReadsBothStreamsWithoutStalling() throws {
        // 200 000 bytes on standard error: more than a pipe holds, so reading only standard
        // output first would leave the program blocked on its write.
        let loud = try bash(nil, command: "head -c 200000 /dev/zero | tr '\\0' x >&2; echo ok; exit 3", environment: [:])
        #expect(loud == ProgramOutput(status: 3, output: "ok\n", errors: String(repeating: "x", count: 200_000)))
    }

    @Test func jobIDsPathsAndQuoting() throws {
        #expect(parsableJobID("123\n") == "123")
        #expect(parsableJobID("123;cluster-a\n") == "123")
        #expect(parsableJobID("Submitted batch job 123") == nil)
        #expect(parsableJobID("") == nil)

        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        try FileManager.default.createDirectory(atPath: dir.path + "/a/sbatch", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.path + "/b", withIntermediateDirectories: true)
        _ = try dir.file("b/sbatch", "not executable")
        try recorder(at: dir.path + "/c/sbatch")
        let path = [dir.path + "/a", dir.path + "/b", dir.path + "/none", dir.path + "/c"].joined(separator: ":")
        #expect(executable(named: "sbatch", inPath: path) == dir.path + "/c/sbatch")
        #expect(executable(named: "sbatch", inPath: dir.path + "/a:" + dir.path + "/b") == nil)
        #expect(executable(named: "sbatch", inPath: nil) == nil)

        #expect(shellQuoted("data.users=2") == "data.users=2")
        #expect(shellQuoted("seeds=[1, 2]") == "'seeds=[1, 2]'")
        let words = ["", "a b", "it's", "$HOME `x` \\ \"q\"", "*", "line\nbreak"]
        let printed = try bash(nil, command: "printf '%s\\0' " + words.map(shellQuoted).joined(separator: " "), environment: [:])
        #expect(printed.output.split(separator: "\0", omittingEmptySubsequences: false).dropLast().map(String.init) == words)
    }
}

/// Runs a bash script file (or `-c command`) with only `environment` (plus PATH) set.
private func bash(_ script: String?, command: String? = nil, environment: [String: String]) throws -> ProgramOutput {
    try runProgram("/bin/bash", script.map { [$0] } ?? ["-c", command ?? ""],
                   environment: environment.merging(["PATH": "/usr/bin:/bin"]) { a, _ in a })
}
