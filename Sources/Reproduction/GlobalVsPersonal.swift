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
        ]
    ) { point, progress in
        let c = point.config
        var result = PointResult()
        let work = try timed("load", &result) { try Workload.load(c.data) }
        let rule = try c.orchestrator.rule()
        let (profiler, orchestrator) = c.orchestrator.options(rule: rule)
        var summary = Summary()
        for seed in c.seeds {
            let users = try work.users(c.data, seed: seed)
            for user in users {
                progress.report("seed \(seed), user \(user.index + 1)/\(users.count)")
                let options = UserPipelineOptions(personalisation: c.train.personalisation(seed: seed), profiler: profiler,
                                                  orchestrator: orchestrator, inference: .batched(size: 256), baseline: false)
                let r = try timed("user", &result) {
                    try UserPipeline.run(model: work.model, user: user, train: work.train, test: work.test, options: options)
                }
                let names = r.exitNames + ["final"]
                for (k, name) in names.enumerated() {
                    let gain = r.personalisedAccuracy[k] - r.globalAccuracy[k]
                    result.append([.int(seed), .int(user.index), .string(name), .int(r.classifierFLOPs[k]),
                                   .double(r.globalAccuracy[k]), .double(r.personalisedAccuracy[k]), .double(gain)], to: "exits")
                    summary.add("global_accuracy.\(name)", r.globalAccuracy[k])
                    summary.add("personalised_accuracy.\(name)", r.personalisedAccuracy[k])
                    if k < r.exitNames.count { summary.add("gain.\(name)", gain) }
                }
                let bestGain = (0..<r.exitNames.count).map { r.personalisedAccuracy[$0] - r.globalAccuracy[$0] }.max() ?? 0
                let policyAccuracy = r.policy.accuracy ?? .nan
                let globalFinal = r.globalAccuracy.last!
                let enabled = zip(r.exitNames, r.selected).filter(\.1).map(\.0)
                result.append([.int(seed), .int(user.index), .string(r.classes.map(String.init).joined(separator: "+")),
                               .double(globalFinal), .double(bestGain), .double(policyAccuracy),
                               .double(policyAccuracy - globalFinal), .double(r.policy.meanFLOPs),
                               .int(r.classifierFLOPs.last!), .string(enabled.isEmpty ? "none" : enabled.joined(separator: "+"))],
                              to: "users")
                summary.add("best_exit_gain", bestGain)
                summary.add("policy_accuracy", policyAccuracy)
                summary.add("policy_gain", policyAccuracy - globalFinal)
                summary.add("policy_flops_fraction", r.policy.meanFLOPs / Double(r.classifierFLOPs.last!))
            }
        }
        for row in summary.rows() { result.append(row, to: "summary") }
        return result
    }
}
