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
        ],
        units: { point in
            let c = point.config
            return try UserRuns.units(c.data, seeds: c.seeds) { seed, user in
                [try UserRuns.exits(c.data, c.train, seed: seed, user: user),
                 try UserRuns.wholeNetwork(c.data, c.train, seed: seed, user: user)]
            }
        },
        rows: { point, units in
            let c = point.config
            var result = PointResult()
            var summary = Summary()
            for (i, (seed, user)) in try UserRuns.each(c.data, seeds: c.seeds).enumerated() {
                let exits = try units[2 * i].decode(ExitsRecord.self)
                let tuned = try units[2 * i + 1].decode(WholeNetworkRecord.self)
                result.timings += units[2 * i].timings.filter { $0.phase == "personalise" }.map { .init(phase: "exits", seconds: $0.seconds) }
                result.timings += units[2 * i + 1].timings.filter { $0.phase == "whole-network" }
                // The exits' accuracy is their best exit's: what a user would run the personalised exits for.
                let exitAccuracy = exits.personalised.accuracies.dropLast().max() ?? .nan
                let rows: [(String, Double, CostReport, Int, Bool)] = [
                    ("exits", exitAccuracy, exits.cost, exits.trainedParameters, false),
                    ("whole-network", tuned.accuracy, tuned.cost, tuned.trainedParameters, tuned.diverged),
                ]
                for (method, accuracy, report, parameters, diverged) in rows {
                    let state = 12 * parameters + report.featureCacheBytes
                    result.append([.int(seed), .int(user), .string(method), .double(accuracy), .int(report.totalFLOPs),
                                   .int(report.extractionFLOPs), .int(report.trainingStepFLOPs), .int(report.steps),
                                   .int(parameters), .int(report.featureCacheBytes), .int(state), .int(diverged ? 1 : 0)], to: "methods")
                    summary.add("accuracy.\(method)", accuracy)
                    summary.add("total_flops.\(method)", Double(report.totalFLOPs))
                    summary.add("state_bytes.\(method)", Double(state))
                }
                summary.add("flops_ratio.whole-network/exits", Double(tuned.cost.totalFLOPs) / Double(max(1, exits.cost.totalFLOPs)))
                summary.add("accuracy_difference.exits-whole-network", exitAccuracy - tuned.accuracy)
            }
            for row in summary.rows() { result.append(row, to: "summary") }
            return result
        })
}
