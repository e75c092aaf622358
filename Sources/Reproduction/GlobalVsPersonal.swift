import Datasets
import Experiments
import Personalisation

/// `global-vs-personal`: per user, the global model (offline exits and final classifier)
/// against the personalised exits on the user's test set, and the early-exit policy the
/// orchestrator builds from them (the paper: up to +15.9% accuracy).
public struct GlobalVsPersonalConfig: DataSectionConfig, Equatable {
    public var data = DataSection()
    public var train = TrainSection()
    public var orchestrator = OrchestratorSection()
    public var seeds = [1]

    public init() {}

    public static var keyReasons: [String: String] {
        sectionKeyReasons(orchestrator: true)
    }

    public func validate() throws {
        try data.validate(prefix: "data.")
        try train.validate(prefix: "train.")
        try orchestrator.validate(prefix: "orchestrator.")
        try validateSeeds(seeds)
    }
}

enum GlobalVsPersonal {
    static let experiment = Experiment<GlobalVsPersonalConfig>(
        kind: "global-vs-personal",
        summary: "per-user accuracy of the global model against personalised exits and the early-exit policy",
        tables: [
            TableSchema("exits", columns: ["seed", "user", "classifier", "flops", "global_accuracy", "personalised_accuracy", "gain"]),
            TableSchema("users", columns: ["seed", "user", "classes", "global_final_accuracy", "best_exit_gain",
                                           "policy_accuracy", "policy_gain", "policy_mean_flops", "full_flops", "enabled"]),
            Summary.schema,
        ],
        units: { point in
            let c = point.config
            return try UserRuns.units(c.data, seeds: c.seeds) { seed, user in [try UserRuns.exits(c.data, c.train, seed: seed, user: user)] }
        },
        rows: { point, units in
            let c = point.config
            let rule = try c.orchestrator.rule()
            let (_, orchestrator) = c.orchestrator.options(rule: rule)
            var result = PointResult()
            var summary = Summary()
            for (unit, (seed, user)) in zip(units, try UserRuns.each(c.data, seeds: c.seeds)) {
                let r = try unit.decode(ExitsRecord.self)
                result.timings += unit.timings
                let names = r.costs.names, flops = r.costs.classifierFLOPs
                let global = r.global.accuracies, personalised = r.personalised.accuracies
                for (k, name) in names.enumerated() {
                    let gain = personalised[k] - global[k]
                    result.append([.int(seed), .int(user), .string(name), .int(flops[k]),
                                   .double(global[k]), .double(personalised[k]), .double(gain)], to: "exits")
                    summary.add("global_accuracy.\(name)", global[k])
                    summary.add("personalised_accuracy.\(name)", personalised[k])
                    if k < names.count - 1 { summary.add("gain.\(name)", gain) }
                }
                let bestGain = (0..<names.count - 1).map { personalised[$0] - global[$0] }.max() ?? 0
                let (plan, outcome) = try r.policy(rule: rule, options: orchestrator)
                let globalFinal = global.last!
                let enabled = zip(r.exitNames, plan.selected).filter(\.1).map(\.0)
                result.append([.int(seed), .int(user), .string(r.classes.map(String.init).joined(separator: "+")),
                               .double(globalFinal), .double(bestGain), .double(outcome.accuracy),
                               .double(outcome.accuracy - globalFinal), .double(outcome.meanFLOPs),
                               .int(r.costs.fullNetworkFLOPs), .string(enabled.isEmpty ? "none" : enabled.joined(separator: "+"))],
                              to: "users")
                summary.add("best_exit_gain", bestGain)
                summary.add("policy_accuracy", outcome.accuracy)
                summary.add("policy_gain", outcome.accuracy - globalFinal)
                summary.add("policy_flops_fraction", outcome.meanFLOPs / Double(r.costs.fullNetworkFLOPs))
            }
            for row in summary.rows() { result.append(row, to: "summary") }
            return result
        })
}
