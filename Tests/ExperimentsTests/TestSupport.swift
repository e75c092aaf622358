import Experiments
import Foundation
import Testing

// The one experiment kind the tests register: gradient descent on the quadratic
// f(x) = (x - target)^2 from x0 = seed, one row per step. It is cheap, deterministic and
// sensitive to every key, so a wrong point, a lost row or a reordering shows in the bytes.

enum Optimizer: String, SpecChoice {
    case sgd, momentum
}

struct Target: Codable, Sendable, Equatable {
    /// The minimum of the quadratic.
    var center: Double = 3
    /// Curvature multiplier.
    var scale: Double = 1
}

struct DescentConfig: ExperimentConfig, Equatable {
    var lr: Double = 0.1
    var steps: Int = 3
    var seed: Int = 0
    var optimizer: Optimizer = .sgd
    var target = Target()
    var tags: [String] = []
    var note: String?

    static let keyReasons = [
        "lr": "step size; 0.1 converges in a few steps on the unit quadratic",
        "steps": "descent steps; 3 keeps test runs tiny",
        "seed": "starting point x0; 0 is 3 away from the default center",
        "optimizer": "sgd is the plain baseline; momentum is the variant",
        "target.center": "the minimum; 3 so that the default start is off it",
        "target.scale": "curvature; 1 is the unit quadratic",
        "tags": "free labels; none by default",
        "note": "free text; unset by default",
    ]

    func validate() throws {
        guard lr > 0 else { throw SpecConstraintViolation(key: "lr", "must be positive", hint: "use a step size such as 0.1") }
        guard steps >= 1 else { throw SpecConstraintViolation(key: "steps", "must be at least 1", hint: "take one step or more") }
        guard target.scale > 0 else {
            throw SpecConstraintViolation(key: "target.scale", "must be positive", hint: "the quadratic must open upwards")
        }
    }
}

let descentTables = [TableSchema("trajectory", columns: ["step", "x", "loss"]),
                     TableSchema("final", columns: ["seed", "loss", "converged"])]

/// The descent experiment; `fail` decides, per point index, whether the point throws.
func descentExperiment(fail: @escaping @Sendable (Int) -> Bool = { _ in false },
                       calls: Counter? = nil) -> Experiment<DescentConfig> {
    Experiment(kind: "descent", summary: "gradient descent on a quadratic (test only)", tables: descentTables) { point, progress in
        calls?.increment()
        if fail(point.index) { throw TestFailure(message: "point \(point.index) was told to fail") }
        return try descentCompute(point, progress)
    }
}

/// One descent point's rows.
func descentCompute(_ point: ResolvedPoint<DescentConfig>, _ progress: PointProgress) throws -> PointResult {
    let c = point.config
    var x = Double(c.seed), velocity = 0.0
    var result = PointResult()
    for step in 1...c.steps {
        progress.report("step \(step)")
        let gradient = 2 * c.target.scale * (x - c.target.center)
        velocity = c.optimizer == .momentum ? 0.9 * velocity + gradient : gradient
        x -= c.lr * velocity
        let loss = c.target.scale * (x - c.target.center) * (x - c.target.center)
        result.append([.int(step), .double(x), .double(loss)], to: "trajectory")
    }
    let loss = c.target.scale * (x - c.target.center) * (x - c.target.center)
    result.append([.int(c.seed), .double(loss), .bool(loss < 1e-3)], to: "final")
    result.time("descent", seconds: 0.001)
    return result
}

struct TestFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// A thread-safe call counter.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// Collects run events (thread-safe).
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [RunEvent] = []
    var sink: @Sendable (RunEvent) -> Void { { [self] e in lock.lock(); stored.append(e); lock.unlock() } }
    var events: [RunEvent] { lock.lock(); defer { lock.unlock() }; return stored }
}

/// A fresh empty directory, removed by `cleanup()`.
struct TemporaryDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("persephone-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String, _ text: String) throws -> String {
        let p = path + "/" + name
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }
}

/// Parses spec text and resolves it for the descent experiment.
func plan(_ yaml: String, path: String = "spec.yaml", overrides: [String] = [], sweeps: [String] = [],
          experiment: Experiment<DescentConfig> = descentExperiment()) throws -> RunPlan {
    let document = try SpecDocument.parse(yaml: yaml, path: path)
    return try RunPlan(experiment: experiment, document: document,
                       overrides: overrides.map(Override.init(parsing:)), sweeps: sweeps.map(SweepAxis.init(parsing:)))
}

/// Expects `body` to throw a SpecError and returns it.
func specError(_ body: () throws -> Void) -> SpecError? {
    do {
        try body()
    } catch let error as SpecError {
        return error
    } catch {
        Issue.record("expected a SpecError, got \(error)")
        return nil
    }
    Issue.record("expected a SpecError, nothing was thrown")
    return nil
}

/// A fixed provenance: the given code and input fingerprints, nothing asked of git.
func fixedProvenance(code: String? = "git:tree-a:blob-a", inputs: [String: String] = ["model.safetensors": "fnv1a64:01"]) -> Provenance {
    Provenance(gitCommit: nil, gitDirty: nil, datasetChecksum: "test", code: code, inputs: inputs,
               swiftCompiler: "test", operatingSystem: "test", libraries: ["zstd": "test"],
               machine: .init(cpuModel: nil, cores: 1, activeCores: 1, memoryBytes: 0, hostname: "test"))
}

/// Runner options for tests: quiet, fixed provenance.
/// Run options for tests. The unit store defaults to one inside the folder, so a folder
/// moved aside takes its units along and tests of folder handling see fresh computations;
/// tests of sharing pass one store to several runs.
func testOptions(_ folder: String, jobs: Int = 2, shard: Shard = .all, forceNew: Bool = false,
                 existing: ExistingResults = .resume, provenance: Provenance = fixedProvenance(),
                 store: UnitStore? = nil, log: EventLog = EventLog()) -> RunOptions {
    RunOptions(folder: folder, jobs: jobs, shard: shard, forceNew: forceNew, existing: existing,
               provenance: provenance, store: store ?? UnitStore(root: folder + "/unit-store"), events: log.sink)
}

/// Every `.unit` file under `root`.
func unitFiles(_ root: String) -> [String] {
    let fm = FileManager.default
    return ((fm.subpaths(atPath: root)) ?? []).filter { $0.hasSuffix(".unit") }.sorted().map { root + "/" + $0 }
}

/// The bytes of a file (empty when missing, which makes comparisons fail loudly).
func bytes(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

let sweepSpec = """
experiment: descent
name: sweep-test
lr: 0.1
steps: 4
sweep:
  lr: [0.1, 0.25]
  seed: [0, 1, 2]
  optimizer: [sgd, momentum]

"""
