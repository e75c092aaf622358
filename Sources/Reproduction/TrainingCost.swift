import Datasets
import Experiments
import NN
import Personalisation

/// `training-cost`: exit personalisation against whole-network fine-tuning on the same
/// user data (the paper: up to 2.2x cheaper). FLOPs and accounted memory are deterministic
/// table columns; wall time goes to the timings table (phases `exits` and `whole-network`).
/// Measured peak memory (RSS) depends on the allocator and on the other points running
/// in the process, so it is not tabulated; `state_bytes` accounts what training holds:
/// 3 x 4 bytes per trained parameter (weight, gradient, SGD momentum) plus the feature cache.
public struct TrainingCostConfig: DataSectionConfig, Equatable {
    public var data = DataSection()
    public var train = TrainSection()
    public var seeds = [1]

    public init() {}

    public static var keyReasons: [String: String] {
        sectionKeyReasons()
    }

    public func validate() throws {
        try data.validate(prefix: "data.")
        try train.validate(prefix: "train.")
        try validateSeeds(seeds)
    }
}

enum TrainingCost {
    static let experiment = Experiment<TrainingCostConfig>(
        kind: "training-cost",
        summary: "FLOPs and accounted memory of exit personalisation against whole-network fine-tuning",
        tables: [
            TableSchema("methods", columns: ["seed", "user", "method", "accuracy", "total_flops", "extraction_flops",
                                             "training_flops", "steps", "trained_parameters", "feature_cache_bytes", "state_bytes", "diverged"]),
            Summary.schema,
        ]
    ) { point, progress in
        let c = point.config
        var result = PointResult()
        let work = try timed("load", &result) { try Workload.load(c.data) }
        var summary = Summary()
        for seed in c.seeds {
            let users = try work.users(c.data, seed: seed)
            for user in users {
                progress.report("seed \(seed), user \(user.index + 1)/\(users.count)")
                let trainData = PersonalisationData(split: work.train, indices: user.train, isLabelled: user.trainLabelled)
                let testData = PersonalisationData(split: work.test, indices: user.test)
                var config = c.train.personalisation(seed: seed)
                config.seed = config.seed &+ UInt64(user.index)
                let exits = try timed("exits", &result) {
                    try ExitPersonaliser(configuration: config).personalise(work.model, on: trainData)
                }
                let exitAccuracy = PersonalisationBenchmark.accuracies(of: exits.model.forward, on: testData,
                                                                       normalization: exits.model.normalization)
                let tuned = try timed("whole-network", &result) {
                    try WholeNetworkFineTuner(configuration: c.train.baseline(config)).fineTune(work.model, on: trainData)
                }
                let tunedAccuracy = PersonalisationBenchmark.accuracies(of: tuned.model.forward, on: testData,
                                                                        normalization: tuned.model.normalization).final
                let exitParameters = exits.model.heads.reduce(0) { $0 + count($1.head.parameters) }
                let wholeParameters = count(tuned.model.backbone.network.parameters)
                // The exits' accuracy is their best exit's: what a user would run the personalised exits for.
                let rows: [(String, Double, CostReport, Int, Bool)] = [
                    ("exits", exitAccuracy.exits.max() ?? .nan, exits.report, exitParameters, false),
                    ("whole-network", tunedAccuracy, tuned.report, wholeParameters, tuned.diverged),
                ]
                if tuned.diverged {
                    progress.report("seed \(seed), user \(user.index): whole-network fine-tuning diverged at train.baseline_lr \(c.train.baselineLR)")
                }
                for (method, accuracy, report, parameters, diverged) in rows {
                    let state = 12 * parameters + report.featureCacheBytes
                    result.append([.int(seed), .int(user.index), .string(method), .double(accuracy), .int(report.totalFLOPs),
                                   .int(report.extractionFLOPs), .int(report.trainingStepFLOPs), .int(report.steps),
                                   .int(parameters), .int(report.featureCacheBytes), .int(state), .int(diverged ? 1 : 0)], to: "methods")
                    summary.add("accuracy.\(method)", accuracy)
                    summary.add("total_flops.\(method)", Double(report.totalFLOPs))
                    summary.add("state_bytes.\(method)", Double(state))
                }
                summary.add("flops_ratio.whole-network/exits", Double(tuned.report.totalFLOPs) / Double(max(1, exits.report.totalFLOPs)))
                summary.add("accuracy_difference.exits-whole-network", (exitAccuracy.exits.max() ?? .nan) - tunedAccuracy)
            }
        }
        for row in summary.rows() { result.append(row, to: "summary") }
        return result
    }

    /// Trainable scalars among `parameters`.
    static func count(_ parameters: [Parameter]) -> Int {
        parameters.filter(\.isTrainable).reduce(0) { $0 + $1.value.count }
    }
}
