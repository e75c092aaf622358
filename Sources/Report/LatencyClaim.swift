import Experiments

/// C3, from latency-accuracy: the full network against the personalised early-exit policy
/// at the operating point whose test accuracy is within the spec's tolerance of the global
/// model's (the cheapest threshold that qualifies; the full network when none does). The
/// `users` table gives the FLOPs ratio per user, the `curve` table the operating point's
/// accuracy and the figure's curves, the timings the measured batch-1 latencies.
public struct LatencyCell: Sendable {
    public struct CurvePoint: Sendable {
        public var threshold: String
        /// Accuracy in points, FLOPs as a percentage of the full network.
        public var accuracy: Estimate
        public var flopsPercent: Estimate
    }

    public var group: Group
    public var globalFullAccuracy: Estimate
    public var fineTunedAccuracy: Estimate?
    /// Accuracy of the personalised policy at each user's operating point, points.
    public var operatingAccuracy: Estimate
    public var flopsSpeedup: Estimate
    public var globalExitsFlopsSpeedup: Estimate
    /// Full network's measured batch-1 ms over the policy's at its operating point, per user,
    /// when the timings have the policy's phase (`latency.policy.personalised-exits`).
    public var measuredSpeedup: Estimate?
    /// Measured batch-1 milliseconds per timed classifier (`global.block2`, `personalised.final`, ...).
    public var classifierMilliseconds: [(name: String, ms: Estimate)]
    /// Threshold curves per method (`global-exits`, `personalised-exits`), thresholds in table order.
    public var curves: [(method: String, points: [CurvePoint])]
    /// The full networks' points (`global-full`, `fine-tuned-full`).
    public var fullNetworks: [(method: String, point: CurvePoint)]

    public static let paper = "latency down 2.2-3.2x on average at the same accuracy"
    public static let lowTarget = 2.2
    /// The timings phase holding the policy's batch-1 seconds at the user's operating point.
    public static let policyPhase = "latency.policy.personalised-exits"
    /// The full network's batch-1 seconds timed the same way as the policy, when recorded;
    /// otherwise the per-classifier timing of the global final classifier.
    public static let fullPhases = ["latency.policy.global-full", "latency.global.final"]
    public static let rule = """
        the full network's measured batch-1 latency over the personalised early-exit policy's, at the \
        operating point whose test accuracy is within the tolerance (1 point) of the global model's; \
        reproduced when the ratio's 95% CI overlaps or exceeds 2.2-3.2x (upper bound >= 2.2) and lies above \
        1x (refinement: without it a CI too wide to show any speed-up would count); partly when the CI lies \
        above 1x but below 2.2x, or when only the FLOPs ratio exists (no measured policy latency) and it \
        would reproduce; otherwise not reproduced
        """

    public static func analyse(users: ResultTable, curve: ResultTable, timings: ResultTable?) throws -> [LatencyCell] {
        let globalFull = try users.index("global_full_accuracy"), speedup = try users.index("speedup_personalised_exits")
        let globalSpeedup = try users.index("speedup_global_exits")
        let fineTuned = users.header.firstIndex(of: "fine_tuned_accuracy")
        let seed = try curve.index("seed"), user = try curve.index("user"), method = try curve.index("method")
        let threshold = try curve.index("threshold"), accuracy = try curve.index("accuracy")
        let meanFlops = try curve.index("mean_flops"), fraction = try curve.index("flops_fraction")
        let userSeed = try users.index("seed"), userIndex = try users.index("user")
        let curveGroups = Dictionary(curve.grouped(before: "seed").map { ($0.group, $0.rows) }, uniquingKeysWith: { a, _ in a })
        let clock = timings.map(Timings.init)
        return try users.grouped(before: "seed").map { group, rows in
            let curveRows = curveGroups[group] ?? []
            // Each user's operating point: the personalised threshold whose mean FLOPs is the
            // full network's over the user's speed-up (the full network itself at 1x).
            var operating: [Double] = []
            for r in rows {
                let s = users.rows[r][userSeed], u = users.rows[r][userIndex]
                let mine = curveRows.filter { curve.rows[$0][seed] == s && curve.rows[$0][user] == u }
                guard let full = mine.first(where: { curve.rows[$0][method] == "global-full" }) else {
                    throw RunError("\(curve.name): no `global-full` row for seed \(s) user \(u)", hint: "rerun the experiment")
                }
                let target = try curve.number(full, meanFlops) / users.number(r, speedup)
                let candidates = try mine.filter { curve.rows[$0][method] == "personalised-exits" }
                    .map { (row: $0, gap: abs(try curve.number($0, meanFlops) - target)) }
                if let best = candidates.min(by: { $0.gap < $1.gap }), best.gap <= 1e-6 * target + 1 {
                    operating.append(try curve.number(best.row, accuracy) * 100)
                } else {
                    operating.append(try curve.number(full, accuracy) * 100)  // no threshold qualified: 1x
                }
            }
            func points(_ name: String) throws -> [CurvePoint] {
                var order: [String] = [], byThreshold: [String: [Int]] = [:]
                for r in curveRows where curve.rows[r][method] == name {
                    let t = curve.rows[r][threshold]
                    if byThreshold[t] == nil { order.append(t) }
                    byThreshold[t, default: []].append(r)
                }
                return try order.map { t in
                    let rs = byThreshold[t]!
                    return CurvePoint(threshold: t, accuracy: Estimate(try rs.map { try curve.number($0, accuracy) * 100 }),
                                      flopsPercent: Estimate(try rs.map { try curve.number($0, fraction) * 100 }))
                }
            }
            var methods: [String] = []
            for r in curveRows where !methods.contains(curve.rows[r][method]) { methods.append(curve.rows[r][method]) }
            let curves = try methods.filter { $0.hasSuffix("-exits") }.map { ($0, try points($0)) }
            let fulls = try methods.filter { $0.hasSuffix("-full") }.compactMap { m in try points(m).first.map { (m, $0) } }
            var milliseconds: [(String, Estimate)] = []
            var measured: Estimate?
            if let clock {
                for phase in clock.phases where phase.hasPrefix("latency.") {
                    if let ms = nonEmpty(try clock.seconds(phase, in: group).map { $0 * 1000 }) {
                        milliseconds.append((String(phase.dropFirst("latency.".count)), ms))
                    }
                }
                if clock.phases.contains(Self.policyPhase), let full = Self.fullPhases.first(where: clock.phases.contains) {
                    measured = nonEmpty(try clock.ratios(full, over: Self.policyPhase, in: group))
                }
            }
            let fineTunedValues = try fineTuned.map { c in try rows.map { try users.number($0, c) * 100 }.filter { !$0.isNaN } }
            return LatencyCell(group: group, globalFullAccuracy: Estimate(try rows.map { try users.number($0, globalFull) * 100 }),
                               fineTunedAccuracy: fineTunedValues.flatMap(nonEmpty),
                               operatingAccuracy: Estimate(operating),
                               flopsSpeedup: Estimate(try rows.map { try users.number($0, speedup) }),
                               globalExitsFlopsSpeedup: Estimate(try rows.map { try users.number($0, globalSpeedup) }),
                               measuredSpeedup: measured, classifierMilliseconds: milliseconds,
                               curves: curves, fullNetworks: fulls)
        }
    }

    public var verdict: ClaimVerdict {
        let basis = measuredSpeedup ?? flopsSpeedup
        let reaches = basis.decided && basis.upper >= Self.lowTarget - comparisonSlack
        let faster = basis.decided && basis.lower > 1
        let verdict: Verdict
        if !basis.decided { verdict = .undecided }
        else if reaches && faster && measuredSpeedup != nil { verdict = .reproduced }
        else if faster { verdict = .partly }
        else { verdict = .notReproduced }
        var reason: [String] = []
        if let measuredSpeedup {
            reason.append("measured latency ratio CI [\(format(measuredSpeedup.lower, 2)), \(format(measuredSpeedup.upper, 2))]x")
        } else {
            reason.append("no measured batch-1 latency of the policy at its operating point in the timings table (phase `\(Self.policyPhase)`), so the verdict rests on the FLOPs ratio and can be at most partly")
            reason.append("FLOPs ratio CI [\(format(flopsSpeedup.lower, 2)), \(format(flopsSpeedup.upper, 2))]x")
        }
        reason.append(!faster ? "it does not lie above 1x" : (reaches ? "it lies above 1x and overlaps or exceeds 2.2-3.2x" : "it lies above 1x but below 2.2x"))
        var ours = measuredSpeedup.map { "measured latency \($0.text(2, unit: "x")); " } ?? "measured policy latency: none; "
        ours += "FLOPs \(flopsSpeedup.text(2, unit: "x")); operating-point accuracy \(operatingAccuracy.text(2, unit: "%")) vs global \(globalFullAccuracy.text(2, unit: "%"))"
        if let full = classifierMilliseconds.first(where: { $0.name == "global.final" }) {
            ours += "; full network \(format(full.ms.mean, 3)) ms"
        }
        return ClaimVerdict(claim: "C3", group: group, paper: Self.paper, ours: ours, verdict: verdict,
                            rule: Self.rule, reason: reason.joined(separator: "; "))
    }
}
