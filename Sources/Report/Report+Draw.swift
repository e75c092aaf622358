import Experiments
import Foundation

extension Report {
    /// What `persephone report` does, and `persephone reproduce` after its experiments:
    /// reads `<results>/<experiment><suffix>/`, notes the claim cells only `otherScale`'s
    /// folders decide (when that scale's tables can be read; else a note why not), lists the
    /// cells not computed yet (unless `specs` is nil: `missingCells` plans
    /// `<specs>/<experiment>.yaml` with `<specs>/scales/<scale>.yaml` and looks their units up
    /// in `<results>/unit-store`), writes the report (default `<results>/REPORT<suffix>.md`)
    /// and, unless `figures` is nil, the
    /// figures into that folder. Returns the lines to print (a verdict per claim cell, then
    /// what was written); `note` receives the missing experiments and comparison problems.
    public static func draw(results: String, suffix: String, otherScale: String?, specs: String?, output: String?,
                            figures: String?, note: (String) -> Void) throws -> [String] {
        var report = try Report(results: results, suffix: suffix)
        if let other = otherScale {
            do {
                report.noteCells(onlyIn: try Report(results: results, suffix: "-\(other)"), scale: other)
            } catch {
                note("report: no comparison with the \(other) scale: \(error)")
            }
        }
        if let specs {
            let overlay = suffix.isEmpty ? nil : "\(specs)/scales/\(suffix.dropFirst()).yaml"
            let (cells, problems) = report.missingCells(specs: specs, overlay: overlay, store: UnitStore(root: "\(results)/unit-store"))
            report.toCompute = cells
            for p in problems { note("report: cells not listed: \(p)") }
        }
        let output = output ?? "\(results)/REPORT\(suffix).md"
        for (_, why) in report.missing.sorted(by: { $0.key < $1.key }) { note("report: \(why)") }
        let stems = try report.write(output: output, figures: figures)
        return report.verdicts.map { "\($0.claim)  \($0.group.label)  \($0.verdict.rawValue)  (\($0.ours))" }
            + ["report: wrote \(output)" + (figures.map { " and \(stems.count) figures in \($0)/" } ?? "")]
    }
}
