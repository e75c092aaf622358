import Foundation

/// What a reproduction will run, stated before it starts: per experiment its points and
/// units, over all of them the distinct units (experiments share units through the unit
/// store; each counts once, at the first experiment that lists it), those already in the
/// store, and an estimate of the time to compute the rest, from what was measured (never
/// invented): the reference folder's manifest (its wall time over the units it computed),
/// else the measured times of stored units of the same kinds (`UnitCoverage.kind`), `jobs`
/// at once as the runner's ETA counts them; an experiment with neither is left out of the
/// estimate and said so.
public struct ReproducePreview: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public var name: String
        public var points: Int
        /// Distinct units of this experiment.
        public var units: Int
        /// Of those, listed by an earlier experiment of the reproduction (computed there, read here).
        public var shared: Int
        /// Of the rest, already in the store.
        public var inStore: Int
        /// The rest: computed by this experiment.
        public var toCompute: Int
        /// The committed folder's measurement, if its manifest has one.
        public var reference: Reference?
        /// Why there is no reference measurement (nil when there is one).
        public var noReference: String?
        /// Without a reference: seconds for the units to compute at the stored units'
        /// measured times of their kinds, `jobs` at once; nil when a kind was never stored.
        public var fromStore: Double?
    }

    /// A reference run's pace: wall time over the units it computed, on its machine.
    public struct Reference: Sendable, Equatable {
        public var folder: String
        public var seconds: Double
        public var unitsComputed: Int
        public var machine: Provenance.Machine
        public var secondsPerUnit: Double { seconds / Double(unitsComputed) }
    }

    public var steps: [Step]
    public var distinctUnits: Int { steps.reduce(0) { $0 + $1.units - $1.shared } }
    public var inStore: Int { steps.reduce(0) { $0 + $1.inStore } }
    public var toCompute: Int { steps.reduce(0) { $0 + $1.toCompute } }

    public var jobs: Int

    /// Seconds to compute the units of the steps that have a measurement (each step's units
    /// to compute times its reference's seconds per unit, else `fromStore`); nil when none has.
    public var estimate: Double? {
        let measured = steps.compactMap { step in step.reference.map { Double(step.toCompute) * $0.secondsPerUnit } ?? step.fromStore }
        return measured.isEmpty ? nil : measured.reduce(0, +)
    }

    /// Counts the units of every step in order against the store (`code` keys them as the
    /// runner does; nil, unknown code: nothing is in the store) and reads each committed
    /// folder's manifest for its pace.
    init(steps: [ReproduceStep], store: UnitStore, code: String?, jobs: Int) {
        self.jobs = jobs
        let listings = steps.map { $0.plan.listUnits { UnitCoding.key(identity: $0.identity, code: code ?? Runner.unknownCode) } }
        var stored: [String: Double] = [:]  // key -> measured seconds, stored units only
        if code != nil {
            for (key, _) in listings.flatMap(\.units) where stored[key] == nil { stored[key] = store.storedSeconds(of: key) }
        }
        let distinct = Dictionary(listings.flatMap(\.units), uniquingKeysWith: { a, _ in a })
        let means = UnitCoverage.meanSeconds(byKindOf: distinct.map { (key: $0.key, label: $0.value.label) }, seconds: stored)
        var seen: Set<String> = []
        self.steps = zip(steps, listings).map { step, listing in
            var shared = 0, inStore = 0, toCompute = 0
            var fromStore: Double? = 0
            for (key, unit) in listing.units {
                if !seen.insert(key).inserted { shared += 1 }
                else if stored[key] != nil { inStore += 1 }
                else {
                    toCompute += 1
                    let mean = means[UnitCoverage.kind(unit.label)]
                    fromStore = fromStore.flatMap { total in mean.map { total + $0 / Double(jobs) } }
                }
            }
            let (reference, why) = Self.reference(in: step.folder)
            return Step(name: step.name, points: step.plan.spec.points.count, units: listing.units.count, shared: shared,
                        inStore: inStore, toCompute: toCompute, reference: reference, noReference: why,
                        fromStore: reference == nil && toCompute > 0 ? fromStore : nil)
        }
    }

    /// The pace recorded by `folder/manifest.json`: its started-to-ended wall time over the
    /// units it computed; or why there is none.
    static func reference(in folder: String) -> (Reference?, String?) {
        let path = folder + "/manifest.json"
        guard FileManager.default.fileExists(atPath: path) else { return (nil, "no reference folder \(folder)") }
        guard let manifest = try? readJSON(Manifest.self, path: path) else { return (nil, "\(path) is unreadable") }
        guard let units = manifest.units else { return (nil, "\(path) predates unit counts") }
        guard units.computed > 0 else { return (nil, "\(path) computed no units (all were in its store)") }
        guard let started = parseTimestamp(manifest.started), let ended = parseTimestamp(manifest.ended), ended >= started else {
            return (nil, "\(path) has no usable started/ended times")
        }
        return (Reference(folder: folder, seconds: ended.timeIntervalSince(started), unitsComputed: units.computed,
                          machine: manifest.provenance.machine), nil)
    }

    /// The text printed before a reproduction starts.
    public var lines: [String] {
        var lines = ["reproduce: \(steps.count) experiments, one after another:"]
        let width = steps.map(\.name.count).max() ?? 0
        for step in steps {
            let name = step.name.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("  \(name)  \(step.points) points, \(step.units) units: \(step.shared) shared with an earlier "
                         + "experiment, \(step.inStore) in the store, \(step.toCompute) to compute")
        }
        lines.append("  all: \(distinctUnits) distinct units, \(inStore) reused from the store, \(toCompute) to compute")
        lines.append(estimateLine)
        return lines
    }

    /// How long, and where the figure comes from.
    var estimateLine: String {
        if toCompute == 0 { return "  time: nothing to compute (every unit is in the store); the tables are rebuilt from it" }
        guard let estimate else {
            return "  time: no estimate (nothing measured: "
                + steps.filter { $0.toCompute > 0 }.compactMap(\.noReference).joined(separator: "; ")
                + "; and no unit of their kinds in the store)"
        }
        let measured = steps.filter { $0.reference != nil }, priced = steps.filter { $0.fromStore != nil }
        var sources: [String] = []
        if !measured.isEmpty {
            let machines = Set(measured.map { machineText($0.reference!.machine) }).sorted()
            sources.append("the reference runs' pace ("
                + measured.map { "\($0.name) \(formatDuration($0.reference!.secondsPerUnit))/unit, \($0.reference!.unitsComputed) units in \(formatDuration($0.reference!.seconds))" }
                    .joined(separator: "; ")
                + ") measured on " + machines.joined(separator: " and "))
        }
        if !priced.isEmpty {
            sources.append("the measured times of the store's units of the same kinds, \(jobs) at once, for "
                + priced.map { "\($0.name) (\(formatDuration($0.fromStore!)))" }.joined(separator: ", "))
        }
        var line = "  time: about \(formatDuration(estimate)) to compute, from " + sources.joined(separator: "; and from ")
        let unmeasured = steps.filter { $0.reference == nil && $0.fromStore == nil && $0.toCompute > 0 }
        if !unmeasured.isEmpty {
            line += "; not counted: " + unmeasured.map { "\($0.name)'s \($0.toCompute) units (\($0.noReference!), and a kind of them never stored)" }.joined(separator: ", ")
        }
        return line
    }
}

private func machineText(_ machine: Provenance.Machine) -> String {
    "\(machine.cpuModel ?? "an unknown CPU") with \(machine.activeCores) of \(machine.cores) cores active"
}

/// The inverse of `timestamp`: ISO 8601 with or without fractional seconds.
func parseTimestamp(_ text: String) -> Date? {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = formatter.date(from: text) { return date }
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.date(from: text)
}
