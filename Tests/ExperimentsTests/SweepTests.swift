import Experiments
import Testing

@Suite("Sweeps")
struct SweepTests {
    @Test func cartesianProductIsRowMajorLastAxisFastest() throws {
        let p = try plan(sweepSpec)
        let ids = p.spec.points.map(\.id)
        #expect(ids.count == 12)
        #expect(Array(ids.prefix(4)) == [
            "lr=0.1,seed=0,optimizer=sgd", "lr=0.1,seed=0,optimizer=momentum",
            "lr=0.1,seed=1,optimizer=sgd", "lr=0.1,seed=1,optimizer=momentum",
        ])
        #expect(ids[6] == "lr=0.25,seed=0,optimizer=sgd")
        #expect(ids[11] == "lr=0.25,seed=2,optimizer=momentum")
        #expect(p.spec.points.map(\.index) == Array(0..<12))
        #expect(p.spec.axes.map(\.key) == ["lr", "seed", "optimizer"])
        #expect(p.spec.axes[1].values == [.int(0), .int(1), .int(2)])
        #expect(p.spec.points[3].assignments == [
            Assignment(key: "lr", value: .double(0.1)), Assignment(key: "seed", value: .int(1)),
            Assignment(key: "optimizer", value: .string("momentum")),
        ])
    }

    @Test func idsUseCanonicalValuesSoSpellingDoesNotMatter() throws {
        let a = try plan("experiment: descent\nsweep:\n  lr: [1e-1, 0.50]\n")
        #expect(a.spec.points.map(\.id) == ["lr=0.1", "lr=0.5"])
        let b = try plan("experiment: descent\nsweep:\n  lr: [0.1, 0.5]\n")
        #expect(a.spec.hash == b.spec.hash)
    }

    @Test func commandLineSweepsReplaceInPlaceOrAppend() throws {
        let p = try plan(sweepSpec, sweeps: ["seed=7,8", "target.center=1.5,2"])
        #expect(p.spec.axes.map(\.key) == ["lr", "seed", "optimizer", "target.center"])
        #expect(p.spec.axes[1].values == [.int(7), .int(8)])
        #expect(p.spec.points.count == 2 * 2 * 2 * 2)
        #expect(p.spec.points[1].id == "lr=0.1,seed=7,optimizer=sgd,target.center=2.0")

        let lists = try SweepAxis(parsing: "tags=[a, b],[c],[]")
        #expect(lists.values.count == 3)
        let q = try plan("experiment: descent\n", sweeps: ["tags=[a, b],[c],[]"])
        #expect(q.spec.points.map(\.id) == [#"tags=["a","b"]"#, #"tags=["c"]"#, "tags=[]"])
    }

    @Test func anOverrideOfASweptKeyRemovesTheAxis() throws {
        let p = try plan(sweepSpec, overrides: ["seed=5"])
        #expect(p.spec.axes.map(\.key) == ["lr", "optimizer"])
        #expect(p.spec.points.count == 4)
        #expect(p.spec.config.value(at: ["seed"]) == .int(5))
    }

    @Test func seedsAreAnAxisLikeAnyOther() throws {
        let p = try plan("experiment: descent\nsweep:\n  seed: [3, 1, 2]\n")
        #expect(p.spec.points.map(\.id) == ["seed=3", "seed=1", "seed=2"])
        let scalar = try plan("experiment: descent\nsweep:\n  seed: 4\n")
        #expect(scalar.spec.points.map(\.id) == ["seed=4"])
    }

    @Test func everyPointIsTypeCheckedAtItsSweepEntry() {
        let wrong = specError { _ = try plan("experiment: descent\nsweep:\n  steps: [1, two]\n") }
        #expect(wrong?.origin == .file(path: "spec.yaml", line: 3, column: 14))
        #expect(wrong?.key == "steps")

        let invalid = specError { _ = try plan("experiment: descent\nsweep:\n  lr: [0.1, -1]\n") }
        #expect(invalid?.origin == .file(path: "spec.yaml", line: 3, column: 13))
        #expect(invalid?.message == "must be positive")

        let unknown = specError { _ = try plan("experiment: descent\nsweep:\n  sead: [1, 2]\n") }
        #expect(unknown?.origin == .file(path: "spec.yaml", line: 3, column: 3))
        #expect(unknown?.key == "sead")
        #expect(unknown?.hint.hasPrefix("did you mean `seed`?") == true)

        let cli = specError { _ = try plan("experiment: descent\n", sweeps: ["steps=1,x"]) }
        #expect(cli?.origin == .commandLine("--sweep steps=1,x"))

        let repeated = specError { _ = try plan("experiment: descent\nsweep:\n  lr: [0.5, 5e-1]\n") }
        #expect(repeated?.message.contains("twice") == true)

        let empty = specError { _ = try plan("experiment: descent\nsweep:\n  lr: []\n") }
        #expect(empty?.message == "a sweep axis needs at least one value")

        let notMap = specError { _ = try plan("experiment: descent\nsweep: [1]\n") }
        #expect(notMap?.key == "sweep")
    }

    @Test func baseValidationWaitsForTheSweep() throws {
        // The file's lr is replaced at every point, so only the points are validated.
        let p = try plan("experiment: descent\nlr: -1\nsweep:\n  lr: [0.1]\n")
        #expect(p.spec.points.count == 1)
    }

    @Test func shardsCoverEveryPointExactlyOnce() throws {
        for count in 1...5 {
            var seen = [Int](repeating: 0, count: 12)
            for index in 0..<count {
                let shard = try Shard(index: index, count: count)
                for point in 0..<12 where shard.contains(point) { seen[point] += 1 }
            }
            #expect(seen == [Int](repeating: 1, count: 12), "count \(count)")
        }
        #expect(try Shard(parsing: "2/4") == Shard(index: 2, count: 4))
        #expect(throws: RunError.self) { try Shard(parsing: "4/4") }
        #expect(throws: RunError.self) { try Shard(parsing: "1") }
        #expect(throws: RunError.self) { try Shard(parsing: "-1/2") }
    }

    @Test func slurmEnvironmentGivesTheShard() throws {
        #expect(try Shard.fromSlurm(environment: [:]) == nil)
        #expect(try Shard.fromSlurm(environment: ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"])
                == Shard(index: 3, count: 4))
        #expect(try Shard.fromSlurm(environment: ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4",
                                                  "SLURM_ARRAY_TASK_MIN": "1"]) == Shard(index: 3, count: 4))
        #expect(throws: RunError.self) {
            try Shard.fromSlurm(environment: ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"])
        }
    }

    @Test func dryRunListsEveryPointAndTheShardsShareOfUnits() throws {
        let p = try plan(sweepSpec)
        let all = try dryRunListing(p, shard: .all, folder: "results/sweep-test")
        let lines = all.split(separator: "\n")
        #expect(lines.count == 14)
        #expect(lines[0] == "experiment descent, name sweep-test, spec hash \(p.spec.hash)")
        #expect(lines[1] == "12 points, 12 distinct units -> results/sweep-test")
        #expect(lines[2] == " 0  lr=0.1,seed=0,optimizer=sgd  (1 units)")
        #expect(lines[13] == "11  lr=0.25,seed=2,optimizer=momentum  (1 units)")
        let shard = try dryRunListing(p, shard: try Shard(index: 1, count: 5), folder: "f")
        #expect(shard.split(separator: "\n")[1] == "12 points, 12 distinct units, shard 1/5 computes 3 of them -> f")
    }
}

@Suite("Sweep limits")
struct SweepLimitTests {
    @Test func aHugeSweepIsRefusedBeforeExpanding() {
        let values = (0..<400).map(String.init).joined(separator: ",")
        let error = specError { _ = try plan("experiment: descent\n", sweeps: ["seed=\(values)", "steps=\(values)"]) }
        #expect(error?.message == "the sweep expands to more than 100000 points")
    }
}
