import Datasets
import Experiments
import Personalisation

/// `label-availability`: accuracy of every personalised exit for one labelled fraction and
/// one loss mix; the spec sweeps `data.labelled` over {0, 0.01, 0.1, 0.5, 1} and
/// `train.losses` over {sup, sup+selfsup, sup+distill, sup+selfsup+distill}.
public struct LabelAvailabilityConfig: DataSectionConfig, Equatable {
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

enum LabelAvailability {
    static let experiment = Experiment<LabelAvailabilityConfig>(
        kind: "label-availability",
        summary: "accuracy per personalised exit by labelled fraction and loss mix",
        tables: [
            TableSchema("exits", columns: ["seed", "user", "labelled_samples", "classifier",
                                           "global_accuracy", "personalised_accuracy"]),
            Summary.schema,
        ],
        units: { point in
            let c = point.config
            return try UserRuns.units(c.data, seeds: c.seeds) { seed, user in [try UserRuns.exits(c.data, c.train, seed: seed, user: user)] }
        },
        rows: { point, units in
            let c = point.config
            var result = PointResult()
            var summary = Summary()
            for (unit, (seed, user)) in zip(units, try UserRuns.each(c.data, seeds: c.seeds)) {
                let r = try unit.decode(ExitsRecord.self)
                result.timings += unit.timings.filter { $0.phase == "personalise" }
                let global = r.global.accuracies, personalised = r.personalised.accuracies
                for (k, name) in r.exitNames.enumerated() {
                    result.append([.int(seed), .int(user), .int(r.labelledSamples), .string(name),
                                   .double(global[k]), .double(personalised[k])], to: "exits")
                    summary.add("global_accuracy.\(name)", global[k])
                    summary.add("personalised_accuracy.\(name)", personalised[k])
                }
                summary.add("final_accuracy", global.last!)
            }
            for row in summary.rows() { result.append(row, to: "summary") }
            return result
        })
}
