import Codecs
@testable import Experiments
import Foundation
import Testing

/// `Reproducer` (what `persephone reproduce` runs) on two descent experiments that share a
/// unit (the point seed=1 of both specs is one unit).
@Suite struct ReproduceTests {
    static let specA = "experiment: descent\nname: a\nsteps: 3\nsweep:\n  seed: [0, 1]\n"
    static let specB = "experiment: descent\nname: b\nsteps: 3\nsweep:\n  seed: [1, 2]\n"

    /// A reproducer of `a` then `b` into `results`; `failB` makes b's point 1 throw.
    static func reproducer(_ results: String, log: EventLog = EventLog(), failB: Switch = Switch()) throws -> Reproducer {
        let b = descentExperiment(fail: { index in index == 1 && failB.isOn })
        return Reproducer(results: results, experiments: [("a", try plan(specA)), ("b", try plan(specB, experiment: b))],
                          suffix: "-smoke", jobs: 2, provenance: fixedProvenance(), events: log.sink)
    }

    static func run(_ reproducer: Reproducer) throws -> ReproduceSummary {
        try reproducer.run { ["report: drawn"] }
    }

    /// Path -> (bytes, modification date) of every file under `folder`, and the folder itself.
    static func snapshot(_ folder: String) throws -> [String: (Data, Date)] {
        let fm = FileManager.default
        var files: [String: (Data, Date)] = [:]
        for sub in [""] + (fm.subpaths(atPath: folder) ?? []) {
            let path = sub.isEmpty ? folder : folder + "/" + sub
            let date = try #require(try fm.attributesOfItem(atPath: path)[.modificationDate] as? Date)
            files[sub] = (fm.contents(atPath: path) ?? Data(), date)
        }
        return files
    }

    static func notices(_ log: EventLog) -> [String] {
        log.events.compactMap { if case let .notice(text) = $0 { return text } else { return nil } }
    }

    @Test func anIdenticalRerunLeavesTheCommittedFoldersUntouchedAndNoStagingFolder() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let results = dir.path + "/results"
        let firstLog = EventLog()
        let first = try Self.run(Self.reproducer(results, log: firstLog))
        // Nothing committed yet: both installed, each counted once over the two experiments.
        #expect(first.replaced.map(\.name) == ["a", "b"] && first.replaced.allSatisfy(\.wasMissing))
        #expect(first.computed == 3 && first.reused == 0)
        #expect(Self.notices(firstLog).contains { $0.contains("no estimate") })
        #expect(Self.notices(firstLog).contains { $0.contains("1 shared with an earlier experiment") })
        let before = try ["a-smoke", "b-smoke"].map { try Self.snapshot(results + "/" + $0) }

        // A fresh clone: the committed folders without the store. Every unit is computed again.
        try FileManager.default.removeItem(atPath: results + "/unit-store")
        let log = EventLog()
        let reproducer = try Self.reproducer(results, log: log)
        let preview = reproducer.preview()
        #expect(preview.distinctUnits == 3 && preview.toCompute == 3 && preview.inStore == 0)
        #expect(preview.estimate != nil && preview.lines.last!.contains("from the reference runs' pace"))
        let second = try Self.run(reproducer)
        #expect(second.computed == 3 && second.replaced.isEmpty)
        #expect(second.line.hasSuffix("tables byte-identical to the committed ones"))
        #expect(Self.notices(log).contains("report: drawn"))
        for (name, old) in zip(["a-smoke", "b-smoke"], before) {
            let now = try Self.snapshot(results + "/" + name)
            #expect(Set(now.keys) == Set(old.keys), "\(name)")
            for (path, (bytes, date)) in old {
                #expect(now[path]?.0 == bytes && now[path]?.1 == date, "\(name)/\(path) was rewritten")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: results + "/.reproduce"))
    }

    @Test func aChangedTableIsReplacedAndNamed() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let results = dir.path + "/results"
        _ = try Self.run(Self.reproducer(results))
        let table = results + "/a-smoke/final.csv.zst"
        let good = bytes(table)
        let unchanged = bytes(results + "/a-smoke/trajectory.csv.zst")
        let writer = try CSVZstWriter(path: table, header: ["seed", "loss", "converged"])
        try writer.append(["0", "1.0", "false"])
        try writer.close()
        #expect(bytes(table) != good)

        let log = EventLog()
        let summary = try Self.run(Self.reproducer(results, log: log))
        #expect(summary.replaced == [.init(name: "a", folder: results + "/a-smoke", tables: ["final.csv.zst"], wasMissing: false)])
        #expect(summary.line.hasSuffix("tables that differ from the committed ones: \(results)/a-smoke/final.csv.zst"))
        #expect(Self.notices(log).contains { $0.contains("a: tables differing from the committed ones: final.csv.zst; installed") })
        #expect(bytes(table) == good && bytes(results + "/a-smoke/trajectory.csv.zst") == unchanged)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: results)) ?? []
        #expect(left.sorted() == ["a-smoke", "b-smoke", "unit-store"], "moved-aside or staging folders left: \(left)")
    }

    @Test func anInterruptedReproductionResumes() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let results = dir.path + "/results"
        let failB = Switch(on: true)
        #expect(throws: RunError.self) { _ = try Self.run(Self.reproducer(results, failB: failB)) }
        // a is installed, b's staging folder is kept, nothing of b committed.
        #expect(FileManager.default.fileExists(atPath: results + "/a-smoke/final.csv.zst"))
        #expect(FileManager.default.fileExists(atPath: results + "/.reproduce/b-smoke/manifest.json"))
        #expect(!FileManager.default.fileExists(atPath: results + "/b-smoke"))

        // Cut short between the renames of an install as well: the committed a moved aside, not yet replaced.
        let aBefore = try Self.snapshot(results + "/a-smoke")
        try Reproducer.move(results + "/a-smoke", to: results + "/.reproduce/a-smoke.replaced")

        failB.isOn = false
        let log = EventLog()
        let reproducer = try Self.reproducer(results, log: log)
        // b has no committed folder: its one unit left is priced at the stored units' measured times.
        let preview = reproducer.preview()
        #expect(preview.steps.map(\.toCompute) == [0, 1] && preview.steps[1].reference == nil)
        #expect(preview.steps[1].fromStore != nil && preview.estimate != nil)
        #expect(preview.lines.last!.contains("the measured times of the store's units of the same kinds, 2 at once, for b"))
        let resumed = try Self.run(reproducer)
        // Only b's failed unit is computed; a's two units and b's seed-2 unit come from the store.
        #expect(resumed.computed == 1 && resumed.reused == 2)
        #expect(Self.notices(log).contains { $0.contains("undid the interrupted replacement of \(results)/a-smoke") })
        #expect(resumed.replaced.map(\.name) == ["b"])
        let aNow = try Self.snapshot(results + "/a-smoke")
        #expect(aNow.mapValues(\.0) == aBefore.mapValues(\.0) && aNow.mapValues(\.1) == aBefore.mapValues(\.1))

        // The same bytes as an uninterrupted reproduction.
        let other = dir.path + "/other"
        _ = try Self.run(Self.reproducer(other))
        for table in ["b-smoke/final.csv.zst", "b-smoke/trajectory.csv.zst", "a-smoke/final.csv.zst"] {
            #expect(bytes(results + "/" + table) == bytes(other + "/" + table) && !bytes(other + "/" + table).isEmpty, "\(table)")
        }
        #expect(!FileManager.default.fileExists(atPath: results + "/.reproduce"))
    }

    @Test func aStagingFolderOfOtherCodeIsDiscardedNotResumedOrKept() throws {
        let dir = try TemporaryDirectory(); defer { dir.cleanup() }
        let results = dir.path + "/results"
        #expect(throws: RunError.self) { _ = try Self.run(Self.reproducer(results, failB: Switch(on: true))) }
        var reproducer = try Self.reproducer(results)
        reproducer.provenance = fixedProvenance(code: "git:tree-b:blob-b")
        let log = EventLog()
        reproducer.events = log.sink
        let summary = try Self.run(reproducer)
        #expect(summary.computed == 3, "other code reuses no unit")
        #expect(Self.notices(log).contains { $0.contains("/.reproduce/b-smoke: code changed") && $0.contains("removed it") })
        #expect(!FileManager.default.fileExists(atPath: results + "/.reproduce"))
        let left = try FileManager.default.contentsOfDirectory(atPath: results)
        #expect(!left.contains { $0.contains(".") }, "\(left)")
    }
}

/// A thread-safe on/off switch.
final class Switch: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Bool
    init(on: Bool = false) { value = on }
    var isOn: Bool {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
}
