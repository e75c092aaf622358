import ArgumentParser
import Experiments
import Foundation
import Report

/// `persephone reproduce [--scale paper|smoke|full]`: the paper's five experiments, checked
/// against the committed tables, then the report (docs/runner.md, "persephone reproduce").
struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Recompute all five experiments, compare their tables with the committed ones, write the report.",
        discussion: """
            States the points, units and expected time first; runs each experiment into <results>/.reproduce/ \
            with the shared unit store (<results>/unit-store); keeps a committed folder whose tables are \
            byte-identical and replaces one that differs, naming the tables; then writes the report. \
            Interrupted, rerun the same command: it resumes. See docs/runner.md.
            """)

    @Option(help: "paper (the spec files as written -> <results>/<experiment>/), smoke (experiments/scales/smoke.yaml -> <experiment>-smoke/) or full (experiments/scales/full.yaml -> <experiment>-full/).")
    var scale: ReproduceScale = .paper

    @Option(help: "Units computed at once (default: the number of active cores).")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "The folder of the spec files and scales/.")
    var experiments = "experiments"

    @Option(help: "The results folder: committed run folders, the unit store, the report.")
    var results = "results"

    @Flag(help: "Write the report without figures (no gnuplot needed).")
    var noFigures = false

    @Flag(help: "Compare only: fail, naming them, when tables differ from the committed ones; install nothing and write the report to a temporary folder (what `make test` runs at the smoke scale).")
    var check = false

    func run() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        try reportingErrors {
            var reproducer = try Reproducer.paper(scale: scale, experiments: experiments, results: results, jobs: jobs)
            reproducer.checkOnly = check
            // With --check the report is drawn (every line of its code runs) into a folder removed after.
            let scratch = check ? NSTemporaryDirectory() + "persephone-reproduce-check-\(ProcessInfo.processInfo.processIdentifier)" : nil
            if let scratch { try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true) }
            defer { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }
            _ = try reproducer.run {
                try Report.draw(results: results, suffix: scale.suffix, otherScale: scale.reportOtherScale,
                                specs: experiments, output: scratch.map { "\($0)/REPORT\(scale.suffix).md" },
                                figures: noFigures ? nil : (scratch ?? results) + "/figures") {
                    FileHandle.standardError.write(Data("\($0)\n".utf8))
                }
            }
        }
    }
}

extension ReproduceScale: ExpressibleByArgument {}
