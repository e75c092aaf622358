import Datasets
import Experiments
import Personalisation
import Training

/// `latency-accuracy`: accuracy against FLOPs on each user's test set, over a grid of exit
/// thresholds (one threshold for every exit), for the global model's offline exits and for
/// the personalised exits, beside the full network of the global model and of the
/// whole-network fine-tuned model. The per-user "speed-up at equal accuracy" is the full
/// network's FLOPs over the fewest mean FLOPs of a threshold whose accuracy is within
/// `tolerance` of the global full network's (the paper: 2.2-3.2x lower latency). Measured
/// batch-1 latency per classifier goes to the timings table (`latency.<method>.<classifier>`,
/// median seconds), never to the deterministic tables.
public struct LatencyAccuracyConfig: DataSectionConfig, Equatable {
    public var data = DataSection()
    public var train = TrainSection()
    public var thresholds = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]
    public var tolerance = 0.01
    /// Measure batch-1 latency of every classifier (timings table only).
    public var latency = true
    /// Also fine-tune the whole network (the baseline's point on the curve).
    public var baseline = true
    public var seeds = [1]

    public init() {}

    public static var keyReasons: [String: String] {
        sectionKeyReasons(own: [
            "thresholds": "confidence thresholds from permissive to strict: spans the curve from the first exit to the full network",
            "tolerance": "1 point: \"equal accuracy\" as in the paper's latency comparison",
            "latency": "measure batch-1 latency (21 timed runs per classifier, timings table only)",
            "baseline": "include the whole-network fine-tuned model's point, as the paper does",
        ])
    }

    public func validate() throws {
        try data.validate(prefix: "data.")
        try train.validate(prefix: "train.")
        try validateSeeds(seeds)
        guard !thresholds.isEmpty, thresholds.allSatisfy({ $0 >= 0 }) else {
            throw SpecConstraintViolation(key: "thresholds", "must be a non-empty list of values >= 0",
                                          hint: "write thresholds: [0.5, 0.9, 0.99]")
        }
        guard tolerance >= 0 else { throw SpecConstraintViolation(key: "tolerance", "must be at least 0", hint: "use a fraction such as 0.01") }
    }
}

enum LatencyAccuracy {
    static let experiment = Experiment<LatencyAccuracyConfig>(
        kind: "latency-accuracy",
        summary: "accuracy against FLOPs over exit thresholds: global, fine-tuned and personalised exits",
        tables: [
            TableSchema("curve", columns: ["seed", "user", "method", "threshold", "accuracy", "mean_flops", "flops_fraction",
                                           "exited_early"]),
            TableSchema("users", columns: ["seed", "user", "global_full_accuracy", "speedup_global_exits",
                                           "speedup_personalised_exits", "fine_tuned_accuracy"]),
            Summary.schema,
        ],
        units: { point in
            let c = point.config
            return try UserRuns.units(c.data, seeds: c.seeds) { seed, user in
                try [UserRuns.exits(c.data, c.train, seed: seed, user: user, timed: c.latency)]
                    + (c.baseline ? [UserRuns.wholeNetwork(c.data, c.train, seed: seed, user: user)] : [])
            }
        },
        rows: { point, units in
            let c = point.config
            var result = PointResult()
            var summary = Summary()
            let perUser = c.baseline ? 2 : 1
            for (i, (seed, user)) in try UserRuns.each(c.data, seeds: c.seeds).enumerated() {
                let r = try units[perUser * i].decode(ExitsRecord.self)
                let unitTimings = units[perUser * i].timings
                result.timings += unitTimings.filter { (c.latency || !$0.phase.hasPrefix("latency.")) && !$0.phase.hasPrefix("latency.policy.") }
                let full = r.costs.fullNetworkFLOPs
                var globalFull = Double.nan
                var speedUps: [String: Double] = [:]
                for (method, outputs) in [("global", r.global), ("personalised", r.personalised)] {
                    let scores = outputs.scores
                    let fullAccuracy = ExitPolicy.fullNetwork.outcome(on: scores, costs: r.costs).accuracy
                    if method == "global" {
                        globalFull = fullAccuracy
                        result.append([.int(seed), .int(user), "global-full", "none", .double(fullAccuracy),
                                       .double(Double(full)), 1.0, 0.0], to: "curve")
                        summary.add("accuracy.global-full", fullAccuracy)
                    }
                    var best = Double(full)
                    var bestThreshold: Double?
                    for t in c.thresholds {
                        let policy = ExitPolicy.earlyExit(thresholds: r.exitNames.map { _ in Float(t) })
                        let outcome = policy.outcome(on: scores, costs: r.costs)
                        let early = Double(outcome.taken.filter { $0 < r.costs.headCount }.count) / Double(max(1, outcome.taken.count))
                        result.append([.int(seed), .int(user), .string("\(method)-exits"), .double(t), .double(outcome.accuracy),
                                       .double(outcome.meanFLOPs), .double(outcome.meanFLOPs / Double(full)), .double(early)], to: "curve")
                        summary.add("accuracy.\(method)-exits.t=\(Cell.double(t).text)", outcome.accuracy)
                        summary.add("flops_fraction.\(method)-exits.t=\(Cell.double(t).text)", outcome.meanFLOPs / Double(full))
                        if outcome.accuracy >= globalFull - c.tolerance, outcome.meanFLOPs < best {
                            best = outcome.meanFLOPs
                            bestThreshold = t
                        }
                    }
                    speedUps[method] = Double(full) / best
                    // The measured batch-1 latency of the personalised policy at that operating point
                    // (the cheapest threshold of equal accuracy), beside the full network's.
                    if method == "personalised", c.latency, let t = bestThreshold,
                       let measured = unitTimings.first(where: { $0.phase == "latency.policy.personalised-exits.t=\(Cell.double(t).text)" }),
                       let fullNetwork = unitTimings.first(where: { $0.phase == "latency.policy.global-full" }) {
                        result.timings.append(.init(phase: "latency.policy.global-full", seconds: fullNetwork.seconds))
                        result.timings.append(.init(phase: "latency.policy.personalised-exits", seconds: measured.seconds))
                    }
                }
                var fineTuned = Double.nan
                if c.baseline {
                    let tuned = try units[perUser * i + 1].decode(WholeNetworkRecord.self)
                    result.timings += units[perUser * i + 1].timings.map { .init(phase: "fine-tune", seconds: $0.seconds) }
                    fineTuned = tuned.accuracy
                    result.append([.int(seed), .int(user), "fine-tuned-full", "none", .double(fineTuned),
                                   .double(Double(tuned.fullNetworkFLOPs)), 1.0, 0.0], to: "curve")
                    summary.add("accuracy.fine-tuned-full", fineTuned)
                }
                result.append([.int(seed), .int(user), .double(globalFull), .double(speedUps["global"]!),
                               .double(speedUps["personalised"]!), .double(fineTuned)], to: "users")
                summary.add("speedup_at_equal_accuracy.global-exits", speedUps["global"]!)
                summary.add("speedup_at_equal_accuracy.personalised-exits", speedUps["personalised"]!)
            }
            for row in summary.rows() { result.append(row, to: "summary") }
            return result
        })
}
