import ArgumentParser
import Experiments
import Foundation
import Report

/// `persephone report`: the verdict per claim and the figures, from the result tables
/// (docs/experiments.md, "Report and figures").
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Decide each claim of the paper from the result tables; write the report and its figures.",
        discussion: """
            Reads <results>/<experiment>[-<scale>]/ for the five experiments and writes <results>/REPORT[-<scale>].md \
            and <results>/figures/<experiment>[-<scale>][.<axis>-<value>].{png,gp} (gnuplot). A missing experiment \
            is reported as such; the command fails only when every one is missing or a table is malformed.
            """)

    @Option(help: "The results folder holding the experiments' run folders.")
    var results = "results"

    @Option(help: "Read the run folders of this scale, <results>/<experiment>-<scale>/ (e.g. full); default: <results>/<experiment>/.")
    var scale: String?

    var suffix: String { scale.map { "-\($0)" } ?? "" }

    @Option(help: "The report to write (default: <results>/REPORT<suffix>.md).")
    var out: String?

    @Option(help: "Folder for the figures (default: <results>/figures).")
    var figures: String?

    @Option(help: "Also read the folders of this scale and list the claim cells only they decide (e.g. full).")
    var otherScale: String?

    @Flag(help: "Write the report only, no figures (no gnuplot needed).")
    var noFigures = false

    @Option(help: "The spec files, for the cells not computed yet: each experiment's <specs>/<experiment>.yaml with experiments/scales/<scale>.yaml laid over it is planned and its units looked up in <results>/unit-store.")
    var specs = "experiments"

    @Flag(help: "Do not list the cells not computed yet (no planning, no unit-store lookup).")
    var noMissingCells = false

    func run() throws {
        try reportingErrors {
            let lines = try Report.draw(results: results, suffix: suffix, otherScale: otherScale,
                                        specs: noMissingCells ? nil : specs, output: out,
                                        figures: noFigures ? nil : (figures ?? "\(results)/figures")) {
                FileHandle.standardError.write(Data("\($0)\n".utf8))
            }
            print(lines.joined(separator: "\n"))
        }
    }
}
