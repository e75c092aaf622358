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
    /// As `replaceChanged`, but a folder that is not current is removed instead of moved
    /// aside: for scratch folders whose results live elsewhere (`persephone reproduce`'s
    /// staging folders; the unit store keeps what was computed).
    case discardChanged
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
    /// Where unit records are kept and looked up (default: `UnitStore.beside(folder:)`,
    /// `results/unit-store` for `results/<name>`).
    public var store: UnitStore
    /// Compute the units missing from the store; false only assembles what is there
    /// (what `merge` does).
    public var computeUnits: Bool
    /// Receives progress; called from worker threads, one event at a time.
    public var events: @Sendable (RunEvent) -> Void

    public init(folder: String, jobs: Int = ProcessInfo.processInfo.activeProcessorCount, shard: Shard = .all,
                forceNew: Bool = false, existing: ExistingResults = .resume, provenance: Provenance = .collect(),
                store: UnitStore? = nil, computeUnits: Bool = true,
                events: @escaping @Sendable (RunEvent) -> Void = StderrProgress.events()) {
        precondition(jobs >= 1, "jobs must be at least 1")
        self.folder = folder
        self.jobs = jobs
        self.shard = shard
        self.existing = forceNew ? .startAfresh : existing
        self.provenance = provenance
        self.store = store ?? UnitStore.beside(folder: folder)
        self.computeUnits = computeUnits
        self.events = events
    }
}

/// Runs a plan into a run folder (layout: `RunFolder`), durably and resumably:
/// - the resolved spec is frozen in `spec.resolved.json` first; a folder frozen with
///   another hash is refused (or, with `forceNew`, moved aside); the folder is locked
///   while the run writes to it;
/// - every point lists its units (`WorkUnit`); equal units (same key: identity and code)
///   are one unit, computed once. A sharded run (`count > 1`) takes every n-th unit of
///   that list, so even a one-point spec spreads over shards;
/// - a unit already in the store is reused; the others are computed by `jobs` workers,
///   each record renamed into the store the moment it is done, so a kill loses only the
///   units in flight; a failing unit is reported at once and the others go on;
/// - an unsharded run then builds every point's rows from its units' records, in
///   point-index order, and writes the tables; the bytes are the same whatever the job
///   count, shard split, interruptions, completion order, or which units were reused.
///   A sharded run writes no tables and keeps copies of its unit records in `units/`:
///   `merge` joins them.
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
        if try prepare(folder, frozen: frozen) == .upToDate {
            events(.notice("\(folder.path) is up to date (same spec, code and inputs, every point ok): nothing to run"))
            let summary = RunSummary(folder: folder.path, total: frozen.points.count, reused: 0, ran: 0, failed: [],
                                     missing: [], tablesWritten: false)
            events(.finished(summary))
            return summary
        }
        let lock = try RunLock(folder: folder)
        defer { lock.release() }
        folder.removeTemporaryFiles()

        // Every point's units, keyed; the first listing of a key is the unit's place.
        let code = options.provenance.code ?? Runner.unknownCode
        if options.provenance.code == nil {
            events(.warning("the code fingerprint is unknown: units computed now are not reused by other builds"))
        }
        let listing = plan.listUnits { UnitCoding.key(identity: $0.identity, code: code) }
        let (ordered, pointKeys, pointErrors) = (listing.units, listing.pointKeys, listing.pointErrors.mapValues { "\($0)" })
        let sharded = options.shard.count > 1
        let mine = ordered.indices.filter { options.shard.contains($0) }.map { ordered[$0] }

        let store = options.store
        store.removeAbandonedTemporaryFiles()
        let warn: (String) -> Void = { events(.warning($0)) }
        var outputs: [String: UnitOutput] = [:]
        var todo: [(key: String, unit: WorkUnit)] = []
        for entry in (sharded ? mine : ordered) {
            if let stored = store.read(key: entry.key, identity: entry.unit.identity, warn: warn) {
                outputs[entry.key] = stored.output
                if sharded, !FileManager.default.fileExists(atPath: folder.unitPath(entry.key)) {
                    try UnitStore.writeFile(stored, path: folder.unitPath(entry.key))
                }
            } else {
                todo.append(entry)
            }
        }
        let reused = (sharded ? mine : ordered).count - todo.count
        if !options.computeUnits { todo = [] }
        events(.started(folder: folder.path, points: frozen.points.count, units: (sharded ? mine : ordered).count,
                        reused: reused, toRun: todo.count))

        func writeManifest(_ records: [Int: PointRecord], failedUnits: Int) throws {
            var manifest = Manifest(frozen: frozen, records: records, shard: options.shard.description,
                                    provenance: options.provenance, started: started, ended: Date())
            manifest.units = Manifest.UnitCounts(total: (sharded ? mine : ordered).count, reused: reused,
                                                 computed: todo.count - failedUnits, failed: failedUnits,
                                                 store: store.root)
            try writeJSON(manifest, path: folder.manifestPath)
        }
        // Written now as well as at the end, so a killed run leaves the code and inputs its
        // records were made with (what a later run checks before resuming).
        try writeManifest([:], failedUnits: 0)

        let state = UnitQueue(todo: todo, workers: max(1, min(options.jobs, todo.count)))
        let group = DispatchGroup()
        for _ in 0..<state.workers {
            group.enter()
            let thread = Thread { [self] in
                while let entry = state.next() {
                    computeUnit(entry.key, entry.unit, code: code, store: store,
                                copy: sharded ? folder.unitPath(entry.key) : nil, state: state)
                }
                group.leave()
            }
            thread.stackSize = 8 << 20  // experiments recurse through models; 512 KiB is tight
            thread.start()
        }
        group.wait()
        outputs.merge(state.outputs) { first, _ in first }
        let unitErrors = state.errors

        var records: [Int: PointRecord] = [:]
        if !sharded {
            let labels = Dictionary(ordered.map { ($0.key, $0.unit.label) }, uniquingKeysWith: { a, _ in a })
            for point in frozen.points {
                if let record = pointRecord(point, frozen: frozen, keys: pointKeys[point.index], error: pointErrors[point.index],
                                            outputs: outputs, unitErrors: unitErrors, labels: labels) {
                    try writeJSON(record, path: folder.recordPath(point.index))
                    records[point.index] = record
                }
            }
            try writeTables(folder: folder, frozen: frozen, records: records)
        }
        try writeManifest(records, failedUnits: unitErrors.count)
        let summary = RunSummary(
            folder: folder.path, total: frozen.points.count, reused: reused, ran: todo.count - unitErrors.count,
            failed: records.values.filter { $0.status == .failed }.map(\.index).sorted(),
            missing: frozen.points.map(\.index).filter { records[$0]?.status != .ok },
            failedUnits: unitErrors.count, tablesWritten: !sharded)
        events(.finished(summary))
        return summary
    }

    /// The key component that stands for code whose fingerprint is unknown: unique to this
    /// process, so its units are never mistaken for another build's.
    static let unknownCode = "unknown:\(ProcessInfo.processInfo.processIdentifier):\(UInt64(Date().timeIntervalSince1970 * 1e6))"

    /// Computes one unit, renames its record into the store (and its copy into a shard
    /// folder), and reports it.
    private func computeUnit(_ key: String, _ unit: WorkUnit, code: String, store: UnitStore, copy: String?, state: UnitQueue) {
        let events = options.events
        let clock = ContinuousClock.now
        do {
            let output = try unit.compute(PointProgress { events(.status(unit: unit.label, text: $0)) })
            let elapsed = ContinuousClock.now - clock
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            let stored = StoredUnit(key: key, code: code, unit: unit, output: output, seconds: seconds)
            try store.write(stored)
            if let copy { try UnitStore.writeFile(stored, path: copy) }
            state.finish(key, label: unit.label, output: output, seconds: seconds, events: events)
        } catch {
            state.fail(key, label: unit.label, error: "\(error)", events: events)
        }
    }

    /// A point's record from its units' records, or nil when a unit is not here (not
    /// computed by this run: `computeUnits` is off).
    private func pointRecord(_ point: PointPlan, frozen: FrozenSpec, keys: [String]?, error: String?,
                             outputs: [String: UnitOutput], unitErrors: [String: String],
                             labels: [String: String]) -> PointRecord? {
        var record = PointRecord(index: point.index, id: point.id, specHash: frozen.hash, status: .failed, error: error,
                                 tables: [:], timings: [], seconds: 0, finished: timestamp(Date()))
        guard let keys, error == nil else { return record }
        if let failed = keys.first(where: { unitErrors[$0] != nil }) {
            record.error = "unit \(labels[failed] ?? failed) failed: \(unitErrors[failed]!)"
            return record
        }
        guard keys.allSatisfy({ outputs[$0] != nil }) else { return nil }
        let units = keys.map { UnitResult(key: $0, label: labels[$0] ?? $0, output: outputs[$0]!) }
        do {
            let result = try plan.rows(point.index, units)
            record.tables = try fullRows(result, point: point, frozen: frozen)
            record.timings = result.timings
            record.status = .ok
        } catch {
            record.error = "\(error)"
        }
        return record
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
            let isEmpty = folder.isEmpty
            let manifest = try? readJSON(Manifest.self, path: folder.manifestPath)
            let sameSpec = existing != nil && existing == frozen
            let current = sameSpec && manifest.map { $0.specHash == frozen.hash && $0.provenance.isCurrent(against: options.provenance) } == true
            switch options.existing {
            case .startAfresh:
                if !isEmpty { try moveAside(folder, hash: existing?.hash ?? "unfrozen") }
            case .replaceChanged, .skipCurrent, .discardChanged:
                if options.existing == .skipCurrent, current, manifest?.status == "complete", options.shard.count == 1,
                   frozen.tables.allSatisfy({ FileManager.default.fileExists(atPath: folder.tablePath($0.name)) }) {
                    return .upToDate
                }
                if !isEmpty && !current {
                    let why = changeDescription(existing: existing, manifest: manifest, frozen: frozen)
                    if options.existing == .discardChanged {
                        try discard(folder, because: why)
                    } else {
                        options.events(.warning("\(folder.path): " + why))
                        try moveAside(folder, hash: existing?.hash ?? "unfrozen")
                    }
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

    /// Removes a scratch folder that cannot be resumed (`discardChanged`).
    private func discard(_ folder: RunFolder, because why: String) throws {
        try RunLock.refuseIfHeld(folder)
        do {
            try FileManager.default.removeItem(atPath: folder.path)
        } catch {
            throw RunError("cannot remove \(folder.path): \(error.localizedDescription)", hint: "remove it yourself")
        }
        options.events(.notice("\(folder.path): \(why); removed it and started afresh (its units stay in the store)"))
    }

    private func moveAside(_ folder: RunFolder, hash: String) throws {
        try RunLock.refuseIfHeld(folder)
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

extension RunOptions {
    /// `results/<name>` for a whole run, `results/<name>.shard-<i>-of-<n>` for a shard.
    public static func defaultFolder(name: String, shard: Shard) -> String {
        shard.count == 1 ? "results/\(name)" : "results/\(name).shard-\(shard.index)-of-\(shard.count)"
    }
}
