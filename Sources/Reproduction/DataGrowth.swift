import Datasets
import Experiments
import Personalisation
import Training

/// `data-growth`: a user's data arrive in rounds (`Schedule`: the pool grows by `step`
/// samples a round); after each round the exits are personalised again on the pool so far,
/// profiled on the validation share, selected and given thresholds. Per round: the exits
/// enabled, the policy's validation and test accuracy and its mean FLOPs per sample (the
/// paper: the model bypasses more computation as personal data grow). The policy's mean
/// batch-1 latency on the test set per round is measured into the timings table
/// (`latency.round<r>`, seconds), never into the deterministic tables.
public struct DataGrowthConfig: DataSectionConfig, Equatable {
    public var data = DataSection()
    public var train = TrainSection()
    public var orchestrator = OrchestratorSection()
    /// Samples added per round.
    public var step = 40
    /// Rounds to run; nil runs until the training pool is exhausted.
    public var rounds: Int? = nil
    /// Measure each round's policy latency (timings table only).
    public var latency = true
    public var seeds = [1]

    public init() {}

    public static var keyReasons: [String: String] {
        sectionKeyReasons(orchestrator: true, own: [
            "step": "40 samples a round: a quarter of the default 160-sample training pool, so 4 rounds",
            "rounds": "nil: run until the training pool is exhausted",
            "latency": "measure each round's policy at batch 1 on the test set (timings table only; a fraction of a second per round)",
        ])
    }

    public func validate() throws {
        try data.validate(prefix: "data.")
        try train.validate(prefix: "train.")
        try orchestrator.validate(prefix: "orchestrator.")
        try validateSeeds(seeds)
        guard step >= 2 else { throw SpecConstraintViolation(key: "step", "must be at least 2", hint: "use a number of samples per round such as 40") }
        if let rounds, rounds < 1 { throw SpecConstraintViolation(key: "rounds", "must be at least 1", hint: "use 1 or more, or null for all") }
    }
}

enum DataGrowth {
    static let experiment = Experiment<DataGrowthConfig>(
        kind: "data-growth",
        summary: "exits enabled, accuracy and mean FLOPs per round as personal data arrive",
        tables: [
            TableSchema("rounds", columns: ["seed", "user", "round", "pool", "labelled_samples", "enabled_count", "enabled",
                                            "validation_accuracy", "test_accuracy", "final_test_accuracy",
                                            "mean_flops", "full_flops", "flops_fraction"]),
            Summary.schema,
        ]
    ) { point, progress in
        let c = point.config
        var result = PointResult()
        let work = try timed("load", &result) { try Workload.load(c.data) }
        let rule = try c.orchestrator.rule()
        let (profiler, orchestrator) = c.orchestrator.options(rule: rule)
        let schedule = Schedule(step: c.step, rounds: c.rounds)
        var summary = Summary()
        for seed in c.seeds {
            let users = try work.users(c.data, seed: seed)
            for user in users {
                var config = c.train.personalisation(seed: seed)
                config.seed = config.seed &+ UInt64(user.index)
                let validation = try InferenceSamples(validationOf: user, in: work.train)
                let test = try InferenceSamples(testOf: user, in: work.test)
                var headsByRound: [[AttachedExit]] = []
                let records = try timed("user", &result) {
                    try schedule.run(user: user, validation: validation, backbone: work.model.backbone,
                                     normalization: work.model.normalization, profiler: profiler,
                                     orchestrator: orchestrator) { round in
                        progress.report("seed \(seed), user \(user.index + 1)/\(users.count), round \(round.round)")
                        let data = PersonalisationData(split: work.train, pool: round.pool)
                        let heads = try ExitPersonaliser(configuration: config).personalise(work.model, on: data).model.heads
                        headsByRound.append(heads)
                        return heads
                    }
                }
                for (record, heads) in zip(records, headsByRound) {
                    // The round's policy replayed on the test set's outputs, scored against the labels.
                    let network = try InferenceNetwork(backbone: work.model.backbone, heads: heads,
                                                       normalization: work.model.normalization)
                    let scores = try Profiler.profile(network, validation: test,
                                                      options: ProfilerOptions(basis: .labelsWhenAtLeast(1), latency: nil)).scores
                    let outcome = record.plan.policy.outcome(on: scores, network: network)
                    let finalAccuracy = Double(scores.correct(classifier: scores.classifierCount - 1)) / Double(max(1, scores.scoredCount))
                    let fraction = record.meanFLOPs / Double(record.fullNetworkFLOPs)
                    result.append([.int(seed), .int(user.index), .int(record.round), .int(record.poolSize), .int(record.labelledCount),
                                   .int(record.enabledExits.count),
                                   .string(record.enabledExits.isEmpty ? "none" : record.enabledExits.joined(separator: "+")),
                                   .double(record.validationAccuracy), .double(outcome.accuracy), .double(finalAccuracy),
                                   .double(outcome.meanFLOPs), .int(record.fullNetworkFLOPs),
                                   .double(outcome.meanFLOPs / Double(record.fullNetworkFLOPs))], to: "rounds")
                    if c.latency, let seconds = try InferenceEngine(network: network, policy: record.plan.policy)
                        .run(test, mode: .default).summary.meanLatency {
                        result.time("latency.round\(record.round)", seconds: seconds)
                    }
                    summary.add("round\(record.round).enabled_count", Double(record.enabledExits.count))
                    summary.add("round\(record.round).test_accuracy", outcome.accuracy)
                    summary.add("round\(record.round).validation_flops_fraction", fraction)
                    summary.add("round\(record.round).test_flops_fraction", outcome.meanFLOPs / Double(record.fullNetworkFLOPs))
                }
            }
        }
        for row in summary.rows() { result.append(row, to: "summary") }
        return result
    }
}
