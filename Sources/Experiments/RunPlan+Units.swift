import Foundation

// The units of a plan as the runner schedules them: their listing, the workers' queue,
// and what `--dry-run` prints of them.

/// Every point's units, keyed: the run order of a plan's units (each distinct key at its
/// first listing, points in index order) and, per point, its units' keys in the order its
/// rows read them, or the error listing them threw.
struct UnitListing {
    var units: [(key: String, unit: WorkUnit)] = []
    var pointKeys: [Int: [String]] = [:]
    var pointErrors: [Int: any Error] = [:]
}

extension RunPlan {
    /// Lists every point's units with `key` naming each (the runner's key includes the code
    /// fingerprint; within one build, the identity alone tells units apart).
    func listUnits(key: (WorkUnit) -> String) -> UnitListing {
        var listing = UnitListing()
        var seen: Set<String> = []
        for point in spec.points {
            do {
                let units = try self.units(point.index)
                let keys = units.map(key)
                for (key, unit) in zip(keys, units) where seen.insert(key).inserted { listing.units.append((key, unit)) }
                listing.pointKeys[point.index] = keys
            } catch {
                listing.pointErrors[point.index] = error
            }
        }
        return listing
    }

    /// Every distinct unit of the plan in run order, and each point's unit count. A shard
    /// `i/n` takes the units at positions p with p mod n == i. Throws the first point's
    /// error listing its units.
    public func distinctUnits() throws -> (units: [WorkUnit], perPoint: [Int]) {
        let listing = listUnits { $0.identity.compactJSON }
        if let failed = spec.points.first(where: { listing.pointErrors[$0.index] != nil }) {
            throw listing.pointErrors[failed.index]!
        }
        return (listing.units.map(\.unit), spec.points.map { listing.pointKeys[$0.index]!.count })
    }
}

/// What `--dry-run` prints: the resolved spec's identity, one line per point (`index  id
/// units`), then the distinct units and the shard's share of them.
public func dryRunListing(_ plan: RunPlan, shard: Shard, folder: String) throws -> String {
    let spec = plan.spec
    let (units, perPoint) = try plan.distinctUnits()
    var text = "experiment \(spec.experiment), name \(spec.name), spec hash \(spec.hash)\n"
    text += "\(spec.points.count) points, \(units.count) distinct units"
    if shard.count > 1 { text += ", shard \(shard) computes \(units.indices.filter(shard.contains).count) of them" }
    text += " -> \(folder)\n"
    let width = String(spec.points.count - 1).count
    for point in spec.points {
        text += String(repeating: " ", count: width - String(point.index).count)
            + "\(point.index)  \(point.id)  (\(perPoint[point.index]) units)\n"
    }
    return text
}

/// The shared queue and tallies of a run's unit workers.
final class UnitQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let todo: [(key: String, unit: WorkUnit)]
    private var nextIndex = 0
    private var done = 0
    private var okSeconds = 0.0
    private var okCount = 0
    let workers: Int
    private(set) var outputs: [String: UnitOutput] = [:]
    private(set) var errors: [String: String] = [:]

    init(todo: [(key: String, unit: WorkUnit)], workers: Int) {
        self.todo = todo
        self.workers = workers
    }

    func next() -> (key: String, unit: WorkUnit)? {
        lock.lock()
        defer { lock.unlock() }
        guard nextIndex < todo.count else { return nil }
        nextIndex += 1
        return todo[nextIndex - 1]
    }

    func finish(_ key: String, label: String, output: UnitOutput, seconds: Double, events: (RunEvent) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        outputs[key] = output
        okSeconds += seconds
        okCount += 1
        let left = todo.count - done
        let eta = okSeconds / Double(okCount) * Double(left) / Double(max(1, min(left, workers)))
        events(.unitFinished(unit: label, seconds: seconds, done: done, toRun: todo.count, eta: eta))
    }

    func fail(_ key: String, label: String, error: String, events: (RunEvent) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        errors[key] = error
        events(.unitFailed(unit: label, error: error, done: done, toRun: todo.count))
    }
}

/// How much of a point is in a unit store: its units, those stored, and an estimate of the
/// wall time the others take (`persephone run --dry-run --store`, the report's missing
/// cells).
public struct PointCoverage: Sendable {
    public var point: PointPlan
    public var units: Int
    public var stored: Int
    /// Seconds the point's units not in the store take to compute one at a time: each at
    /// the mean measured time of the stored units of its kind (`UnitCoverage.kind`), in
    /// this point first, else in the whole plan; nil when no unit of a kind it needs was
    /// ever stored.
    public var secondsLeft: Double?
}

/// What a plan's distinct units are, by kind: a unit's kind is its label after `: `
/// (`seed 1, user 0: exits` is `exits`; a label without one is of the one unnamed kind),
/// so timings of one kind stand in for another unit of it.
public enum UnitCoverage {
    static func kind(_ label: String) -> String {
        label.range(of: ": ", options: .backwards).map { String(label[$0.upperBound...]) } ?? ""
    }

    /// The mean measured seconds per kind over those of `units` that `seconds` (key ->
    /// measured seconds of a stored unit) holds; kinds with no stored unit are absent.
    static func meanSeconds(byKindOf units: some Sequence<(key: String, label: String)>, seconds: [String: Double]) -> [String: Double] {
        var sums: [String: (total: Double, count: Int)] = [:]
        for unit in units {
            guard let s = seconds[unit.key] else { continue }
            let sum = sums[kind(unit.label)] ?? (0, 0)
            sums[kind(unit.label)] = (sum.total + s, sum.count + 1)
        }
        return sums.mapValues { $0.total / Double($0.count) }
    }
}

extension RunPlan {
    /// Every point's coverage by `store`, the keys made with the code fingerprint `code`
    /// (the runner's). Throws the first point's error listing its units.
    public func coverage(store: UnitStore, code: String) throws -> [PointCoverage] {
        let listing = listUnits { UnitCoding.key(identity: $0.identity, code: code) }
        if let failed = spec.points.first(where: { listing.pointErrors[$0.index] != nil }) {
            throw listing.pointErrors[failed.index]!
        }
        let labels = Dictionary(listing.units.map { ($0.key, $0.unit.label) }, uniquingKeysWith: { a, _ in a })
        var seconds: [String: Double] = [:]  // key -> measured seconds, stored units only
        for (key, _) in listing.units {
            if let stored = store.storedSeconds(of: key) { seconds[key] = stored }
        }
        func meanByKind(_ keys: [String]) -> [String: Double] {
            UnitCoverage.meanSeconds(byKindOf: keys.map { (key: $0, label: labels[$0]!) }, seconds: seconds)
        }
        let overall = meanByKind(listing.units.map(\.key))
        return spec.points.map { point in
            let keys = listing.pointKeys[point.index]!
            let local = meanByKind(keys)
            var left: Double? = 0
            for key in keys where seconds[key] == nil {
                let kind = UnitCoverage.kind(labels[key]!)
                if let s = local[kind] ?? overall[kind], let sum = left { left = sum + s } else { left = nil }
            }
            return PointCoverage(point: point, units: keys.count, stored: keys.filter { seconds[$0] != nil }.count, secondsLeft: left)
        }
    }
}
