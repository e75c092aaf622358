import Datasets
import Models
@testable import Personalisation
import Tensor
import Testing
import Training

@Suite("Schedule")
struct ScheduleTests {
    /// A user whose 25 training samples arrive in a scrambled order (every third labelled),
    /// with 12 validation samples at positions 25..<37 of the same synthetic split.
    private func user() -> SimulatedUser {
        let train = (0..<25).map { ($0 * 7) % 25 }
        return SimulatedUser(index: 0, classes: [0, 1, 2], superclass: nil, train: train,
                             trainLabelled: train.indices.map { $0 % 3 == 0 },
                             validation: Array(25..<37), validationLabelled: [Bool](repeating: true, count: 12), test: [])
    }

    @Test("rounds grow the pool by prefixes, call the closure each round, and redo profile and selection")
    func roundsGrowAndRepersonalise() throws {
        let model = ExitNetFixture.model()
        let all = try ExitNetFixture.samples(count: 37)
        let validation = try UserSamples(images: all.images, indices: Array(25..<37), labels: Array(all.labels[25..<37]))
        let user = user()
        var seen: [ScheduleRound] = []
        // A stand-in for the personalisation engine: round r keeps the heads of the first
        // 4 - r points, so each round's profile must come from that round's heads.
        let records = try Schedule(step: 10).run(user: user, validation: validation,
                                                 profiler: ProfilerOptions(basis: .labelsWhenAtLeast(5), latency: nil),
                                                 orchestrator: OrchestratorOptions(selection: .all)) { round in
            seen.append(round)
            return ExitNetFixture.model(exits: 4 - round.round)
        }
        #expect(seen.map(\.round) == [1, 2, 3])
        #expect(seen.map(\.pool.count) == [10, 20, 25])
        for round in seen {
            #expect(round.pool.indices == Array(user.train.prefix(round.pool.count)))
            #expect(round.pool.isLabelled == Array(user.trainLabelled.prefix(round.pool.count)))
        }
        #expect(records.map(\.round) == [1, 2, 3])
        #expect(records.map(\.poolSize) == [10, 20, 25])
        #expect(records.map(\.labelledCount) == [4, 7, 9])
        #expect(records.map(\.profile.exits.count) == [3, 2, 1])
        #expect(records.map(\.thresholds.count) == [3, 2, 1])
        #expect(records[2].enabledExits == ["block1"])
        for r in records {
            #expect(r.profile.basis == .labels(count: 12))
            #expect(r.validationAccuracy == r.plan.validation.accuracy && r.validationAccuracy >= r.finalValidationAccuracy - 0.01 - 1e-9)
            #expect(r.meanFLOPs == r.plan.validation.meanFLOPs && r.meanFLOPs > 0)
            #expect(r.fullNetworkFLOPs == model.backbone.forwardFLOPs)
        }
    }

    @Test("a round limit stops early; bad schedules and closure errors surface")
    func limitsAndErrors() throws {
        let model = ExitNetFixture.model()
        let all = try ExitNetFixture.samples(count: 37)
        let validation = try UserSamples(images: all.images, indices: Array(25..<37), labels: Array(all.labels[25..<37]))
        #expect(try Schedule(step: 10, rounds: 2).pools(for: user()).map(\.count) == [10, 20])
        #expect(try Schedule(step: 100).pools(for: user()).map(\.count) == [25])
        var calls = 0
        let records = try Schedule(step: 8, rounds: 2).run(user: user(), validation: validation,
                                                           profiler: ProfilerOptions(latency: nil)) { _ in
            calls += 1
            return model
        }
        #expect(calls == 2 && records.map(\.poolSize) == [8, 16])
        #expect(throws: OrchestratorError.self) { try Schedule(step: 0).pools(for: user()) }
        #expect(throws: OrchestratorError.self) { try Schedule(step: 5, rounds: 0).pools(for: user()) }
        struct Failed: Error {}
        #expect(throws: Failed.self) {
            try Schedule(step: 10).run(user: user(), validation: validation) { _ in throw Failed() }
        }
    }
}
