#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Experiments
import Foundation
import Testing

@Suite("Kill and resume")
struct KillTests {
    /// A real SIGKILL in the middle of a two-worker run (in a child process), then a
    /// resume in this process: the tables equal an uninterrupted run's byte for byte.
    @Test func sigkillMidRunThenResumeGivesIdenticalTables() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanup() }
        let folder = dir.path + "/killed"
        await #expect(processExitsWith: .signal(SIGKILL)) { [folder = folder as String] in
            let dying = Experiment<DescentConfig>(kind: "descent", summary: "dies at point 7", tables: descentTables) { point, progress in
                if point.index == 7 { kill(getpid(), SIGKILL) }
                return try descentCompute(point, progress)
            }
            _ = try Runner(plan: try plan(sweepSpec, experiment: dying), options: testOptions(folder, jobs: 2)).run()
        }
        let recorded = unitFiles(folder + "/unit-store")
        #expect(recorded.count >= 5 && recorded.count < 12, "\(recorded)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/final.csv.zst"))

        let calls = Counter()
        let resumed = try Runner(plan: try plan(sweepSpec, experiment: descentExperiment(calls: calls)),
                                 options: testOptions(folder)).run()
        #expect(resumed.succeeded && resumed.reused == recorded.count && calls.value == 12 - recorded.count)
        _ = try Runner(plan: try plan(sweepSpec), options: testOptions(dir.path + "/whole")).run()
        for name in ["trajectory.csv.zst", "final.csv.zst"] {
            #expect(bytes(folder + "/" + name) == bytes(dir.path + "/whole/" + name))
        }
    }
}
