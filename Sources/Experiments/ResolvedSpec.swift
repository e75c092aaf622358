/// A spec resolved against its experiment's schema: every key at its final value,
/// every sweep point expanded and checked. Its canonical form (`canonical`) is
/// `{"config": <base configuration>, "experiment": <kind>, "name": <name>,
/// "sweep": [{"key": <dotted key>, "values": [...]}, ...]}`; `hash` is its SpecHash.
public struct ResolvedSpec: Sendable, Equatable {
    public var experiment: String
    public var name: String
    /// The configuration before the sweep: defaults, then the file, then overrides.
    public var config: CanonicalValue
    public var axes: [ResolvedAxis]
    /// Every point in index order (row-major over `axes`, the last axis fastest).
    public var points: [PointPlan]
    public var canonical: CanonicalValue
    public var hash: String

    init(experiment: String, name: String, config: CanonicalValue, axes: [ResolvedAxis], points: [PointPlan]) {
        self.experiment = experiment
        self.name = name
        self.config = config
        self.axes = axes
        self.points = points
        canonical = .map([
            "experiment": .string(experiment), "name": .string(name), "config": config,
            "sweep": .list(axes.map { .map(["key": .string($0.key), "values": .list($0.values)]) }),
        ])
        hash = SpecHash.hex(of: canonical)
    }
}

/// A sweep axis after resolution: values in their canonical (typed) form.
public struct ResolvedAxis: Sendable, Equatable, Codable {
    public var key: String
    public var values: [CanonicalValue]
}

/// One point of a resolved spec, untyped: what the runner, its records and `merge` need.
public struct PointPlan: Sendable, Equatable, Codable {
    public var index: Int
    /// `key=value` for each axis, joined by ','; `default` when there is no sweep.
    public var id: String
    public var assignments: [Assignment]

    public init(index: Int, id: String, assignments: [Assignment]) {
        self.index = index
        self.id = id
        self.assignments = assignments
    }
}

/// The largest sweep a spec may expand to (a guard against a typo'd range).
let maximumPoints = 100_000

/// Resolves a spec document for the configuration type `Config`:
/// defaults (`Config()`) <- the file's keys <- `overrides` (in order); the sweep is the
/// file's axes with each `--sweep` axis replacing the file's axis of the same key in
/// place or, if new, appended; an override of a swept key removes that axis (the
/// override wins, as the most specific instruction). Every point is decoded and
/// validated, so a dry run catches every bad value.
func resolveSpec<Config: ExperimentConfig>(
    _ type: Config.Type, document: SpecDocument, overrides: [Override], sweeps: [SweepAxis]
) throws -> (spec: ResolvedSpec, configs: [Config]) {
    var tree = canonicalValue(of: Config()).specNode(origin: .schemaDefault).merged(with: document.body)
    for override in overrides {
        try tree.set(override.value, at: override.path, keyOrigin: override.keyOrigin)
    }
    var axes = document.sweep
    for axis in sweeps {
        if let clash = overrides.first(where: { $0.key == axis.key }) {
            throw SpecError(origin: .commandLine(clash.text), key: axis.key,
                            message: "the key is both overridden and swept on the command line",
                            hint: "keep `\(clash.text)` or `--sweep \(axis.key)=...`, not both")
        }
        if let i = axes.firstIndex(where: { $0.key == axis.key }) { axes[i] = axis } else { axes.append(axis) }
    }
    axes.removeAll { axis in overrides.contains { $0.key == axis.key } }

    let base: Config = try decodeTree(Config.self, from: tree, rejectUnknownKeys: true)
    if axes.isEmpty { try validate(base, tree: tree) }

    // Saturates at maximumPoints + 1, so a huge product cannot overflow.
    let count = axes.reduce(1) { min($0 * min($1.values.count, maximumPoints + 1), maximumPoints + 1) }
    guard count <= maximumPoints else {
        throw SpecError(origin: axes.last?.origin ?? .schemaDefault, key: "sweep",
                        message: "the sweep expands to more than \(maximumPoints) points",
                        hint: "shorten the axes, or split the sweep into several specs")
    }
    var configs: [Config] = []
    var points: [PointPlan] = []
    var axisValues = axes.map { [CanonicalValue?](repeating: nil, count: $0.values.count) }
    var seenIds: [String: Int] = [:]
    for index in 0..<count {
        var pointTree = tree
        var choices = [Int](repeating: 0, count: axes.count)
        var rest = index
        for a in axes.indices.reversed() {
            choices[a] = rest % axes[a].values.count
            rest /= axes[a].values.count
        }
        for (a, axis) in axes.enumerated() {
            try pointTree.set(axis.values[choices[a]], at: axis.path, keyOrigin: axis.origin)
        }
        let config = try decodeTree(Config.self, from: pointTree, rejectUnknownKeys: true)
        try validate(config, tree: pointTree)
        let canonical = canonicalValue(of: config)
        let assignments = axes.map { Assignment(key: $0.key, value: canonical.value(at: $0.path) ?? .null) }
        for (a, assignment) in assignments.enumerated() { axisValues[a][choices[a]] = assignment.value }
        let id = assignments.isEmpty ? "default" : assignments.map { "\($0.key)=\($0.value.cellText)" }.joined(separator: ",")
        if let earlier = seenIds[id] {
            let a = axes.indices.first { points[earlier].assignments[$0] == assignments[$0] && choicesDiffer(earlier, index, $0, axes) }
            let axis = axes[a ?? 0]
            throw SpecError(origin: axis.origin, key: axis.key, message: "the sweep lists the value \(id) twice (points \(earlier) and \(index))",
                            hint: "values that resolve to the same setting (such as 1 and 1.0) count once; drop the repeat")
        }
        seenIds[id] = index
        configs.append(config)
        points.append(PointPlan(index: index, id: id, assignments: assignments))
    }
    let resolvedAxes = axes.enumerated().map { a, axis in
        ResolvedAxis(key: axis.key, values: axisValues[a].map { $0 ?? .null })
    }
    let spec = ResolvedSpec(experiment: document.experiment, name: document.name ?? document.experiment,
                            config: canonicalValue(of: base), axes: resolvedAxes, points: points)
    return (spec, configs)
}

/// True when points `i` and `j` pick different values of axis `a`.
private func choicesDiffer(_ i: Int, _ j: Int, _ a: Int, _ axes: [SweepAxis]) -> Bool {
    var stride = 1
    for b in axes.indices.reversed() where b > a { stride *= axes[b].values.count }
    let n = axes[a].values.count
    return (i / stride) % n != (j / stride) % n
}

/// Runs `validate()`, turning a constraint violation into an error at the value's place.
private func validate<Config: ExperimentConfig>(_ config: Config, tree: SpecNode) throws {
    do {
        try config.validate()
    } catch let violation as SpecConstraintViolation {
        let path = violation.key.split(separator: ".").map(String.init)
        throw SpecError(origin: tree.node(at: path)?.origin ?? tree.origin, key: violation.key,
                        message: violation.message, hint: violation.hint)
    }
}
