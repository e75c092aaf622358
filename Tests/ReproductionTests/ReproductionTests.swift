import Codecs
import Datasets
import Experiments
import Foundation
import Personalisation
@testable import Reproduction
import Testing

/// Every experiment kind end to end on the tiny fixture, its determinism, its spec errors.
@Suite(.serialized) struct ExperimentKindTests {
    static let kinds: [(kind: String, extra: String, tables: [String])] = [
        ("global-vs-personal", "", ["exits", "users", "summary"]),
        ("label-availability", "sweep:\n  data.labelled: [0.5, 1]", ["exits", "summary"]),
        ("training-cost", "", ["methods", "summary"]),
        ("data-growth", "step: 16", ["rounds", "summary"]),
        ("latency-accuracy", "thresholds: [0.5, 0.9]\nlatency: false", ["curve", "users", "summary"]),
    ]

    @Test func theRegistryHoldsTheFiveKindsWithEveryKeyDocumented() throws {
        let registry = ExperimentRegistry.persephone
        #expect(registry.kinds.map(\.kind) == ["data-growth", "global-vs-personal", "label-availability",
                                               "latency-accuracy", "training-cost"])
        for kind in registry.kinds.map(\.kind) {
            let reference = try #require(registry.reference(of: kind))
            #expect(reference.undocumented.isEmpty, "\(kind): \(reference.undocumented)")
            #expect(reference.keys.contains { $0.key == "data.checkpoint" } && reference.keys.contains { $0.key == "seeds" })
        }
    }

    @Test(arguments: [0, 1, 2, 3, 4]) func runsEndToEndAndTwiceGivesIdenticalTables(_ i: Int) throws {
        let (kind, extra, tables) = Self.kinds[i]
        let yaml = ReproductionFixture.spec(kind, extra: extra)
        let a = ReproductionFixture.folder(kind), b = ReproductionFixture.folder(kind)
        let first = try ReproductionFixture.run(yaml, into: a)
        #expect(first.succeeded && first.tablesWritten, "\(kind): \(first)")
        let second = try ReproductionFixture.run(yaml, into: b)
        #expect(second.succeeded)
        for table in tables {
            let pa = a + "/\(table).csv.zst", pb = b + "/\(table).csv.zst"
            let bytes = try #require(FileManager.default.contents(atPath: pa), "\(kind): no \(table)")
            #expect(bytes == FileManager.default.contents(atPath: pb), "\(kind): \(table) differs between two runs")
            let view = try TableView(path: pa)
            #expect(!view.rows.isEmpty, "\(kind): \(table) is empty")
            // No cell of a deterministic table may be unparseable garbage: numbers or known text only.
            #expect(view.rows.allSatisfy { $0.count == view.header.count })
        }
        try checkContent(kind, folder: a)
    }

    /// Figures that must hold whatever the training does.
    func checkContent(_ kind: String, folder: String) throws {
        func table(_ name: String) throws -> [[String: String]] {
            let view = try TableView(path: folder + "/\(name).csv.zst")
            return view.rows.map { Dictionary(uniqueKeysWithValues: zip(view.header, $0)) }
        }
        func number(_ row: [String: String], _ key: String) -> Double { Double(row[key] ?? "") ?? .nan }
        let summary = try table("summary")
        #expect(summary.allSatisfy { Int($0["n"]!)! >= 1 })
        switch kind {
        case "global-vs-personal":
            let exits = try table("exits")
            #expect(exits.count == 2 * 3)  // 2 users x (2 exits + final)
            for row in exits {
                #expect(abs(number(row, "gain") - (number(row, "personalised_accuracy") - number(row, "global_accuracy"))) < 1e-12)
                if row["classifier"] == "final" { #expect(row["gain"] == "0.0") }
            }
            // The fixture's offline heads are untrained: personalisation must help the best exit on the whole.
            #expect(try table("users").map { number($0, "best_exit_gain") }.reduce(0, +) > 0)
            let n = summary.first { $0["metric"] == "best_exit_gain" }
            #expect(n?["n"] == "2")
        case "label-availability":
            let exits = try table("exits")
            #expect(exits.first.map { Array($0.keys).contains("data.labelled") } == true)
            #expect(Set(exits.map { $0["data.labelled"]! }) == ["0.5", "1.0"])
            #expect(summary.contains { $0["data.labelled"] == "0.5" })
        case "training-cost":
            let methods = try table("methods")
            for user in ["0", "1"] {
                let exits = try #require(methods.first { $0["user"] == user && $0["method"] == "exits" })
                let whole = try #require(methods.first { $0["user"] == user && $0["method"] == "whole-network" })
                #expect(number(exits, "total_flops") < number(whole, "total_flops"))
                #expect(number(exits, "trained_parameters") < number(whole, "trained_parameters"))
            }
            #expect(number(summary.first { $0["metric"] == "flops_ratio.whole-network/exits" }!, "mean") > 1)
        case "data-growth":
            let rounds = try table("rounds")
            #expect(rounds.map { $0["round"]! } == ["1", "2", "1", "2"])
            #expect(rounds.map { $0["pool"]! } == ["16", "32", "16", "32"])
            #expect(rounds.allSatisfy { number($0, "flops_fraction") > 0 && number($0, "flops_fraction") <= 1.5 })
            // Measured latency goes to the timings table only.
            let timings = try table("timings")
            #expect(timings.filter { $0["phase"]!.hasPrefix("latency.round") }.count == 4)
        default:
            let curve = try table("curve")
            #expect(curve.filter { $0["method"] == "global-full" }.count == 2)
            #expect(curve.filter { $0["method"] == "fine-tuned-full" }.count == 2)
            #expect(curve.filter { $0["method"] == "personalised-exits" }.count == 4)
            // A stricter threshold never leaves earlier on average.
            for user in ["0", "1"] {
                let points = curve.filter { $0["user"] == user && $0["method"] == "personalised-exits" }
                #expect(number(points[0], "mean_flops") <= number(points[1], "mean_flops"))
            }
            #expect(try table("users").allSatisfy { number($0, "speedup_personalised_exits") >= 1 })
        }
    }

    @Test func badValuesNameTheKey() throws {
        let cases: [(String, String, String)] = [
            ("global-vs-personal", "orchestrator:\n  basis: labels:x", "orchestrator.basis"),
            ("global-vs-personal", "seeds: []", "seeds"),
            ("label-availability", "sweep:\n  train.losses: [sup, supp]", "train.losses"),
            ("training-cost", "seeds: [1, 1]", "seeds"),
            ("data-growth", "step: 1", "step"),
            ("data-growth", "rounds: 0", "rounds"),
            ("latency-accuracy", "thresholds: []", "thresholds"),
            ("latency-accuracy", "tolerance: -1", "tolerance"),
            ("latency-accuracy", "lattency: true", "lattency"),
        ]
        for (kind, extra, key) in cases {
            let document = try SpecDocument.parse(yaml: ReproductionFixture.spec(kind, extra: extra), path: "bad.yaml")
            do {
                _ = try ExperimentRegistry.persephone.plan(document)
                Issue.record("\(kind) with `\(extra)` was accepted")
            } catch let error as SpecError {
                #expect("\(error)".contains("key `\(key)`") && "\(error)".hasPrefix("bad.yaml:"), "\(error)")
            }
        }
        for (kind, key) in [("global-vs-personal", "data.users=0"), ("training-cost", "data.labelled=2"),
                            ("label-availability", "data.split=rows:3"), ("data-growth", "train.batch=1"),
                            ("latency-accuracy", "train.lr=0"), ("training-cost", "train.baseline_lr=0"),
                            ("training-cost", "train.baselineLR=0.001")] {
            let document = try SpecDocument.parse(yaml: ReproductionFixture.spec(kind), path: "ok.yaml")
            #expect(throws: SpecError.self, "\(kind) \(key)") {
                _ = try ExperimentRegistry.persephone.plan(document, overrides: [Override(parsing: key)])
            }
        }
    }

    @Test func aMissingCheckpointFailsThePointWithAHint() throws {
        let yaml = ReproductionFixture.spec("training-cost").replacingOccurrences(of: ReproductionFixture.checkpoint,
                                                                                 with: ReproductionFixture.root + "/none.safetensors")
        let folder = ReproductionFixture.folder("missing")
        let summary = try ReproductionFixture.run(yaml, into: folder)
        #expect(summary.failed == [0])
        let record = try String(contentsOfFile: folder + "/points/000000.json", encoding: .utf8)
        #expect(record.contains("none.safetensors") && record.contains("make pretrain"))
    }
}

@Suite struct SummaryStatisticsTests {
    @Test func tQuantilesMatchTheTables() {
        // Student's t, 0.975 quantile, from statistical tables.
        for (df, expected) in [(1, 12.7062), (2, 4.3027), (4, 2.7764), (9, 2.2622), (29, 2.0452), (100, 1.9840)] {
            #expect(abs(studentTQuantile975(degreesOfFreedom: df) - expected) < 5e-4, "df \(df)")
        }
    }

    @Test func meanAndIntervalOfKnownValues() {
        let (mean, half) = meanAndHalfWidth([1, 2, 3, 4])
        #expect(mean == 2.5)
        // s = sqrt(5/3), t(3) = 3.1824: half-width = 3.1824 * s / 2.
        #expect(abs(half - 3.18245 * (5.0 / 3).squareRoot() / 2) < 1e-4)
        #expect(meanAndHalfWidth([7]).half.isNaN)
    }
}

@Suite struct TrainSectionTests {
    @Test func lossSetsSwitchTheEngineTerms() throws {
        var train = TrainSection()
        let expected: [(LossSet, Bool, Bool, Bool)] = [
            (.sup, true, false, false), (.supSelfsup, true, true, false), (.supDistill, true, false, true),
            (.all, true, true, true), (.selfsup, false, true, false), (.selfsupDistill, false, true, true),
        ]
        for (losses, sup, selfsup, distill) in expected {
            train.losses = losses
            let c = train.personalisation(labelled: 0.5, seed: 7, user: 2)
            #expect(c.supervised == sup && c.selfSupervision == selfsup && c.distillation == distill, "\(losses.rawValue)")
            #expect(c.seed == 9 && c.epochs == train.epochs && c.batchSize == train.batch, "the seed is offset by the user")
        }
        // `auto` is the stated choice per labelled fraction, and shares the chosen mix's units.
        train.losses = .auto
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for labelled in [0.0, 0.1, 0.5, 1.0] {
            let chosen = PersonalisationConfig.chosenLossMix(labelledFraction: labelled)
            #expect(train.personalisation(labelled: labelled, seed: 1, user: 0).lossMix == chosen)
            var named = TrainSection()
            named.losses = LossSet(rawValue: chosen)!
            let auto = try encoder.encode(TrainIdentity(train, labelled: labelled, baseline: false))
            let spelled = try encoder.encode(TrainIdentity(named, labelled: labelled, baseline: false))
            #expect(auto == spelled, "auto at \(labelled) is \(chosen)'s unit")
        }
        #expect(PersonalisationConfig.chosenLossMix(labelledFraction: 1) == "sup")
        var bare = PersonalisationConfig()
        #expect(throws: (any Error).self) { try bare.setLossMix("auto") }
    }

    @Test func theBaselineTakesItsOwnLearningRate() throws {
        var train = TrainSection()
        train.lr = 0.02
        train.baselineLR = 0.0005
        let exits = train.personalisation(labelled: 1, seed: 3, user: 4)
        let baseline = train.baseline(exits)
        #expect(exits.learningRate == 0.02 && baseline.learningRate == 0.0005)
        var same = baseline
        same.learningRate = exits.learningRate
        #expect(same == exits, "only the learning rate differs")
        let document = try SpecDocument.parse(yaml: ReproductionFixture.spec("training-cost"), path: "lr.yaml")
        let plain = try ExperimentRegistry.persephone.plan(document).spec
        let changed = try ExperimentRegistry.persephone.plan(document, overrides: [Override(parsing: "train.baseline_lr=0.003")]).spec
        #expect(plain.hash != changed.hash, "the baseline's learning rate is part of the spec")
        #expect("\(changed.canonical)".contains("0.003"))
    }

    @Test func inputsAreFingerprintedByContent() throws {
        _ = ReproductionFixture.spec("training-cost")  // builds the fixture's checkpoint and dataset
        var data = DataSection()
        data.checkpoint = ReproductionFixture.checkpoint
        data.dataset = ReproductionFixture.dataset
        let bytes = try #require(FileManager.default.contents(atPath: data.checkpoint))
        let fingerprints = data.inputFingerprints()
        #expect(fingerprints[data.checkpoint] == "fnv1a64:" + FNV1a.hex(FNV1a.hash(bytes)))
        #expect(fingerprints[data.dataset] == (try DatasetManifest.read(directory: data.dataset)).checksum)
        var config = TrainingCostConfig()
        config.data = data
        #expect(config.inputFingerprints() == fingerprints, "the experiment configs report their data section's inputs")
        let plan = try ExperimentRegistry.persephone.plan(SpecDocument.parse(yaml: ReproductionFixture.spec("training-cost"), path: "in.yaml"))
        #expect(plan.inputFingerprints() == fingerprints, "and so does a plan, through the generic conformance")
        data.checkpoint += ".absent"
        #expect(data.inputFingerprints()[data.checkpoint] == "missing")
    }
}

/// The paper's experiments as units: keys, sharing, shards.
@Suite(.serialized) struct UserRunTests {
    func key(_ unit: WorkUnit) -> String { SpecHash.hex(of: unit.identity) }

    @Test func unitKeysFollowEveryInputAndNothingElse() throws {
        _ = ReproductionFixture.ready
        var data = DataSection()
        data.checkpoint = ReproductionFixture.checkpoint
        data.dataset = ReproductionFixture.dataset
        data.split = "classes:2"
        data.users = 4
        let train = TrainSection()
        let base = key(try UserRuns.exits(data, train, seed: 1, user: 0))
        #expect(key(try UserRuns.exits(data, train, seed: 1, user: 0)) == base)
        #expect(key(try UserRuns.exits(data, train, seed: 2, user: 0)) != base)
        #expect(key(try UserRuns.exits(data, train, seed: 1, user: 1)) != base)
        #expect(key(try UserRuns.wholeNetwork(data, train, seed: 1, user: 0)) != base)
        var more = data
        more.users = 6
        #expect(key(try UserRuns.exits(more, train, seed: 1, user: 0)) == base,
                "adding users leaves user 0 as it is: a smaller scale's units are a larger one's")
        var changed = data
        changed.samples += 10
        #expect(key(try UserRuns.exits(changed, train, seed: 1, user: 0)) != base)
        changed = data
        changed.labelled = 0.5
        #expect(key(try UserRuns.exits(changed, train, seed: 1, user: 0)) != base)
        var other = train
        other.epochs += 1
        #expect(key(try UserRuns.exits(data, other, seed: 1, user: 0)) != base)
        other = train
        other.baselineLR *= 2
        #expect(key(try UserRuns.exits(data, other, seed: 1, user: 0)) == base, "the baseline's rate is not the exits' input")
        #expect(key(try UserRuns.wholeNetwork(data, other, seed: 1, user: 0)) != key(try UserRuns.wholeNetwork(data, train, seed: 1, user: 0)))

        // With every sample labelled, self-supervision has nothing to act on: one unit.
        var sup = train, supSelfsup = train
        sup.losses = .supDistill
        supSelfsup.losses = .all
        #expect(key(try UserRuns.exits(data, sup, seed: 1, user: 0)) == key(try UserRuns.exits(data, supSelfsup, seed: 1, user: 0)))
        var partly = data
        partly.labelled = 0.5
        #expect(key(try UserRuns.exits(partly, sup, seed: 1, user: 0)) != key(try UserRuns.exits(partly, supSelfsup, seed: 1, user: 0)))

        // The inputs count by content: a copy of the checkpoint elsewhere is the same unit,
        // a changed byte is another.
        let copy = ReproductionFixture.root + "/copy-\(UUID().uuidString.prefix(6)).safetensors"
        try FileManager.default.copyItem(atPath: data.checkpoint, toPath: copy)
        var moved = data
        moved.checkpoint = copy
        #expect(key(try UserRuns.exits(moved, train, seed: 1, user: 0)) == base)
        var bytes = try #require(FileManager.default.contents(atPath: copy))
        bytes[bytes.count - 1] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: copy))
        Thread.sleep(forTimeInterval: 0.01)
        #expect(key(try UserRuns.exits(moved, train, seed: 1, user: 0)) != base)
    }

    @Test func experimentsThatNeedTheSameUsersComputeThemOnce() throws {
        let store = UnitStore(root: ReproductionFixture.folder("shared-store"))
        let cost = try ReproductionFixture.run(ReproductionFixture.spec("training-cost"), into: ReproductionFixture.folder("tc"),
                                               store: store)
        #expect(cost.ran == 4 && cost.reused == 0, "2 users x (exits, whole network)")
        let curve = try ReproductionFixture.run(ReproductionFixture.spec("latency-accuracy", extra: "latency: false"),
                                                into: ReproductionFixture.folder("la"), store: store)
        #expect(curve.ran == 0 && curve.reused == 4, "latency-accuracy needs exactly training-cost's units")
        let gvp = try ReproductionFixture.run(ReproductionFixture.spec("global-vs-personal"), into: ReproductionFixture.folder("gvp"),
                                              store: store)
        #expect(gvp.ran == 0 && gvp.reused == 2)
        // Label availability at 100% labels: sup+selfsup is sup's unit, sup+selfsup+distill is sup+distill's.
        let labels = try ReproductionFixture.run(
            ReproductionFixture.spec("label-availability", extra: "sweep:\n  train.losses: [sup, sup+selfsup, sup+distill, sup+selfsup+distill]"),
            into: ReproductionFixture.folder("lab"), store: store)
        #expect(labels.ran == 2 && labels.reused == 2, "8 listings: sup (2 new users), sup+distill (the shared 2)")
    }

    @Test func aOnePointSpecOfSixUsersOverThreeShardsMergesToTheUnshardedBytes() throws {
        let yaml = ReproductionFixture.spec("global-vs-personal")
        let overrides = ["data.users=6", "data.samples=24", "data.test=12", "train.epochs=2"]
        let whole = ReproductionFixture.folder("whole")
        _ = try ReproductionFixture.run(yaml, into: whole, overrides: overrides, jobs: 2)
        var shards: [String] = []
        for i in 0..<3 {
            let folder = ReproductionFixture.folder("shard\(i)")
            let summary = try ReproductionFixture.run(yaml, into: folder, overrides: overrides, shard: try Shard(index: i, count: 3))
            #expect(summary.ran == 2 && !summary.tablesWritten)
            shards.append(folder)
        }
        let merged = ReproductionFixture.folder("merged")
        let registry = ExperimentRegistry.persephone
        let summary = try mergeRunFolders(shards, into: merged, replan: { try registry.plan(frozen: $0, folder: $1) },
                                          store: UnitStore(root: merged + "-store"), events: { _ in })
        #expect(summary.succeeded && summary.missing.isEmpty)
        for table in ["exits", "users", "summary"] {
            let a = FileManager.default.contents(atPath: whole + "/\(table).csv.zst")
            #expect(a != nil && a == FileManager.default.contents(atPath: merged + "/\(table).csv.zst"), "\(table)")
        }
    }
}

/// One definition per knob: the spec sections' defaults are the library's.
@Suite struct OneDefinitionTests {
    @Test func specDefaultsAreTheLibrarysDefaults() {
        let train = TrainSection(), engine = PersonalisationConfig()
        #expect(train.epochs == engine.epochs && train.batch == engine.batchSize)
        #expect(Float(train.lr) == engine.learningRate && train.lr == 0.01, "a decimal, not Float 0.01 widened")
        #expect(Float(train.baselineLR) == PersonalisationConfig.wholeNetworkLearningRate)
        #expect(train.losses.rawValue == PersonalisationConfig.autoLossMix)
        #expect(LossSet.allCases.map(\.rawValue) == [PersonalisationConfig.autoLossMix] + PersonalisationConfig.lossMixes,
                "one spelling of loss mixes")
        for mix in LossSet.allCases where mix != .auto {
            var c = PersonalisationConfig()
            #expect(throws: Never.self) { try c.setLossMix(mix.rawValue) }
            #expect(c.lossMix == mix.rawValue)
        }
        let data = DataSection(), split = UserSplitSpec()
        #expect(data.users == split.users && data.samples == split.samplesPerUser && data.test == split.testSamplesPerUser)
        #expect(data.labelled == split.labelledFraction && data.split == "classes:\(split.classesPerUser)")
        let orchestrator = OrchestratorSection()
        #expect(orchestrator.basis == BasisRule.default.spelling && BasisRule(spelling: orchestrator.basis) == .default)
        #expect(orchestrator.tolerance == SelectionRule().tolerance)
    }
}

/// Inputs are checked before any work starts, once, with the user-facing key.
@Suite struct InputCheckTests {
    func check(_ overrides: [String]) throws -> RunError? {
        let plan = try ExperimentRegistry.persephone.plan(SpecDocument.parse(yaml: ReproductionFixture.spec("global-vs-personal"),
                                                                           path: "c.yaml"),
                                                        overrides: overrides.map(Override.init(parsing:)))
        do { try plan.checkInputs() } catch let error as RunError { return error }
        return nil
    }

    @Test func missingOrUnfitInputsAreOneClearError() throws {
        #expect(try check([]) == nil, "the fixture fits")
        let missing = try check(["data.checkpoint=" + ReproductionFixture.root + "/absent.safetensors"])
        #expect(missing?.message.hasPrefix("data.checkpoint: ") == true && missing?.message.contains("does not exist") == true)
        let noTree = try check(["data.dataset=" + ReproductionFixture.root + "/no-tree"])
        #expect(noTree?.message.hasPrefix("data.dataset: ") == true)
        let tooMany = try check(["data.test=121"])
        #expect(tooMany?.message.hasPrefix("data.test: 121 test samples") == true, "\(String(describing: tooMany))")
        let tooBig = try check(["data.users=7", "data.samples=40"])
        #expect(tooBig?.message.hasPrefix("data.samples: 7 users x 40 samples need 280 train images") == true)
    }
}
