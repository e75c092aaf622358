import Datasets
import Models
import Training

/// One round of a schedule, as handed to the personalisation closure.
public struct ScheduleRound: Equatable, Sendable {
    /// 1-based.
    public var round: Int
    /// The user's training pool so far: the first `round * step` samples in pool order
    /// (all of them in the last round), a prefix of every later round's pool.
    public var pool: UserPool
}

/// What one round produced: the pool, the profile of the re-personalised heads, and the
/// orchestrator's selection and policy on the validation share.
public struct ScheduleRecord: Equatable, Sendable {
    public var round: Int
    public var poolSize: Int
    /// Labelled samples in the pool.
    public var labelledCount: Int
    /// Names of the exits the selection enabled.
    public var enabledExits: [String]
    /// Per head: threshold of the policy (nil: not in the policy).
    public var thresholds: [Float?]
    /// The policy's validation accuracy, and the final classifier's, on `profile.basis`.
    public var validationAccuracy: Double
    public var finalValidationAccuracy: Double
    /// The policy's mean forward FLOPs per validation sample, and the full network's.
    public var meanFLOPs: Double
    public var fullNetworkFLOPs: Int
    public var profile: UserProfile
    public var plan: OrchestratorPlan
}

/// Training scheduling as data accumulate (PersEPhonEE's orchestrator): in round r the user's
/// pool holds the first r * `step` samples (`SimulatedUser.growth(step:)`); after each round
/// the caller's closure personalises the exits again on that pool, then the exits are
/// profiled on the user's validation share and the selection and policy are redone.
/// The validation share is held out once and is the same in every round.
public struct Schedule: Equatable, Hashable, Sendable, Codable {
    /// m, samples added per round. Default 100: a quarter of the default 400-sample training
    /// pool, so the defaults give 4 rounds (100, 200, 300, 400 samples).
    public var step: Int
    /// How many rounds to run; nil (default) runs until the pool is exhausted.
    public var rounds: Int?

    public init(step: Int = 100, rounds: Int? = nil) {
        self.step = step; self.rounds = rounds
    }

    /// The pools of the rounds for `user`, each a prefix of the next.
    public func pools(for user: SimulatedUser) throws -> [UserPool] {
        guard step >= 1 else {
            throw OrchestratorError(subject: "schedule step", message: "\(step)", hint: "use a positive number of samples per round (default 100)")
        }
        if let r = rounds, r < 1 {
            throw OrchestratorError(subject: "schedule rounds", message: "\(r)", hint: "use at least 1 round, or nil to run until the pool is exhausted")
        }
        let all = user.growth(step: step)
        return rounds.map { Array(all.prefix($0)) } ?? all
    }

    /// Runs the rounds. `personalise` gets each round's pool and returns the model to use from
    /// then on (e.g. `ExitPersonaliser`'s personalised model); it is called once per round,
    /// in order.
    public func run(user: SimulatedUser, validation: UserSamples, profiler: ProfilerOptions = ProfilerOptions(),
                    orchestrator: OrchestratorOptions = OrchestratorOptions(),
                    personalise: (ScheduleRound) throws -> MultiExitModel) throws -> [ScheduleRecord] {
        var records: [ScheduleRecord] = []
        for (r, pool) in try pools(for: user).enumerated() {
            let network = try personalise(ScheduleRound(round: r + 1, pool: pool))
            let profile = try Profiler.profile(network, validation: validation, options: profiler)
            let plan = try Orchestrator.plan(profile: profile, network: network, options: orchestrator)
            records.append(ScheduleRecord(
                round: r + 1, poolSize: pool.count, labelledCount: pool.labelledIndices.count,
                enabledExits: zip(network.exits, plan.selected).filter(\.1).map(\.0.point.name),
                thresholds: plan.thresholds, validationAccuracy: plan.validation.accuracy,
                finalValidationAccuracy: plan.finalAccuracy, meanFLOPs: plan.validation.meanFLOPs,
                fullNetworkFLOPs: network.fullNetworkFLOPs, profile: profile, plan: plan))
        }
        return records
    }
}
