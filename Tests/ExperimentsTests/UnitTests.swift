#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Codecs
@testable import Experiments
import Foundation
import Testing

// A per-user experiment: a point is `users` units (one per user), each a short descent
// from x0 = seed + user; `scale` is a key that changes no unit (it only scales the rows),
// and `kind` names the experiment, so two kinds can share units.

struct CohortConfig: ExperimentConfig, Equatable {
    var users = 6
    var seed = 1
    var steps = 3
    var scale = 1.0

    static let keyReasons = [
        "users": "six users: enough to split over three shards",
        "seed": "the users' starting points are seed + user",
        "steps": "descent steps per user",
        "scale": "multiplies the rows only: never part of a unit",
    ]
}

struct CohortRecord: Codable, Equatable {
    var x: Double
    var loss: Double
}

let cohortTables = [TableSchema("users", columns: ["user", "x", "loss"])]

/// The cohort experiment under `kind`; `calls` counts unit computations, `die` is called
/// before each with the number computed so far in this process.
func cohortExperiment(kind: String = "cohort", calls: Counter? = nil,
                      before: @escaping @Sendable (Int) -> Void = { _ in }) -> Experiment<CohortConfig> {
    Experiment(kind: kind, summary: "per-user descent (test only)", tables: cohortTables, units: { point in
        let c = point.config
        return (0..<c.users).map { user in
            struct Identity: Encodable { var method = "descent"; var seed: Int; var user: Int; var steps: Int }
            return WorkUnit.typed(identity: Identity(seed: c.seed, user: user, steps: c.steps), label: "user \(user)") {
                (progress: PointProgress) throws -> (record: CohortRecord, timings: [PointResult.Timing]) in
                before(calls?.value ?? 0)
                calls?.increment()
                var x = Double(c.seed + user)
                for step in 1...c.steps {
                    progress.report("step \(step)")
                    x -= 0.2 * (x - 3)
                }
                return (CohortRecord(x: x, loss: (x - 3) * (x - 3)), [.init(phase: "descent", seconds: 0.001)])
            }
        }
    }, rows: { point, units in
        var result = PointResult()
        for (user, unit) in units.enumerated() {
            let r = try unit.decode(CohortRecord.self)
            result.append([.int(user), .double(r.x * point.config.scale), .double(r.loss)], to: "users")
        }
        return result
    })
}

func cohortPlan(_ yaml: String = "experiment: cohort\nname: cohort\n", kind: String = "cohort", overrides: [String] = [],
                calls: Counter? = nil, before: @escaping @Sendable (Int) -> Void = { _ in }) throws -> RunPlan {
    try RunPlan(experiment: cohortExperiment(kind: kind, calls: calls, before: before),
                document: SpecDocument.parse(yaml: yaml, path: "cohort.yaml"), overrides: overrides.map(Override.init(parsing:)))
}

@Suite("Units")
struct UnitTests {
    @Test func keysChangeWhenAndOnlyWhenAnInputChanges() throws {
        let base = try cohortPlan().units(0)
        let keys = base.map { UnitCoding.key(identity: $0.identity, code: "c1") }
        #expect(Set(keys).count == 6, "every user is its own unit")
        #expect(try cohortPlan().units(0).map { UnitCoding.key(identity: $0.identity, code: "c1") } == keys, "stable")
        #expect(try cohortPlan(overrides: ["scale=2"]).units(0).map { UnitCoding.key(identity: $0.identity, code: "c1") } == keys,
                "a key no unit reads leaves the keys alone")
        #expect(Set(try cohortPlan(overrides: ["seed=2"]).units(0).map { UnitCoding.key(identity: $0.identity, code: "c1") })
            .isDisjoint(with: keys), "the seed changes every unit")
        #expect(Set(try cohortPlan(overrides: ["steps=4"]).units(0).map { UnitCoding.key(identity: $0.identity, code: "c1") })
            .isDisjoint(with: keys))
        #expect(Set(base.map { UnitCoding.key(identity: $0.identity, code: "c2") }).isDisjoint(with: keys), "and so does the code")
        let more = try cohortPlan(overrides: ["users=8"]).units(0).map { UnitCoding.key(identity: $0.identity, code: "c1") }
        #expect(Array(more.prefix(6)) == keys, "more users: the first six are the same units")
    }

    @Test func twoExperimentsSharingUnitsComputeEachOnce() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = UnitStore(root: dir.path + "/unit-store")
        let calls = Counter()
        let first = try Runner(plan: try cohortPlan(calls: calls), options: testOptions(dir.path + "/a", store: store)).run()
        #expect(first.ran == 6 && first.reused == 0 && calls.value == 6)
        let other = try cohortPlan("experiment: cohort-scaled\nname: scaled\nscale: 3\nusers: 8\n", kind: "cohort-scaled", calls: calls)
        let second = try Runner(plan: other, options: testOptions(dir.path + "/b", store: store)).run()
        #expect(second.reused == 6 && second.ran == 2 && calls.value == 8, "only the two new users are computed")
        let manifest = try String(contentsOfFile: dir.path + "/b/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"computed\": 2") && manifest.contains("\"reused\": 6"))
        let rows = try readCSVZst(path: dir.path + "/b/users.csv.zst").rows
        let firstRows = try readCSVZst(path: dir.path + "/a/users.csv.zst").rows
        #expect(rows.count == 8 && Double(rows[0][1])! == 3 * Double(firstRows[0][1])!)

        // Within one plan too: a sweep whose points need the same units computes them once.
        let swept = try cohortPlan("experiment: cohort\nname: swept\nsweep:\n  scale: [1, 2, 4]\n", calls: calls)
        let third = try Runner(plan: swept, options: testOptions(dir.path + "/c")).run()
        #expect(third.ran == 6 && calls.value == 14, "18 unit listings, 6 units")
    }

    @Test func tablesAreByteIdenticalAcrossJobCounts() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        _ = try Runner(plan: try cohortPlan(), options: testOptions(dir.path + "/one", jobs: 1)).run()
        _ = try Runner(plan: try cohortPlan(), options: testOptions(dir.path + "/two", jobs: 2)).run()
        #expect(!bytes(dir.path + "/one/users.csv.zst").isEmpty)
        #expect(bytes(dir.path + "/one/users.csv.zst") == bytes(dir.path + "/two/users.csv.zst"))
    }

    @Test func aSinglePointSplitOverThreeShardsMergesToTheSameBytes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let plan = try cohortPlan()
        _ = try Runner(plan: plan, options: testOptions(dir.path + "/whole")).run()
        var shards: [String] = []
        for i in 0..<3 {
            let folder = dir.path + "/cohort.shard-\(i)-of-3"
            let summary = try Runner(plan: plan, options: testOptions(folder, shard: try Shard(index: i, count: 3))).run()
            #expect(summary.ran == 2 && !summary.tablesWritten, "two of the point's six users per shard")
            #expect(unitFiles(folder + "/units").count == 2)
            shards.append(folder)
        }
        let merged = try mergeRunFolders(shards.shuffled(), into: dir.path + "/merged", replan: { _, _ in plan },
                                         provenance: fixedProvenance(), store: UnitStore(root: dir.path + "/merged-store"),
                                         events: EventLog().sink)
        #expect(merged.missing.isEmpty && merged.succeeded)
        #expect(bytes(dir.path + "/merged/users.csv.zst") == bytes(dir.path + "/whole/users.csv.zst"))
        #expect(unitFiles(dir.path + "/merged-store").count == 6, "the shards' units are now in the store")

        let partial = try mergeRunFolders(Array(shards.prefix(2)), into: dir.path + "/partial", replan: { _, _ in plan },
                                          provenance: fixedProvenance(), store: UnitStore(root: dir.path + "/partial-store"),
                                          events: EventLog().sink)
        #expect(partial.missing == [0], "a point with a unit no shard holds is missing, not half-written")
    }

    /// A real SIGKILL after the third unit (in a child process), then a resume: the
    /// three finished units are reused and the tables equal an uninterrupted run's.
    @Test func aRunKilledAfterItsThirdUnitResumesToTheSameBytes() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = dir.path + "/killed"
        await #expect(processExitsWith: .signal(SIGKILL)) { [folder = folder as String] in
            let calls = Counter()
            let dying = try cohortPlan(calls: calls) { done in if done == 3 { kill(getpid(), SIGKILL) } }
            _ = try Runner(plan: dying, options: testOptions(folder, jobs: 1)).run()
        }
        #expect(unitFiles(folder + "/unit-store").count == 3)
        #expect(!FileManager.default.fileExists(atPath: folder + "/users.csv.zst"))
        let calls = Counter()
        let resumed = try Runner(plan: try cohortPlan(calls: calls), options: testOptions(folder)).run()
        #expect(resumed.reused == 3 && resumed.ran == 3 && calls.value == 3)
        _ = try Runner(plan: try cohortPlan(), options: testOptions(dir.path + "/whole")).run()
        #expect(bytes(folder + "/users.csv.zst") == bytes(dir.path + "/whole/users.csv.zst"))
    }

    @Test func aCorruptOrHalfWrittenUnitRecordIsRecomputedNeverRead() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = dir.path + "/run"
        _ = try Runner(plan: try cohortPlan(), options: testOptions(folder)).run()
        let reference = bytes(folder + "/users.csv.zst")
        let files = unitFiles(folder + "/unit-store")
        #expect(files.count == 6)
        // Truncated mid-record, a flipped record byte, no header line, another unit's file.
        let whole = bytes(files[0])
        try whole.prefix(whole.count - 5).write(to: URL(fileURLWithPath: files[0]))
        var flipped = bytes(files[1])
        flipped[flipped.count - 3] ^= 0x01
        try flipped.write(to: URL(fileURLWithPath: files[1]))
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: files[2]))
        try bytes(files[4]).write(to: URL(fileURLWithPath: files[3]))

        let calls = Counter()
        let log = EventLog()
        let rerun = try Runner(plan: try cohortPlan(calls: calls), options: testOptions(folder, log: log)).run()
        #expect(rerun.ran == 4 && rerun.reused == 2 && calls.value == 4)
        #expect(bytes(folder + "/users.csv.zst") == reference)
        let warnings = log.events.compactMap { if case let .warning(text) = $0 { return text }; return nil }
        #expect(warnings.contains { $0.contains("truncated or corrupt") })
        #expect(warnings.contains { $0.contains("no header line") })
        #expect(warnings.contains { $0.contains("holds unit") })
        #expect(unitFiles(folder + "/unit-store").allSatisfy {
            UnitStore.readFile($0, key: (($0 as NSString).lastPathComponent as NSString).deletingPathExtension, identity: nil, warn: { _ in }) != nil
        }, "every record was replaced by a good one")
    }

    @Test func aSecondRunOnALockedFolderIsRefusedWithThePid() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = dir.path + "/run"
        _ = try Runner(plan: try cohortPlan(), options: testOptions(folder)).run()
        #expect(!FileManager.default.fileExists(atPath: folder + "/run.lock"), "released at the end")
        // A live process holds the lock (pid 1 exists on every system).
        try "1\n".write(toFile: folder + "/run.lock", atomically: true, encoding: .utf8)
        do {
            _ = try Runner(plan: try cohortPlan(), options: testOptions(folder)).run()
            Issue.record("a locked folder was run")
        } catch let error as RunError {
            #expect(error.message.contains("another run (pid 1)"))
        }
        // A dead holder's lock is taken over.
        try "999999999\n".write(toFile: folder + "/run.lock", atomically: true, encoding: .utf8)
        #expect(try Runner(plan: try cohortPlan(), options: testOptions(folder)).run().succeeded)
    }
}

@Suite("Overlays")
struct OverlayTests {
    @Test func anOverlayLaysNestedDottedAndPerKindKeysOverTheSpec() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let path = try dir.file("scale.yaml", """
            users: 8
            steps: 2
            for:
              cohort:
                steps: 5
              other-kind:
                nonsense: 1
            """)
        let overlay = try Overlay(path: path, experiment: "cohort").overrides
        #expect(overlay.map(\.key) == ["users", "steps", "steps"], "general keys first, the kind's own after (they win)")
        let plan = try cohortPlan(overrides: [])
        let layered = try RunPlan(experiment: cohortExperiment(), document: SpecDocument.parse(yaml: "experiment: cohort\n", path: "c.yaml"),
                                  overrides: overlay + [Override(parsing: "users=9")])
        #expect(plan.spec.hash != layered.spec.hash)
        #expect(try layered.units(0).count == 9, "the command line's override comes last and wins")
        #expect("\(layered.spec.canonical)".contains("\"steps\": 5") || layered.spec.config.value(at: ["steps"]) == .int(5))

        let bad = try dir.file("bad.yaml", "userz: 3\n")
        let error = specError {
            _ = try RunPlan(experiment: cohortExperiment(), document: SpecDocument.parse(yaml: "experiment: cohort\n", path: "c.yaml"),
                            overrides: try Overlay(path: bad, experiment: "cohort").overrides)
        }
        #expect(error?.origin == .file(path: bad, line: 1, column: 1), "an unknown overlay key names the overlay's file and line")
        let reserved = try dir.file("reserved.yaml", "name: x\n")
        #expect(throws: SpecError.self) { try Overlay(path: reserved, experiment: "cohort") }
    }

    @Test func anOverlaysSweepReplacesOrAppendsAxesAndAnOverrideFixesThem() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let spec = "experiment: cohort\nname: cohort\nsweep:\n  steps: [1, 2]\n"
        let wide = try dir.file("wide.yaml", """
            users: 2
            sweep:
              seed: [1, 2, 3]
            for:
              cohort:
                sweep:
                  steps: [3, 4, 5]
              other-kind:
                sweep:
                  nonsense: [1]
            """)
        let overlay = try Overlay(path: wide, experiment: "cohort")
        #expect(overlay.sweeps.map(\.key) == ["seed", "steps"] && overlay.overrides.map(\.key) == ["users"])
        var document = try SpecDocument.parse(yaml: spec, path: "cohort.yaml")
        let layered = Overlay.layer([overlay], over: &document)
        #expect(document.sweep.map(\.key) == ["steps", "seed"], "the spec's axis is replaced in place, a new one appended")
        let plan = try RunPlan(experiment: cohortExperiment(), document: document, overrides: layered)
        #expect(plan.spec.points.map(\.id).first == "steps=3,seed=1" && plan.spec.points.count == 9)

        // A later overlay's key fixes an earlier overlay's axis; the command line's does too.
        let fixed = try dir.file("fixed.yaml", "seed: 2\n")
        var again = try SpecDocument.parse(yaml: spec, path: "cohort.yaml")
        let twice = Overlay.layer([overlay, try Overlay(path: fixed, experiment: "cohort")], over: &again)
        #expect(try RunPlan(experiment: cohortExperiment(), document: again, overrides: twice).spec.points.count == 3)
        var third = try SpecDocument.parse(yaml: spec, path: "cohort.yaml")
        let cli = Overlay.layer([overlay], over: &third) + [try Override(parsing: "steps=7")]
        #expect(try RunPlan(experiment: cohortExperiment(), document: third, overrides: cli).spec.points.map(\.id) == ["seed=1", "seed=2", "seed=3"])

        // One overlay that both sets and sweeps a key is an error naming its line.
        let both = try dir.file("both.yaml", "steps: 2\nsweep:\n  steps: [1, 2]\n")
        let error = specError { _ = try Overlay(path: both, experiment: "cohort") }
        #expect(error?.key == "steps" && error?.origin == .file(path: both, line: 3, column: 3))
    }
}

@Suite("Spec names")
struct SpecNameTests {
    @Test func aNameTooLongForTheFolderOrTheStoresIsRefusedAtParse() {
        let long = specError { _ = try SpecDocument.parse(yaml: "experiment: cohort\nname: \(String(repeating: "n", count: 101))\n", path: "n.yaml") }
        #expect(long?.key == "name" && long?.hint.contains("at most 100") == true)
        #expect(specError { _ = try SpecDocument.parse(yaml: "experiment: cohort\nname: unit-store\n", path: "n.yaml") }?.key == "name")
        #expect(throws: Never.self) { try SpecDocument.parse(yaml: "experiment: cohort\nname: \(String(repeating: "n", count: 100))\n", path: "n.yaml") }
    }
}

@Suite("Store coverage")
struct CoverageTests {
    @Test func coverageCountsStoredUnitsAndPricesTheRestAtTheirMeasuredTimes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let store = UnitStore(root: dir.path + "/unit-store")
        let code = try #require(fixedProvenance().code)
        let small = try cohortPlan(overrides: ["users=2"])
        #expect(try small.coverage(store: store, code: code).map(\.stored) == [0])
        #expect(try small.coverage(store: store, code: code).first?.secondsLeft == nil, "nothing measured: no estimate")
        _ = try Runner(plan: small, options: testOptions(dir.path + "/small", store: store)).run()

        // The 6-user plan holds the 2 users run: 2 stored, 4 priced at the mean of the stored 2.
        let large = try cohortPlan(overrides: ["users=6"])
        let c = try #require(try large.coverage(store: store, code: code).first)
        #expect(c.units == 6 && c.stored == 2)
        let measured = try unitFiles(store.root).map { try #require(UnitStore.readHeader($0)).seconds }
        let left = try #require(c.secondsLeft)
        #expect(abs(left - 4 * measured.reduce(0, +) / 2) < 1e-9)
        // Other code: nothing stored.
        #expect(try large.coverage(store: store, code: code + "x").first?.stored == 0)
        #expect(UnitCoverage.kind("seed 1, user 0: whole network") == "whole network")
    }
}
