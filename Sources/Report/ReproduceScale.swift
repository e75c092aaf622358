import Experiments
import Foundation
import Reproduction

/// The scales `persephone reproduce` runs the paper's experiments at (docs/runner.md,
/// "persephone reproduce").
public enum ReproduceScale: String, CaseIterable, Sendable {
    /// The spec files as written, into `results/<experiment>/`.
    case paper
    /// `experiments/scales/smoke.yaml` laid over each spec, into `results/<experiment>-smoke/`.
    case smoke
    /// `experiments/scales/full.yaml` laid over each spec, into `results/<experiment>-full/`.
    case full

    /// The overlay file under the experiments folder, nil for the paper scale.
    public var overlay: String? { self == .paper ? nil : "scales/\(rawValue).yaml" }
    /// The run folders' suffix: `results/<experiment><suffix>`.
    public var suffix: String { self == .paper ? "" : "-\(rawValue)" }
    /// The scale whose folders the report compares with: the paper-scale report lists the
    /// claim cells only the full scale decides (what `make reproduce` always drew).
    public var reportOtherScale: String? { self == .paper ? "full" : nil }
}

extension Reproducer {
    /// The paper's five experiments (`Report.experiments`, in order) at `scale`: the spec
    /// files `<experiments>/<experiment>.yaml` with the scale's overlay, resolved as
    /// `persephone run` resolves them. Every missing spec or overlay file is named in one
    /// error before anything is resolved.
    public static func paper(scale: ReproduceScale, experiments: String = "experiments", results: String = "results",
                             jobs: Int, provenance: Provenance? = nil,
                             events: @escaping @Sendable (RunEvent) -> Void = StderrProgress.events()) throws -> Reproducer {
        let specs = Report.experiments.map { "\(experiments)/\($0).yaml" }
        let overlay = scale.overlay.map { "\(experiments)/\($0)" }
        let fm = FileManager.default
        var problems = specs.filter { !fm.fileExists(atPath: $0) }.map { "spec file \($0)" }
        if let overlay, !fm.fileExists(atPath: overlay) {
            let scales = ((try? fm.contentsOfDirectory(atPath: "\(experiments)/scales")) ?? []).filter { $0.hasSuffix(".yaml") }
            problems.append("the \(scale.rawValue) scale's overlay file \(overlay) (scales there: "
                            + (scales.isEmpty ? "none" : scales.sorted().joined(separator: ", ")) + ")")
        }
        guard problems.isEmpty else {
            throw RunError("missing: " + problems.joined(separator: "; "),
                           hint: "specs and scales are committed under \(experiments)/: run in the project folder, restore them "
                               + "(`git checkout -- \(experiments)/`) or choose another --scale (\(ReproduceScale.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let plans = try zip(Report.experiments, specs).map { name, spec in
            (name: name, plan: try ExperimentRegistry.persephone.plan(specFile: spec, overlays: overlay.map { [$0] } ?? [],
                                                                      overrides: [], sweeps: []))
        }
        return Reproducer(results: results, experiments: plans, suffix: scale.suffix, jobs: jobs, provenance: provenance,
                          events: events)
    }
}
