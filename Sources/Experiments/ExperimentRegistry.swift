/// A spec resolved and bound to the code that computes its points: what `Runner` runs.
public struct RunPlan: Sendable {
    public var spec: ResolvedSpec
    public var tables: [TableSchema]
    /// The units the point of that index needs, in the order its rows read them.
    let units: @Sendable (Int) throws -> [WorkUnit]
    /// The point's rows from its units' records (pure: the records are all it reads).
    let rows: @Sendable (Int, [UnitResult]) throws -> PointResult
    /// The input fingerprints of every point's configuration, merged (read when called).
    public let inputFingerprints: @Sendable () -> [String: String]
    /// Checks every point's inputs (`ExperimentConfig.checkInputs`), each distinct
    /// configuration once; the first problem is thrown.
    public let checkInputs: @Sendable () throws -> Void

    /// A plan for one typed experiment (what the registry builds; tests use it directly).
    public init<Config>(experiment: Experiment<Config>, document: SpecDocument,
                        overrides: [Override] = [], sweeps: [SweepAxis] = []) throws {
        guard document.experiment == experiment.kind else {
            throw SpecError(origin: document.experimentOrigin, key: "experiment",
                            message: "this spec is for `\(document.experiment)`, not `\(experiment.kind)`",
                            hint: "run it with the experiment it names")
        }
        let (spec, configs) = try resolveSpec(Config.self, document: document, overrides: overrides, sweeps: sweeps)
        self.spec = spec
        tables = experiment.tables
        let points = spec.points
        let unitsOf = experiment.units, rowsOf = experiment.rows
        inputFingerprints = {
            configs.reduce(into: [String: String]()) { all, config in
                all.merge(config.inputFingerprints()) { first, _ in first }
            }
        }
        checkInputs = {
            var seen: Set<String> = []
            for config in configs where seen.insert(canonicalValue(of: config).compactJSON).inserted {
                try config.checkInputs()
            }
        }
        @Sendable func resolved(_ index: Int) -> ResolvedPoint<Config> {
            let plan = points[index]
            return ResolvedPoint(index: index, id: plan.id, assignments: plan.assignments, config: configs[index])
        }
        units = { index in try unitsOf(resolved(index)) }
        rows = { index, records in try rowsOf(resolved(index), records) }
    }
}

/// The experiment kinds `persephone run` knows, keyed by the spec's `experiment:` name.
public struct ExperimentRegistry: Sendable {
    private var makers: [String: (summary: String, reference: SchemaReference,
                                  plan: @Sendable (SpecDocument, [Override], [SweepAxis]) throws -> RunPlan)] = [:]

    public init() {}

    public mutating func register<Config>(_ experiment: Experiment<Config>) {
        precondition(makers[experiment.kind] == nil, "experiment kind `\(experiment.kind)` registered twice")
        makers[experiment.kind] = (experiment.summary, SchemaReference(Config.self), { document, overrides, sweeps in
            try RunPlan(experiment: experiment, document: document, overrides: overrides, sweeps: sweeps)
        })
    }

    /// Registered kinds, sorted, with their one-line summaries.
    public var kinds: [(kind: String, summary: String)] {
        makers.keys.sorted().map { ($0, makers[$0]!.summary) }
    }

    /// The schema reference of a kind, or nil if it is not registered.
    public func reference(of kind: String) -> SchemaReference? { makers[kind]?.reference }

    /// Resolves a document against its kind's schema.
    public func plan(_ document: SpecDocument, overrides: [Override] = [], sweeps: [SweepAxis] = []) throws -> RunPlan {
        guard let maker = makers[document.experiment] else {
            let names = makers.keys.sorted()
            var hint = "known kinds: \(names.joined(separator: ", "))"
            if let guess = nearMiss(document.experiment, among: names) { hint = "did you mean `\(guess)`? " + hint }
            throw SpecError(origin: document.experimentOrigin, key: "experiment",
                            message: "unknown experiment kind `\(document.experiment)`", hint: hint)
        }
        return try maker.plan(document, overrides, sweeps)
    }

    /// Resolves the spec frozen in a run folder again (what `merge` needs to build rows),
    /// refusing when today's code resolves it to another hash.
    public func plan(frozen: FrozenSpec, folder: String) throws -> RunPlan {
        let document = try SpecDocument(frozen: frozen, path: folder + "/spec.resolved.json")
        let plan = try self.plan(document)
        guard plan.spec.hash == frozen.hash else {
            throw RunError("\(folder)'s spec \(frozen.hash) resolves to \(plan.spec.hash) with this build: the experiment's schema changed",
                           hint: "merge with the build that ran the shards, or rerun them with this one")
        }
        return plan
    }

    /// Resolves a spec file as the command line gives it: the file, then each overlay file
    /// (`Overlay`: keys and sweep axes) in order, then the `key=value` overrides, with `--sweep` axes.
    public func plan(specFile: String, overlays: [String], overrides: [String], sweeps: [String]) throws -> RunPlan {
        var document = try SpecDocument.load(path: specFile)
        let loaded = try overlays.map { try Overlay(path: $0, experiment: document.experiment) }
        let layered = Overlay.layer(loaded, over: &document) + (try overrides.map(Override.init(parsing:)))
        return try plan(document, overrides: layered, sweeps: sweeps.map(SweepAxis.init(parsing:)))
    }
}
