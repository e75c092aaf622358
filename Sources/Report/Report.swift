import Experiments
import Foundation

/// `persephone report`: reads the five experiments' tables from
/// `<results>/<experiment><suffix>/`, decides each claim of the paper per sweep point under
/// a stated rule, and writes the report (Markdown) and one gnuplot figure per experiment
/// and sweep point. docs/experiments.md, "Report and figures".
public struct Report {
    public static let experiments = ["global-vs-personal", "label-availability", "training-cost", "data-growth", "latency-accuracy"]

    public var results: String
    public var suffix: String

    public var accuracy: [AccuracyCell]?
    public var labels: [LabelAvailabilitySection]?
    public var trainingCost: [TrainingCostCell]?
    public var bypass: [BypassCell]?
    public var latency: [LatencyCell]?
    /// Per experiment, why it is missing (the missing table and the command that writes it).
    public var missing: [String: String] = [:]
    /// Per experiment present, what its manifest says (commit, checkpoint, users, seeds).
    public var provenance: [String: Provenance] = [:]
    /// Claim cells (claim, sweep point) that another scale's folders decide and these do
    /// not, with that scale's name: set by `noteCells(onlyIn:)`, listed in the report.
    public var onlyElsewhere: (scale: String, cells: [(claim: String, group: Group)])?
    /// The scale's cells whose units are not all computed (`missingCells`), listed with the
    /// time they need; nil when not looked up.
    public var toCompute: [MissingCell]?

    public struct Provenance: Sendable, Equatable {
        public var commit: String
        public var dirty: Bool
        public var checkpoint: String
        public var users: String
        public var seeds: String
        /// `train.feature_cache_mb` of the run's spec, where it has one.
        public var featureCacheMB: Int? = nil
    }

    /// Reads every experiment's tables. A missing table makes its experiment `missing`
    /// (reported, not fatal) unless every experiment is missing; a malformed one throws.
    public init(results: String, suffix: String) throws {
        self.results = results
        self.suffix = suffix
        func folder(_ e: String) -> ExperimentFolder { ExperimentFolder(results: results, experiment: e, suffix: suffix) }
        func optional(_ f: ExperimentFolder, _ table: String) throws -> ResultTable? {
            FileManager.default.fileExists(atPath: f.tablePath(table)) ? try f.read(table) : nil
        }
        /// The body's analysis of experiment `e`, or nil (and `missing[e]` set) when one of
        /// its required tables does not exist.
        func load<T>(_ e: String, _ tables: [String], _ body: (ExperimentFolder) throws -> T) throws -> T? {
            let f = folder(e)
            if let absent = tables.first(where: { !FileManager.default.fileExists(atPath: f.tablePath($0)) }) {
                missing[e] = f.missingMessage(absent).description
                return nil
            }
            let value = try body(f)
            provenance[e] = Self.provenance(of: f)
            return value
        }
        accuracy = try load("global-vs-personal", ["users", "exits"]) {
            try AccuracyCell.analyse(users: $0.read("users"), exits: $0.read("exits"))
        }
        labels = try load("label-availability", ["exits"]) { try LabelAvailabilitySection.analyse(exits: $0.read("exits")) }
        trainingCost = try load("training-cost", ["methods"]) {
            try TrainingCostCell.analyse(methods: $0.read("methods"), timings: optional($0, "timings"))
        }
        bypass = try load("data-growth", ["rounds"]) { try BypassCell.analyse(rounds: $0.read("rounds"), timings: optional($0, "timings")) }
        latency = try load("latency-accuracy", ["users", "curve"]) {
            try LatencyCell.analyse(users: $0.read("users"), curve: $0.read("curve"), timings: optional($0, "timings"))
        }
        if missing.count == Self.experiments.count {
            throw RunError("\(results): no experiment tables in \(Self.experiments.map { "\($0)\(suffix)/" }.joined(separator: ", "))",
                           hint: suffix.isEmpty ? "`make reproduce` writes them" : "`make experiments SCALE=\(suffix.dropFirst())` writes them")
        }
    }

    /// Records the claim cells `other` (another scale's report, named `scale`) has and this
    /// one lacks: sweep points these folders do not run, or experiments missing here.
    public mutating func noteCells(onlyIn other: Report, scale: String) {
        let here = Set(verdicts.filter { !missing.keys.contains(Self.experiment(of: $0.claim)) }.map { "\($0.claim)|\($0.group.label)" })
        let cells = other.verdicts.filter { !other.missing.keys.contains(Self.experiment(of: $0.claim)) }
            .filter { !here.contains("\($0.claim)|\($0.group.label)") }
            .map { (claim: $0.claim, group: $0.group) }
        onlyElsewhere = (scale, cells)
    }

    /// The experiment that decides a claim.
    static func experiment(of claim: String) -> String {
        ["C1": "global-vs-personal", "C2": "training-cost", "C3": "latency-accuracy", "C4": "data-growth"][claim] ?? claim
    }

    /// Every claim's verdict, per sweep point, in claim order; a missing experiment gives
    /// one undecided row saying what to run.
    public var verdicts: [ClaimVerdict] {
        func absent(_ claim: String, _ experiment: String, _ paper: String, _ rule: String) -> [ClaimVerdict] {
            [ClaimVerdict(claim: claim, group: Group(axes: [], values: []), paper: paper,
                          ours: missing[experiment] ?? "\(experiment): missing", verdict: .undecided, rule: rule, reason: "no table")]
        }
        return (accuracy?.map(\.verdict) ?? absent("C1", "global-vs-personal", AccuracyCell.paper, AccuracyCell.rule))
            + (trainingCost?.map(\.verdict) ?? absent("C2", "training-cost", TrainingCostCell.paper, TrainingCostCell.rule))
            + (latency?.map(\.verdict) ?? absent("C3", "latency-accuracy", LatencyCell.paper, LatencyCell.rule))
            + (bypass?.map(\.verdict) ?? absent("C4", "data-growth", BypassCell.paper, BypassCell.rule))
    }

    /// The figure stem of an experiment's group: `<experiment><suffix>`, then one
    /// `.<axis>-<value>` per axis: the axis's last dotted component, a path value's file
    /// name without extension (`data.checkpoint=checkpoints/x/mobilenetv2.safetensors` gives
    /// `.checkpoint-mobilenetv2`); characters other than letters, digits, `.`, `-` and `_`
    /// become `-`.
    public func figureStem(_ experiment: String, _ group: Group) -> String {
        let clean: (String) -> String = { s in
            String(s.map { $0.isLetter || $0.isNumber || "._-".contains($0) ? $0 : "-" })
        }
        return experiment + suffix + zip(group.axes, group.values).map { axis, value in
            let name = Group.shortValue(value)
            return ".\(clean(String(axis.split(separator: ".").last ?? Substring(axis))))-\(clean(name))"
        }.joined()
    }

    /// Every figure, in report order.
    public var figures: [Figure] {
        let scale = suffix.isEmpty ? "" : " (\(suffix.dropFirst()) scale)"
        func title(_ what: String, _ group: Group) -> String {
            what + scale + (group.axes.isEmpty ? "" : ", " + group.label)
        }
        var all: [Figure] = []
        all += (accuracy ?? []).map { $0.figure(stem: figureStem("global-vs-personal", $0.group), title: title("Per-user gain over the global model", $0.group)) }
        all += (labels ?? []).map { $0.figure(stem: figureStem("label-availability", $0.group), title: title("Personalised accuracy by label availability", $0.group)) }
        all += (trainingCost ?? []).map { $0.figure(stem: figureStem("training-cost", $0.group), title: title("Training cost against accuracy", $0.group)) }
        all += (bypass ?? []).map { $0.figure(stem: figureStem("data-growth", $0.group), title: title("Early-exit policy as personal data arrive", $0.group)) }
        all += (latency ?? []).map { $0.figure(stem: figureStem("latency-accuracy", $0.group), title: title("Accuracy, FLOPs and latency", $0.group)) }
        return all
    }

    static func provenance(of folder: ExperimentFolder) -> Provenance? {
        guard let data = FileManager.default.contents(atPath: "\(folder.path)/manifest.json"),
              let manifest = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return nil }
        let provenance = manifest["provenance"] as? [String: Any] ?? [:]
        let spec = manifest["spec"] as? [String: Any] ?? [:]
        let config = spec["config"] as? [String: Any] ?? [:]
        let dataSection = config["data"] as? [String: Any] ?? [:]
        let seeds = (manifest["seeds"] as? [Any]).map { $0.map { "\($0)" }.joined(separator: ", ") } ?? "?"
        return Provenance(commit: String((provenance["git_commit"] as? String ?? "unknown").prefix(7)),
                          dirty: provenance["git_dirty"] as? Bool ?? false,
                          checkpoint: dataSection["checkpoint"] as? String ?? "?",
                          users: dataSection["users"].map { "\($0)" } ?? "?", seeds: seeds,
                          featureCacheMB: ((config["train"] as? [String: Any])?["feature_cache_mb"] as? NSNumber)?.intValue)
    }
}
