import Foundation

/// One experiment of a reproduction: its plan, the committed folder it is checked
/// against, and the staging folder it is computed in.
public struct ReproduceStep: Sendable {
    public var name: String
    public var plan: RunPlan
    /// The committed run folder (`<results>/<name><suffix>`): the reference, never a cache.
    public var folder: String
    /// Where the experiment is computed: `<results>/.reproduce/<name><suffix>`.
    public var staging: String
}

/// `persephone reproduce`'s engine (docs/runner.md, "persephone reproduce"): checks every
/// input, states what it will run (`ReproducePreview`), runs the experiments one after
/// another into staging folders with one shared unit store, compares each one's
/// deterministic tables byte for byte with the committed folder's, leaves an identical
/// committed folder untouched (and drops the staging folder) or installs the staging
/// folder in its place (naming the tables that differ), then writes the report and a
/// summary. Interrupted and rerun, it resumes: the staging folders and the store are
/// resumable, and an install cut short is completed or undone (`recoverInterruptedInstalls`).
public struct Reproducer: Sendable {
    public var steps: [ReproduceStep]
    public var results: String
    public var store: UnitStore
    /// `<results>/.reproduce`: staging folders, and a committed folder for the instant of
    /// its replacement; removed when the reproduction ends.
    public var stagingRoot: String
    public var jobs: Int
    /// The provenance every run records; nil: collected per experiment (tests fix it).
    public var provenance: Provenance?
    /// Receives the runner's events and the reproduction's own lines (as `.notice`).
    public var events: @Sendable (RunEvent) -> Void
    /// `--check`: compare only. A folder whose tables differ is named, never installed, and
    /// the reproduction fails at the end (what `make test` runs at the smoke scale).
    public var checkOnly = false

    /// The experiments in order, each run folder `<results>/<name><suffix>`.
    public init(results: String, experiments: [(name: String, plan: RunPlan)], suffix: String, jobs: Int,
                provenance: Provenance? = nil, events: @escaping @Sendable (RunEvent) -> Void = StderrProgress.events()) {
        precondition(jobs >= 1, "jobs must be at least 1")
        self.results = results
        stagingRoot = results + "/.reproduce"
        store = UnitStore(root: results + "/unit-store")
        steps = experiments.map { [stagingRoot] in
            ReproduceStep(name: $0.name, plan: $0.plan, folder: "\(results)/\($0.name)\(suffix)",
                          staging: "\(stagingRoot)/\($0.name)\(suffix)")
        }
        self.jobs = jobs
        self.provenance = provenance
        self.events = events
    }

    /// What the reproduction will run, counted against the store as it is now.
    public func preview() -> ReproducePreview {
        let code = provenance == nil ? Provenance.binaryCodeFingerprint : provenance!.code
        return ReproducePreview(steps: steps, store: store, code: code, jobs: jobs)
    }

    /// Runs the reproduction; `report` writes the report once every experiment is in place
    /// and returns the lines to print about it.
    public func run(report: () throws -> [String]) throws -> ReproduceSummary {
        let started = Date()
        // Before anything runs: a missing checkpoint or dataset is one error, not one per point.
        for step in steps {
            do {
                try step.plan.checkInputs()
            } catch let error as RunError {
                throw RunError("\(step.name): \(error.message)", hint: error.hint)
            }
        }
        try recoverInterruptedInstalls()
        let preview = self.preview()
        preview.lines.forEach(notice)
        let progress = ReproduceProgress(total: preview.toCompute, estimate: preview.estimate, started: started)
        var computed = 0
        var replaced: [ReproduceSummary.Replacement] = []
        let sink = events
        for (i, step) in steps.enumerated() {
            notice("reproduce: [\(i + 1)/\(steps.count)] \(step.name) -> \(step.staging); " + progress.overall())
            let run = try step.plan.run(folder: step.staging, jobs: jobs, existing: .discardChanged, store: store,
                                        provenance: provenance, events: { progress.observe($0); sink($0) })
            computed += run.ran
            guard run.succeeded, run.missing.isEmpty else {
                throw RunError("\(step.name) did not finish (\(run.failedUnits) units and \(run.failed.count) points failed); "
                               + "the committed \(step.folder) is left as it is",
                               hint: "the units computed so far are in \(store.root): fix the cause and rerun "
                                   + "`persephone reproduce` to resume")
            }
            if let replacement = try settle(step) { replaced.append(replacement) }
        }
        notice("reproduce: every experiment done; " + progress.overall())
        if checkOnly, !replaced.isEmpty {
            try? FileManager.default.removeItem(atPath: stagingRoot)
            throw RunError("tables differ from the committed ones: " + replaced.map { r in
                r.wasMissing ? "\(r.folder) (missing)" : "\(r.folder): \(r.tables.joined(separator: ", "))" }.joined(separator: "; "),
                           hint: "if the change is meant, install the new tables with `persephone reproduce` at this scale (without --check) and commit them")
        }
        // Every staging folder is settled (removed or installed): the staging root is empty.
        if ((try? FileManager.default.contentsOfDirectory(atPath: stagingRoot)) ?? ["?"]).isEmpty {
            try? FileManager.default.removeItem(atPath: stagingRoot)
        }
        try report().forEach(notice)
        let summary = ReproduceSummary(seconds: Date().timeIntervalSince(started), computed: computed,
                                       reused: max(0, preview.distinctUnits - computed), replaced: replaced)
        notice(summary.line)
        return summary
    }

    func notice(_ text: String) { events(.notice(text)) }

    /// After a step ran: keep an identical committed folder and drop the staging one, or
    /// install the staging folder; the replacement, if any.
    private func settle(_ step: ReproduceStep) throws -> ReproduceSummary.Replacement? {
        let committed = FileManager.default.fileExists(atPath: step.folder)
        let differing = committed ? Reproducer.differingTables(step.staging, step.folder) : Reproducer.tableNames(step.staging)
        if committed && differing.isEmpty {
            try Reproducer.remove(step.staging)
            notice("reproduce: \(step.name): every table byte-identical to \(step.folder), which is left untouched")
            return nil
        }
        if checkOnly {
            try Reproducer.remove(step.staging)
            notice("reproduce: \(step.name): " + (committed ? "tables differing from the committed ones: \(differing.joined(separator: ", "))"
                                                            : "\(step.folder) is missing") + " (--check: not installed)")
            return .init(name: step.name, folder: step.folder, tables: differing, wasMissing: !committed)
        }
        try install(step)
        notice("reproduce: \(step.name): " + (committed ? "tables differing from the committed ones: \(differing.joined(separator: ", "))"
                                                        : "\(step.folder) was missing") + "; installed the new \(step.folder)")
        return .init(name: step.name, folder: step.folder, tables: differing, wasMissing: !committed)
    }
}

/// How a reproduction ended.
public struct ReproduceSummary: Sendable, Equatable {
    /// A committed folder replaced by the reproduction's.
    public struct Replacement: Sendable, Equatable {
        public var name: String
        public var folder: String
        /// The deterministic tables that differed (every one when the folder was missing).
        public var tables: [String]
        public var wasMissing: Bool
    }

    public var seconds: Double
    public var computed: Int
    /// Distinct units read from the store as it was when the reproduction started.
    public var reused: Int
    public var replaced: [Replacement]

    /// The closing line.
    public var line: String {
        let head = "reproduce: done in \(formatDuration(seconds)): \(computed) units computed, \(reused) reused from the store; "
        guard !replaced.isEmpty else { return head + "tables byte-identical to the committed ones" }
        return head + "tables that differ from the committed ones: " + replaced.map { r in
            r.wasMissing ? "\(r.folder) (was missing)" : r.tables.map { "\(r.folder)/\($0)" }.joined(separator: ", ")
        }.joined(separator: ", ")
    }
}

/// Units computed over the whole reproduction, and the ETA from the pace so far (before
/// the first unit: the preview's estimate). Fed from the runner's worker threads.
final class ReproduceProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private let estimate: Double?
    private let started: Date
    private var done = 0

    init(total: Int, estimate: Double?, started: Date) {
        self.total = total
        self.estimate = estimate
        self.started = started
    }

    func observe(_ event: RunEvent) {
        guard case .unitFinished = event else { return }
        lock.lock()
        done += 1
        lock.unlock()
    }

    /// `units 12/40 computed, elapsed 3m10s, ETA 7m02s`.
    func overall() -> String {
        lock.lock()
        defer { lock.unlock() }
        let elapsed = Date().timeIntervalSince(started)
        let all = max(total, done), left = all - done
        let eta: Double? = left == 0 ? 0 : done > 0 ? elapsed / Double(done) * Double(left)
            : estimate.map { $0 * Double(left) / Double(all) }
        return "overall: units \(done)/\(all) computed, elapsed \(formatDuration(elapsed)), ETA " + (eta.map(formatDuration) ?? "unknown")
    }
}
