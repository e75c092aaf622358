import Codecs
@testable import Experiments
import Foundation
import Testing

@Suite("Runner")
struct RunnerTests {
    let tableNames = ["trajectory.csv.zst", "final.csv.zst"]

    @Test func runWritesFrozenSpecRecordsTablesAndManifest() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let p = try plan(sweepSpec)
        let log = EventLog()
        let summary = try Runner(plan: p, options: testOptions(dir.path + "/run", log: log)).run()
        #expect(summary.succeeded)
        #expect(summary.ran == 12 && summary.reused == 0 && summary.tablesWritten)

        let final = try readCSVZst(path: dir.path + "/run/final.csv.zst")
        #expect(final.header == ["lr", "optimizer", "seed", "loss", "converged"])  // `seed` is the table's own column
        #expect(final.rows.count == 12)
        // SGD contracts x - 3 by 1 - 2 lr = 0.8 per step: loss after 4 steps is 9 * 0.8^8.
        #expect(final.rows[0] == ["0.1", "sgd", "0", "1.5099494400000002", "false"])
        #expect(abs(Double(final.rows[0][3])! - 9 * pow(0.8, 8)) < 1e-12)
        let trajectory = try readCSVZst(path: dir.path + "/run/trajectory.csv.zst")
        #expect(trajectory.header == ["lr", "seed", "optimizer", "step", "x", "loss"])
        #expect(trajectory.rows.count == 12 * 4)
        #expect(trajectory.rows[0] == ["0.1", "0", "sgd", "1", "0.6000000000000001", "5.76"])
        let timings = try readCSVZst(path: dir.path + "/run/timings.csv.zst")
        #expect(timings.header == ["point", "id", "phase", "seconds"])
        #expect(timings.rows.count == 12)
        #expect(timings.rows[0][2] == "descent")
        #expect(unitFiles(dir.path + "/run/unit-store").count == 12, "one unit per point, each in the store")

        let manifest = try String(contentsOfFile: dir.path + "/run/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"spec_hash\": \"\(p.spec.hash)\""))
        #expect(manifest.contains("\"status\": \"complete\""))
        #expect(manifest.contains("\"seeds\": [\n    0,\n    1,\n    2\n  ]"))
        #expect(manifest.contains("\"dataset_checksum\": \"test\""))
        #expect(manifest.contains("\"memory_bytes\""))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/run/spec.resolved.json"))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/run/points/000011.json"))
        #expect(log.events.contains { if case .status(_, "step 4") = $0 { return true }; return false })
    }

    @Test func tablesAreByteIdenticalAcrossJobCounts() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let p = try plan(sweepSpec)
        _ = try Runner(plan: p, options: testOptions(dir.path + "/one", jobs: 1)).run()
        _ = try Runner(plan: p, options: testOptions(dir.path + "/four", jobs: 4)).run()
        for name in tableNames {
            #expect(bytes(dir.path + "/one/" + name) == bytes(dir.path + "/four/" + name))
            #expect(!bytes(dir.path + "/one/" + name).isEmpty)
        }
        #expect(bytes(dir.path + "/one/spec.resolved.json") == bytes(dir.path + "/four/spec.resolved.json"))
    }

    @Test func interruptedRunResumesToIdenticalBytes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let reference = try plan(sweepSpec)
        _ = try Runner(plan: reference, options: testOptions(dir.path + "/whole")).run()

        // First attempt: every point from index 5 on dies (as a kill would leave them: unrecorded or failed).
        let folder = dir.path + "/resumed"
        let broken = try plan(sweepSpec, experiment: descentExperiment(fail: { $0 >= 5 }))
        let first = try Runner(plan: broken, options: testOptions(folder, jobs: 1)).run()
        #expect(first.failed == Array(5..<12))
        #expect(!first.succeeded)
        // A kill also loses units mid-flight: remove point 1's unit record and leave torn temporary files.
        let key1 = UnitCoding.key(identity: try broken.units(1)[0].identity, code: fixedProvenance().code!)
        let store = UnitStore(root: folder + "/unit-store")
        try FileManager.default.removeItem(atPath: store.path(of: key1))
        try "{\"index\": 3, ".write(toFile: folder + "/points/000003.json.tmp.abc123", atomically: false, encoding: .utf8)
        try "lr,se".write(toFile: folder + "/final.csv.zst.tmp.XyZ123", atomically: false, encoding: .utf8)
        try "{\"form".write(toFile: store.path(of: key1) + ".tmp.999999999.1", atomically: false, encoding: .utf8)

        let calls = Counter()
        let second = try Runner(plan: try plan(sweepSpec, experiment: descentExperiment(calls: calls)),
                                options: testOptions(folder)).run()
        #expect(second.succeeded)
        #expect(second.reused == 4)  // 0, 2, 3, 4
        #expect(second.ran == 8)
        #expect(calls.value == 8)
        for name in tableNames {
            #expect(bytes(folder + "/" + name) == bytes(dir.path + "/whole/" + name))
        }
        #expect(!FileManager.default.fileExists(atPath: folder + "/points/000003.json.tmp.abc123"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/final.csv.zst.tmp.XyZ123"))
        #expect(!FileManager.default.fileExists(atPath: store.path(of: key1) + ".tmp.999999999.1"), "a dead writer's temporary unit file")

        // A third run has nothing left to do and rewrites the same bytes.
        let third = try Runner(plan: try plan(sweepSpec, experiment: descentExperiment(calls: calls)),
                               options: testOptions(folder)).run()
        #expect(third.ran == 0 && third.reused == 12 && calls.value == 8)
        for name in tableNames {
            #expect(bytes(folder + "/" + name) == bytes(dir.path + "/whole/" + name))
        }
    }

    @Test func aChangedSpecIsRefusedNamingBothHashes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = dir.path + "/run"
        let old = try plan(sweepSpec)
        _ = try Runner(plan: old, options: testOptions(folder)).run()
        let new = try plan(sweepSpec, overrides: ["steps=5"])
        #expect(old.spec.hash != new.spec.hash)
        do {
            _ = try Runner(plan: new, options: testOptions(folder)).run()
            Issue.record("a changed spec was accepted")
        } catch let error as RunError {
            #expect(error.message.contains(old.spec.hash))
            #expect(error.message.contains(new.spec.hash))
            #expect(error.hint.contains("--force-new"))
        }
        // Untouched by the refusal.
        #expect(try readCSVZst(path: folder + "/trajectory.csv.zst").rows.count == 48)

        let log = EventLog()
        let fresh = try Runner(plan: new, options: testOptions(folder, forceNew: true, log: log)).run()
        #expect(fresh.ran == 12 && fresh.reused == 0)
        #expect(try readCSVZst(path: folder + "/trajectory.csv.zst").rows.count == 60)
        #expect(try readCSVZst(path: folder + ".\(old.spec.hash)/trajectory.csv.zst").rows.count == 48)
        #expect(log.events.contains { if case let .warning(text) = $0 { return text.contains("moved the old") }; return false })

        try FileManager.default.createDirectory(atPath: dir.path + "/junk/x", withIntermediateDirectories: true)
        #expect(throws: RunError.self) { try Runner(plan: new, options: testOptions(dir.path + "/junk")).run() }
    }

    @Test func ifChangedSkipsCurrentResultsAndReplacesChangedOnes() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = dir.path + "/run"
        let p = try plan(sweepSpec)
        _ = try Runner(plan: p, options: testOptions(folder)).run()
        let table = folder + "/trajectory.csv.zst"
        let before = bytes(table)
        let stamp = try FileManager.default.attributesOfItem(atPath: folder + "/manifest.json")[.modificationDate] as? Date

        // Same spec, code and inputs, every point ok: nothing runs, nothing is written.
        let skipped = try Runner(plan: p, options: testOptions(folder, existing: .skipCurrent)).run()
        #expect(skipped.ran == 0 && skipped.reused == 0 && !skipped.tablesWritten)
        #expect(try FileManager.default.attributesOfItem(atPath: folder + "/manifest.json")[.modificationDate] as? Date == stamp)

        // A changed input fingerprint: the old folder is moved aside and every point reruns.
        let log = EventLog()
        let changed = fixedProvenance(inputs: ["model.safetensors": "fnv1a64:02"])
        let rerun = try Runner(plan: p, options: testOptions(folder, existing: .skipCurrent, provenance: changed, log: log)).run()
        #expect(rerun.ran == 12 && rerun.reused == 0)
        #expect(bytes(table) == before, "same computation, same bytes")
        #expect(FileManager.default.fileExists(atPath: folder + ".\(p.spec.hash)/trajectory.csv.zst"))
        #expect(log.events.contains { if case let .warning(text) = $0 { return text.contains("inputs changed: model.safetensors") }; return false })

        // Unknown code (uncommitted changes) never counts as current.
        let dirty = fixedProvenance(code: nil, inputs: ["model.safetensors": "fnv1a64:02"])
        #expect(try Runner(plan: p, options: testOptions(folder, existing: .skipCurrent, provenance: dirty)).run().ran == 12)

        // A changed spec is moved aside by --replace-changed instead of refused.
        let other = try plan(sweepSpec, overrides: ["steps=5"])
        let replaced = try Runner(plan: other, options: testOptions(folder, existing: .replaceChanged, provenance: dirty)).run()
        #expect(replaced.ran == 12)
        #expect(try readCSVZst(path: table).rows.count == 60)
    }

    @Test func resumingRecordsOfOtherCodeIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = dir.path + "/run"
        let p = try plan(sweepSpec)
        _ = try Runner(plan: p, options: testOptions(folder, shard: Shard(index: 0, count: 2))).run()
        let newCode = fixedProvenance(code: "git:tree-b:blob-a")
        do {
            _ = try Runner(plan: p, options: testOptions(folder, provenance: newCode)).run()
            Issue.record("records of other code were resumed")
        } catch let error as RunError {
            #expect(error.message.contains("code changed (git:tree-a:blob-a -> git:tree-b:blob-a)"), "\(error.message)")
            #expect(error.hint.contains("--replace-changed"))
        }
        // Same code resumes; replace-changed starts afresh under new code.
        #expect(try Runner(plan: p, options: testOptions(folder)).run().reused == 6)
        #expect(try Runner(plan: p, options: testOptions(folder, existing: .replaceChanged, provenance: newCode)).run().ran == 12)
    }

    @Test func aFailingPointIsReportedAtOnceAndTheOthersFinish() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let log = EventLog()
        let p = try plan(sweepSpec, experiment: descentExperiment(fail: { $0 == 2 }))
        let summary = try Runner(plan: p, options: testOptions(dir.path + "/run", jobs: 1, log: log)).run()
        #expect(!summary.succeeded)
        #expect(summary.failed == [2])
        #expect(summary.ran == 11 && summary.failedUnits == 1)

        // Reported when it happened: before the next point finished, not at the end.
        let events = log.events
        let failedAt = events.firstIndex { if case .unitFailed = $0 { return true }; return false }
        let fourthDone = events.firstIndex { if case let .unitFinished(unit, _, _, _, _) = $0 { return unit == "lr=0.1,seed=1,optimizer=momentum" }; return false }
        #expect(failedAt != nil && fourthDone != nil && failedAt! < fourthDone!)
        if case let .unitFailed(unit, error, _, _)? = failedAt.map({ events[$0] }) {
            #expect(unit == "lr=0.1,seed=1,optimizer=sgd")
            #expect(error == "point 2 was told to fail")
        }

        let final = try readCSVZst(path: dir.path + "/run/final.csv.zst")
        #expect(final.rows.count == 11)
        let manifest = try String(contentsOfFile: dir.path + "/run/manifest.json", encoding: .utf8)
        #expect(manifest.contains("\"status\": \"failed\""))
        #expect(manifest.contains("failed: point 2 was told to fail\""))
    }

    @Test func mergedShardsEqualAnUnshardedRunByteForByte() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let p = try plan(sweepSpec)
        _ = try Runner(plan: p, options: testOptions(dir.path + "/whole")).run()
        var shards: [String] = []
        for i in 0..<3 {
            let folder = dir.path + "/shard-\(i)"
            let summary = try Runner(plan: p, options: testOptions(folder, shard: try Shard(index: i, count: 3))).run()
            #expect(summary.ran == 4 && !summary.tablesWritten && summary.succeeded)
            #expect(!FileManager.default.fileExists(atPath: folder + "/final.csv.zst"))
            let manifest = try String(contentsOfFile: folder + "/manifest.json", encoding: .utf8)
            #expect(manifest.contains("\"status\": \"partial\""))
            shards.append(folder)
        }
        let incomplete = try mergeRunFolders(Array(shards.prefix(2)), into: dir.path + "/partial",
                                         replan: { _, _ in p }, provenance: fixedProvenance(), events: EventLog().sink)
        #expect(incomplete.missing == [2, 5, 8, 11])

        let merged = try mergeRunFolders(shards.reversed(), into: dir.path + "/merged", replan: { _, _ in p },
                                         provenance: fixedProvenance(), store: UnitStore(root: dir.path + "/merged/unit-store"),
                                         events: EventLog().sink)
        #expect(merged.missing.isEmpty && merged.failed.isEmpty)
        for name in tableNames + ["spec.resolved.json"] {
            #expect(bytes(dir.path + "/merged/" + name) == bytes(dir.path + "/whole/" + name))
        }
        // The merged folder is a complete run folder: running the spec there has nothing to do.
        let rerun = try Runner(plan: p, options: testOptions(dir.path + "/merged")).run()
        #expect(rerun.ran == 0 && rerun.reused == 12)
    }

    @Test func mergeRefusesMismatchedSpecs() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let a = try plan(sweepSpec)
        let b = try plan(sweepSpec, overrides: ["steps=2"])
        _ = try Runner(plan: a, options: testOptions(dir.path + "/a", shard: try Shard(index: 0, count: 2))).run()
        _ = try Runner(plan: b, options: testOptions(dir.path + "/b", shard: try Shard(index: 1, count: 2))).run()
        do {
            _ = try mergeRunFolders([dir.path + "/a", dir.path + "/b"], into: dir.path + "/m", replan: { _, _ in a },
                                    provenance: fixedProvenance(), events: EventLog().sink)
            Issue.record("shards of different specs were merged")
        } catch let error as RunError {
            #expect(error.message.contains(a.spec.hash) && error.message.contains(b.spec.hash))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/m"))
        #expect(throws: RunError.self) {
            try mergeRunFolders([dir.path + "/nothing"], into: dir.path + "/m", replan: { _, _ in a },
                                provenance: fixedProvenance(), events: EventLog().sink)
        }
    }

    @Test func tableRoundTripAndView() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let p = try plan("experiment: descent\nsteps: 2\nsweep:\n  seed: [0, 10]\n  note: [\"a, b\", \"say \\\"hi\\\"\"]\n")
        _ = try Runner(plan: p, options: testOptions(dir.path + "/run")).run()
        let table = try TableView(path: dir.path + "/run/final.csv.zst")
        #expect(table.header == ["note", "seed", "loss", "converged"])
        #expect(table.rows.map { $0[0] } == ["a, b", "say \"hi\"", "a, b", "say \"hi\""])
        #expect(table.rows.map { $0[1] } == ["0", "0", "10", "10"])

        let view = try table.selecting(columns: ["seed", "note", "converged"], filters: ["note=a, b"], name: "final")
        #expect(view.aligned == """
            seed  note  converged
            ----  ----  ---------
               0  a, b  false
              10  a, b  false

            """)
        #expect(throws: RunError.self) { try table.selecting(columns: ["sed"], filters: [], name: "final") }
        #expect(throws: RunError.self) { try table.selecting(columns: nil, filters: ["seed"], name: "final") }
        do {
            _ = try table.selecting(columns: nil, filters: ["sead=1"], name: "final")
        } catch let error as RunError {
            #expect(error.hint.hasPrefix("did you mean `seed`?"))
        }
    }

    @Test func cellTextIsShortestRoundTrip() {
        let values = [0.1, 1.0 / 3.0, 1e-7, 123456789.0, -2.5e300, Double.leastNonzeroMagnitude]
        for v in values {
            let text = Cell.double(v).text
            #expect(Double(text) == v, "\(text)")
        }
        #expect(Cell.double(.nan).text == "nan")
        #expect(Cell.double(-.infinity).text == "-inf")
        #expect(Cell.double(2).text == "2.0")
        #expect(Cell.int(-4).text == "-4")
        #expect(Cell.bool(true).text == "true")
    }
}

@Suite("Progress")
struct ProgressTests {
    final class Sink: @unchecked Sendable {
        var text = ""
    }

    let unit = "seed 2, user 4: exits"

    @Test func plainLinesWhenNotATerminal() {
        let sink = Sink()
        let progress = StderrProgress(isTerminal: false) { sink.text += $0 }
        progress.handle(.started(folder: "results/x", points: 2, units: 12, reused: 4, toRun: 8))
        progress.handle(.status(unit: unit, text: "epoch 1"))
        progress.handle(.unitFinished(unit: unit, seconds: 12.34, done: 1, toRun: 8, eta: 250))
        progress.handle(.unitFailed(unit: unit, error: "boom", done: 2, toRun: 8))
        progress.handle(.notice("results/x is up to date"))
        #expect(sink.text == """
            run: results/x: 2 points, 12 units: 4 reused from the store, 8 to compute
            [1/8] seed 2, user 4: exits ok in 12.3s, ETA 4m10s
            [2/8] seed 2, user 4: exits FAILED: boom
            results/x is up to date

            """)
    }

    @Test func aRefreshingLineOnATerminal() {
        let sink = Sink()
        let progress = StderrProgress(isTerminal: true) { sink.text += $0 }
        progress.handle(.status(unit: unit, text: "epoch 1"))
        progress.handle(.unitFinished(unit: unit, seconds: 0.5, done: 1, toRun: 8, eta: 7200))
        progress.handle(.unitFailed(unit: unit, error: "boom", done: 2, toRun: 8))
        #expect(sink.text == "\r\u{1B}[K[seed 2, user 4: exits] epoch 1\r\u{1B}[K[1/8] seed 2, user 4: exits ok in 500ms, ETA 2h00m"
                + "\r\u{1B}[K[2/8] seed 2, user 4: exits FAILED: boom\n")
    }

    @Test func theStatusRowFitsTheTerminal() {
        let sink = Sink()
        let progress = StderrProgress(isTerminal: true) { sink.text += $0 }
        progress.handle(.status(unit: String(repeating: "u", count: 500), text: "epoch 1"))
        #expect(sink.text.count <= terminalColumns() + 3, "cut to the width, so a redraw never leaves a wrapped row")
    }
}
