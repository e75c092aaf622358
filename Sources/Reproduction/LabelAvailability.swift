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
                let global = PersonalisationBenchmark.accuracies(of: work.model.forward, on: testData,
                                                                 normalization: work.model.normalization)
                let personalised = try timed("personalise", &result) {
                    try ExitPersonaliser(configuration: config).personalise(work.model, on: trainData)
                }
                let p = personalised.model
                let after = PersonalisationBenchmark.accuracies(of: p.forward, on: testData, normalization: p.normalization)
                let labelledCount = user.trainLabelled.filter { $0 }.count
                for (k, head) in p.heads.enumerated() {
                    let name = head.point.name
                    result.append([.int(seed), .int(user.index),
                                   .int(labelledCount), .string(name), .double(global.exits[k]), .double(after.exits[k])],
                                  to: "exits")
                    summary.add("global_accuracy.\(name)", global.exits[k])
                    summary.add("personalised_accuracy.\(name)", after.exits[k])
                }
                summary.add("final_accuracy", global.final)
            }
        }
        for row in summary.rows() { result.append(row, to: "summary") }
        return result
    }
}
