import Experiments
import Foundation
import Reproduction

/// A claim cell (an experiment's sweep point) of a scale whose units are not all in the
/// unit store yet, with the measured estimate of the time it still needs.
public struct MissingCell: Sendable, Equatable {
    public var experiment: String
    public var point: String
    public var units: Int
    public var stored: Int
    /// One unit at a time; nil when no unit of a kind it needs was ever measured.
    public var secondsLeft: Double?
}

extension Report {
    /// The cells of the five experiments at a scale (spec `<specs>/<experiment>.yaml`, with
    /// `overlay` laid over it) that are neither in the tables (a point the run folder's
    /// manifest lists as `ok`, with that spec's hash) nor held in full by `store`, each with
    /// `RunPlan.coverage`'s estimate from the measured times of the stored units (`code`:
    /// the runner's code fingerprint). An experiment whose spec cannot be planned is
    /// reported in `problems` instead.
    public func missingCells(specs: String, overlay: String?, store: UnitStore,
                             code: String = Experiments.Provenance.binaryCodeFingerprint) -> (cells: [MissingCell], problems: [String]) {
        var cells: [MissingCell] = [], problems: [String] = []
        for e in Self.experiments {
            let file = "\(specs)/\(e).yaml"
            do {
                let plan = try ExperimentRegistry.persephone.plan(specFile: file, overlays: overlay.map { [$0] } ?? [],
                                                                  overrides: [], sweeps: [])
                let filled = ExperimentFolder(results: results, experiment: e, suffix: suffix).pointsInTables(specHash: plan.spec.hash)
                for c in try plan.coverage(store: store, code: code) where c.stored < c.units && !filled.contains(c.point.id) {
                    cells.append(MissingCell(experiment: e, point: c.point.id, units: c.units, stored: c.stored, secondsLeft: c.secondsLeft))
                }
            } catch {
                problems.append("\(file): \(error)")
            }
        }
        return (cells, problems)
    }
}

/// `1 h 05 min`, `12 min`, `40 s`.
func durationText(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s >= 3600 { return "\(s / 3600) h \(String(format: "%02d", (s % 3600) / 60)) min" }
    if s >= 60 { return "\(Int((seconds / 60).rounded())) min" }
    return "\(s) s"
}

extension ExperimentFolder {
    /// The ids of the points the folder's manifest lists as `ok` under spec `specHash`
    /// (none when the manifest is absent or holds another spec).
    func pointsInTables(specHash: String) -> Set<String> {
        guard let data = FileManager.default.contents(atPath: "\(path)/manifest.json"),
              let manifest = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              manifest["spec_hash"] as? String == specHash,
              let points = manifest["points"] as? [[String: Any]] else { return [] }
        return Set(points.filter { $0["status"] as? String == "ok" }.compactMap { $0["id"] as? String })
    }
}
