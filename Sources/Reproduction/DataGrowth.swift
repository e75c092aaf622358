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
    public var step = 80
    /// Rounds to run; nil runs until the training pool is exhausted.
    public var rounds: Int? = nil
    /// Measure each round's policy latency (timings table only).
    public var latency = true
    public var seeds = [1]

    public init() {}

    public static var keyReasons: [String: String] {
        sectionKeyReasons(orchestrator: true, own: [
            "step": "80 samples a round: a fifth of the default 400-sample training pool (500 samples, 20% validation), so 5 rounds, the fewest over which the report decides C4",
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
        ],
        units: { point in
            let c = point.config
            return try UserRuns.units(c.data, seeds: c.seeds) { seed, user in [try unit(c, seed: seed, user: user)] }
        },
        rows: { point, units in
            let c = point.config
            var result = PointResult()
            var summary = Summary()
            for (unit, (seed, user)) in zip(units, try UserRuns.each(c.data, seeds: c.seeds)) {
                result.timings += unit.timings.filter { c.latency || !$0.phase.hasPrefix("latency.") }
                for r in try unit.decode([GrowthRoundRecord].self) {
                    let fraction = r.testMeanFLOPs / Double(r.fullNetworkFLOPs)
                    result.append([.int(seed), .int(user), .int(r.round), .int(r.pool), .int(r.labelled),
                                   .int(r.enabled.count), .string(r.enabled.isEmpty ? "none" : r.enabled.joined(separator: "+")),
                                   .double(r.validationAccuracy), .double(r.testAccuracy), .double(r.finalTestAccuracy),
                                   .double(r.testMeanFLOPs), .int(r.fullNetworkFLOPs), .double(fraction)], to: "rounds")
                    summary.add("round\(r.round).enabled_count", Double(r.enabled.count))
                    summary.add("round\(r.round).test_accuracy", r.testAccuracy)
                    summary.add("round\(r.round).validation_flops_fraction", r.validationMeanFLOPs / Double(r.fullNetworkFLOPs))
                    summary.add("round\(r.round).test_flops_fraction", fraction)
                }
            }
            for row in summary.rows() { result.append(row, to: "summary") }
            return result
        })

    /// One user's rounds: after each round the exits are personalised again on the pool so
    /// far, profiled on the validation share, selected and given thresholds; the policy is
    /// replayed on the test outputs and its batch-1 latency measured (`latency.round<r>`).
    static func unit(_ c: DataGrowthConfig, seed: Int, user: Int) throws -> WorkUnit {
        var identity = UserRunIdentity(method: "data-growth", data: try DataIdentity(c.data), seed: seed, user: user,
                                       train: TrainIdentity(c.train, labelled: c.data.labelled, baseline: false))
        identity.extra = ["step": String(c.step), "rounds": c.rounds.map(String.init) ?? "all",
                          "basis": c.orchestrator.basis, "tolerance": Cell.double(c.orchestrator.tolerance).text]
        return WorkUnit.typed(identity: identity, label: "seed \(seed), user \(user): data growth") {
            (progress: PointProgress) throws -> (record: [GrowthRoundRecord], timings: [PointResult.Timing]) in
            let work = try Workload.load(c.data)
            let u = try work.user(c.data, seed: seed, index: user)
            let rule = try c.orchestrator.rule()
            let (profiler, orchestrator) = c.orchestrator.options(rule: rule)
            let config = c.train.personalisation(labelled: c.data.labelled, seed: seed, user: user)
            let validation = try InferenceSamples(validationOf: u, in: work.train)
            let test = try InferenceSamples(testOf: u, in: work.test)
            var headsByRound: [[AttachedExit]] = []
            var timings: [PointResult.Timing] = []
            let schedule = Schedule(step: c.step, rounds: c.rounds)
            let records = try schedule.run(user: u, validation: validation, backbone: work.model.backbone,
                                           normalization: work.model.normalization, profiler: profiler,
                                           orchestrator: orchestrator) { round in
                progress.report("round \(round.round)")
                let data = PersonalisationData(split: work.train, pool: round.pool)
                let personalised = try ExitPersonaliser(configuration: config).personalise(work.model, on: data)
                timings.append(.init(phase: "personalise.round\(round.round)", seconds: personalised.report.wallSeconds))
                headsByRound.append(personalised.model.heads)
                return personalised.model.heads
            }
            var rounds: [GrowthRoundRecord] = []
            for (record, heads) in zip(records, headsByRound) {
                // The round's policy replayed on the test set's outputs, scored against the labels.
                let network = try InferenceNetwork(backbone: work.model.backbone, heads: heads,
                                                   normalization: work.model.normalization)
                var unused: [PointResult.Timing] = []
                let outputs = try ClassifierOutputs(network, on: test, latency: nil, timings: &unused)
                let outcome = record.plan.policy.outcome(on: outputs.scores, network: network)
                rounds.append(GrowthRoundRecord(
                    round: record.round, pool: record.poolSize, labelled: record.labelledCount, enabled: record.enabledExits,
                    validationAccuracy: record.validationAccuracy, testAccuracy: outcome.accuracy,
                    finalTestAccuracy: outputs.accuracy(outputs.classifierCount - 1), validationMeanFLOPs: record.meanFLOPs,
                    testMeanFLOPs: outcome.meanFLOPs, fullNetworkFLOPs: record.fullNetworkFLOPs))
                if let seconds = try InferenceEngine(network: network, policy: record.plan.policy)
                    .run(test, mode: .default).summary.meanLatency {
                    timings.append(.init(phase: "latency.round\(record.round)", seconds: seconds))
                }
            }
            return (rounds, timings)
        }
    }
}

/// One round of a data-growth unit's record.
struct GrowthRoundRecord: Codable, Equatable {
    var round: Int
    var pool: Int
    var labelled: Int
    var enabled: [String]
    var validationAccuracy: Double
    var testAccuracy: Double
    var finalTestAccuracy: Double
    var validationMeanFLOPs: Double
    var testMeanFLOPs: Double
    var fullNetworkFLOPs: Int
}
