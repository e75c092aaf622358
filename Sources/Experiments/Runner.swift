import Foundation

/// What a run does with a folder that already holds results.
public enum ExistingResults: Sendable, Equatable {
    /// Resume: points recorded ok are kept, the rest run. A folder frozen by another spec
    /// is refused, and so is one whose point records other code or other inputs made
    /// (the manifest says which), since mixing them would break byte-identity.
    case resume
    /// `--force-new`: move the folder aside (to `<folder>.<its hash>`) and start afresh.
    case startAfresh
    /// `--replace-changed`: move the folder aside when its spec, code or inputs differ from
    /// this run's (or cannot be compared); otherwise resume.
    case replaceChanged
    /// `--if-changed`: as `replaceChanged`, but a complete folder that is current (same
    /// spec, code and inputs, every table present) is left untouched and nothing runs.
    case skipCurrent
}

/// How to run a plan.
public struct RunOptions: Sendable {
    /// The run folder, `results/<name>` by convention.
    public var folder: String
    /// Points computed at once (each on its own thread).
    public var jobs: Int
    public var shard: Shard
    public var existing: ExistingResults
    /// Move an existing folder aside (to `<folder>.<its hash>`) and start afresh.
    public var forceNew: Bool {
        get { existing == .startAfresh }
        set { existing = newValue ? .startAfresh : .resume }
    }
    public var provenance: Provenance
    /// Receives progress; called from worker threads, one event at a time.
    public var events: @Sendable (RunEvent) -> Void

    public init(folder: String, jobs: Int = ProcessInfo.processInfo.activeProcessorCount, shard: Shard = .all,
                forceNew: Bool = false, existing: ExistingResults = .resume, provenance: Provenance = .collect(),
                events: @escaping @Sendable (RunEvent) -> Void = StderrProgress.events()) {
        precondition(jobs >= 1, "jobs must be at least 1")
        self.folder = folder
        self.jobs = jobs
        self.shard = shard
        self.existing = forceNew ? .startAfresh : existing
        self.provenance = provenance
        self.events = events
    }
}

/// Runs the points of a plan into a run folder (layout: `RunFolder`), durably and
/// resumably:
/// - the resolved spec is frozen in `spec.resolved.json` first; a folder frozen with
///   another hash is refused (or, with `forceNew`, moved aside);
/// - each finished point is written to `points/<index>.json` (temporary name, then
///   rename) before it counts as done; a later run with the same spec skips the points
///   recorded `ok` and runs the rest (failed ones again);
/// - a failing point is reported at once and recorded `failed`; the others go on;
/// - tables are assembled from the records in point-index order, never completion
///   order, so an interrupted-and-resumed run writes the bytes an uninterrupted one does.
///   A sharded run (`count > 1`) writes no tables: `merge` joins the shards' records.
public struct Runner: Sendable {
    public var plan: RunPlan
    public var options: RunOptions

    public init(plan: RunPlan, options: RunOptions) {
        self.plan = plan
        self.options = options
    }

    public func run() throws -> RunSummary {
        let started = Date()
        let frozen = FrozenSpec(plan: plan)
        let folder = RunFolder(path: options.folder)
        let events = options.events
        let mine = frozen.points.filter { options.shard.contains($0.index) }
        if try prepare(folder, frozen: frozen) == .upToDate {
            events(.warning("\(folder.path) is up to date (same spec, code and inputs, every point ok): nothing to run"))
            let summary = RunSummary(folder: folder.path, total: mine.count, resumed: mine.count, ran: 0, failed: [],
                                     missing: [], tablesWritten: false)
            events(.finished(summary))
            return summary
        }

        func writeManifest(_ records: [Int: PointRecord]) throws {
            try writeJSON(Manifest(frozen: frozen, records: records, shard: options.shard.description,
                                   provenance: options.provenance, started: started, ended: Date()),
                          path: folder.manifestPath)
        }
        var records = folder.readRecords(frozen: frozen) { events(.warning($0)) }
        let todo = mine.filter { records[$0.index]?.status != .ok }
        events(.started(folder: folder.path, total: mine.count, resumed: mine.count - todo.count, toRun: todo.count))
        // Written now as well as at the end, so a killed run leaves the code and inputs its
        // records were made with (what a later run checks before resuming).
        try writeManifest(records)

        let workers = max(1, min(options.jobs, todo.count))
        let state = RunState(todo: todo, workers: workers)
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            let thread = Thread { [self] in
                while let point = state.next() { runPoint(point, frozen: frozen, folder: folder, state: state) }
                group.leave()
            }
            thread.stackSize = 8 << 20  // experiments recurse through models; 512 KiB is tight
            thread.start()
        }
        group.wait()
        for (index, record) in state.records { records[index] = record }

        let tablesWritten = options.shard.count == 1
        if tablesWritten { try writeTables(folder: folder, frozen: frozen, records: records) }
        try writeManifest(records)
        let summary = RunSummary(
            folder: folder.path, total: mine.count, resumed: mine.count - todo.count, ran: todo.count,
            failed: state.failed.sorted(), missing: frozen.points.map(\.index).filter { records[$0]?.status != .ok },
            tablesWritten: tablesWritten)
        events(.finished(summary))
        return summary
    }

    enum Preparation { case run, upToDate }

    /// Creates the folder and freezes the spec, or checks the one already frozen there
    /// against this run (spec, code, inputs) and applies `options.existing`.
    private func prepare(_ folder: RunFolder, frozen: FrozenSpec) throws -> Preparation {
        if folder.exists {
            let existing: FrozenSpec?
            do {
                existing = try folder.readFrozenSpec()
            } catch {
                throw RunError("\(folder.frozenSpecPath) is unreadable: \(error)",
                               hint: "rerun with --force-new to move \(folder.path) aside, or remove it")
            }
            let isEmpty = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).isEmpty
            let manifest = try? readJSON(Manifest.self, path: folder.manifestPath)
            let sameSpec = existing != nil && existing == frozen
            let current = sameSpec && manifest.map { $0.specHash == frozen.hash && $0.provenance.isCurrent(against: options.provenance) } == true
            switch options.existing {
            case .startAfresh:
                if !isEmpty { try moveAside(folder, hash: existing?.hash ?? "unfrozen") }
            case .replaceChanged, .skipCurrent:
                if options.existing == .skipCurrent, current, manifest?.status == "complete", options.shard.count == 1,
                   frozen.tables.allSatisfy({ FileManager.default.fileExists(atPath: folder.tablePath($0.name)) }) {
                    return .upToDate
                }
                if !isEmpty && !current {
                    options.events(.warning("\(folder.path): " + changeDescription(existing: existing, manifest: manifest, frozen: frozen)))
                    try moveAside(folder, hash: existing?.hash ?? "unfrozen")
                }
            case .resume:
                if let existing, existing.hash != frozen.hash {
                    throw RunError("\(folder.path) holds the results of spec \(existing.hash), but this spec resolves to \(frozen.hash); they are never mixed",
                                   hint: "rerun with --force-new to move the old folder to \(folder.path).\(existing.hash) and start afresh, or remove \(folder.path)")
                } else if let existing, existing != frozen {
                    throw RunError("\(folder.path) was frozen by this spec (\(frozen.hash)) but with other tables or points: the experiment's code changed",
                                   hint: "rerun with --force-new to move the old folder aside and start afresh, or remove \(folder.path)")
                } else if existing == nil && !isEmpty {
                    throw RunError("\(folder.path) exists but holds no spec.resolved.json",
                                   hint: "choose another --out folder, rerun with --force-new to move it aside, or remove it")
                } else if let manifest, folder.hasRecordFiles, manifest.provenance.code != nil, options.provenance.code != nil,
                          !manifest.provenance.isCurrent(against: options.provenance) {
                    throw RunError("\(folder.path) holds point records made by other code or from other inputs (\(changeDescription(existing: existing, manifest: manifest, frozen: frozen))); resuming would mix them",
                                   hint: "rerun with --replace-changed (or --force-new) to move the old folder aside and start afresh")
                }
            }
        }
        try folder.create()
        folder.removeTemporaryFiles()
        if !FileManager.default.fileExists(atPath: folder.frozenSpecPath) {
            try writeJSON(frozen, path: folder.frozenSpecPath)
        }
        return .run
    }

    /// What differs between a folder's results and this run, for the message that moves it aside.
    private func changeDescription(existing: FrozenSpec?, manifest: Manifest?, frozen: FrozenSpec) -> String {
        guard let existing else { return "no frozen spec" }
        if existing.hash != frozen.hash { return "spec changed (\(existing.hash) -> \(frozen.hash))" }
        if existing != frozen { return "the experiment's tables or points changed" }
        guard let manifest else { return "no manifest records the code and inputs" }
        let then = manifest.provenance, now = options.provenance
        if then.code == nil || now.code == nil {
            return "code cannot be compared (uncommitted changes to Sources or Package.swift, or no git)"
        }
        if then.code != now.code { return "code changed (\(then.code!) -> \(now.code!))" }
        let changed = Set(then.inputs.keys).union(now.inputs.keys).filter { then.inputs[$0] != now.inputs[$0] }.sorted()
        return "inputs changed: " + changed.map { "\($0) (\(then.inputs[$0] ?? "none") -> \(now.inputs[$0] ?? "none"))" }.joined(separator: ", ")
    }

    private func moveAside(_ folder: RunFolder, hash: String) throws {
        var target = "\(folder.path).\(hash)"
        var n = 1
        while FileManager.default.fileExists(atPath: target) {
            target = "\(folder.path).\(hash).\(n)"
            n += 1
        }
        do {
            try FileManager.default.moveItem(atPath: folder.path, toPath: target)
        } catch {
            throw RunError("cannot move \(folder.path) aside to \(target): \(error.localizedDescription)",
                           hint: "remove or rename \(folder.path) yourself")
        }
        options.events(.warning("moved the old \(folder.path) to \(target)"))
    }

    private func runPoint(_ point: PointPlan, frozen: FrozenSpec, folder: RunFolder, state: RunState) {
        let events = options.events
        let clock = ContinuousClock.now
        var record = PointRecord(index: point.index, id: point.id, specHash: frozen.hash, status: .ok, error: nil,
                                 tables: [:], timings: [], seconds: 0, finished: "")
        do {
            let result = try plan.execute(point.index, PointProgress { events(.status(point: point, text: $0)) })
            record.tables = try fullRows(result, point: point, frozen: frozen)
            record.timings = result.timings
        } catch {
            record.status = .failed
            record.error = "\(error)"
            record.tables = [:]
        }
        let elapsed = ContinuousClock.now - clock
        record.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        if record.status == .ok { record.timings.append(PointResult.Timing(phase: "point", seconds: record.seconds)) }
        record.finished = timestamp(Date())
        do {
            try writeJSON(record, path: folder.recordPath(point.index))
        } catch {
            record.status = .failed
            record.error = "the result could not be recorded: \(error)"
        }
        state.finish(record, events: events)
    }

    /// The result's rows as full table rows (axis columns first), checked against the
    /// experiment's declared tables.
    private func fullRows(_ result: PointResult, point: PointPlan, frozen: FrozenSpec) throws -> [String: [[String]]] {
        var tables: [String: [[String]]] = [:]
        for (name, rows) in result.rows {
            guard let schema = plan.tables.first(where: { $0.name == name }),
                  let full = frozen.tables.first(where: { $0.name == name }) else {
                throw RunError("the experiment returned rows for an undeclared table `\(name)`",
                               hint: "declare it in the experiment's tables (a bug in the experiment's code)")
            }
            let prefix = full.columns.dropLast(schema.columns.count).map { key in
                point.assignments.first { $0.key == key }?.value.cellText ?? ""
            }
            tables[name] = try rows.map { row in
                guard row.count == schema.columns.count else {
                    throw RunError("table `\(name)`: a row has \(row.count) cells for \(schema.columns.count) columns",
                                   hint: "a bug in the experiment's code")
                }
                return prefix + row.map(\.text)
            }
        }
        return tables
    }
}

/// The shared queue and tallies of a run's workers.
private final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private let todo: [PointPlan]
    private var nextIndex = 0
    private var done = 0
    private var okSeconds = 0.0
    private var okCount = 0
    private let workers: Int
    private(set) var failed: [Int] = []
    private(set) var records: [Int: PointRecord] = [:]

    init(todo: [PointPlan], workers: Int) {
        self.todo = todo
        self.workers = workers
    }

    func next() -> PointPlan? {
        lock.lock()
        defer { lock.unlock() }
        guard nextIndex < todo.count else { return nil }
        nextIndex += 1
        return todo[nextIndex - 1]
    }

    func finish(_ record: PointRecord, events: (RunEvent) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        records[record.index] = record
        let point = todo.first { $0.index == record.index }!
        if record.status == .ok {
            okSeconds += record.seconds
            okCount += 1
            let left = todo.count - done
            let eta = okSeconds / Double(okCount) * Double(left) / Double(max(1, min(left, workers)))
            events(.pointFinished(point: point, seconds: record.seconds, done: done, toRun: todo.count, eta: eta))
        } else {
            failed.append(record.index)
            events(.pointFailed(point: point, error: record.error ?? "", done: done, toRun: todo.count))
        }
    }
}

extension RunOptions {
    /// `results/<name>` for a whole run, `results/<name>.shard-<i>-of-<n>` for a shard.
    public static func defaultFolder(name: String, shard: Shard) -> String {
        shard.count == 1 ? "results/\(name)" : "results/\(name).shard-\(shard.index)-of-\(shard.count)"
    }
}

/// What `--dry-run` prints: the resolved spec's identity, then one line per point of
/// the shard (`index  id`).
public func dryRunListing(_ spec: ResolvedSpec, shard: Shard, folder: String) -> String {
    let points = spec.points.filter { shard.contains($0.index) }
    var text = "experiment \(spec.experiment), name \(spec.name), spec hash \(spec.hash)\n"
    text += "\(spec.points.count) points"
    if shard.count > 1 { text += ", shard \(shard) runs \(points.count) of them" }
    text += " -> \(folder)\n"
    let width = String(spec.points.count - 1).count
    for point in points {
        text += String(repeating: " ", count: width - String(point.index).count) + "\(point.index)  \(point.id)\n"
    }
    return text
}
