import Experiments

/// C4, from data-growth: the policy's FLOPs fraction as personal data arrive in rounds.
/// The `rounds` table has one row per seed x user x round; the claim's statistic is each
/// user run's least-squares slope of the FLOPs fraction over rounds (points per round),
/// averaged over user runs with its 95% CI (the runs are independent; a user's rounds
/// are not).
public struct BypassCell: Sendable {
    public struct Round: Sendable {
        public var round: Int
        /// Policy FLOPs as a percentage of the full network, and test accuracy, points.
        public var flopsPercent: Estimate
        public var accuracy: Estimate
        public var enabledCount: Estimate
        /// Measured batch-1 ms of the round's policy (timings `latency.round<r>`), if any.
        public var milliseconds: Estimate?
    }

    public var group: Group
    public var slope: Estimate
    public var accuracySlope: Estimate
    public var rounds: [Round]

    public static let paper = "progressively bypass a larger part of the computation as more personalised data become available"
    public static let minimumRounds = 5
    public static let rule = """
        the least-squares slope of the policy's FLOPs fraction over data-growth rounds, per user run, \
        averaged with its 95% CI; reproduced when the CI lies below 0 over at least 5 rounds; partly when \
        it lies below 0 over fewer rounds; otherwise not reproduced
        """

    public static func analyse(rounds table: ResultTable, timings: ResultTable?) throws -> [BypassCell] {
        let seed = try table.index("seed"), user = try table.index("user"), round = try table.index("round")
        let fraction = try table.index("flops_fraction"), accuracy = try table.index("test_accuracy")
        let enabled = try table.index("enabled_count")
        let clock = timings.map(Timings.init)
        return try table.grouped(before: "seed").map { group, rows in
            var runOrder: [[String]] = [], runs: [[String]: [Int]] = [:]
            for r in rows {
                let key = [table.rows[r][seed], table.rows[r][user]]
                if runs[key] == nil { runOrder.append(key) }
                runs[key, default: []].append(r)
            }
            var slopes: [Double] = [], accuracySlopes: [Double] = []
            for key in runOrder {
                let rs = runs[key]!
                let x = try rs.map { try table.number($0, round) }
                if let s = leastSquaresSlope(x: x, y: try rs.map { try table.number($0, fraction) * 100 }) { slopes.append(s) }
                if let s = leastSquaresSlope(x: x, y: try rs.map { try table.number($0, accuracy) * 100 }) { accuracySlopes.append(s) }
            }
            var byRound: [Int: [Int]] = [:]
            for r in rows {
                guard let k = Int(table.rows[r][round]) else {
                    throw RunError("\(table.name):\(r + 2): `round` is `\(table.rows[r][round])`, not a whole number",
                                   hint: "rerun the experiment to rewrite the table")
                }
                byRound[k, default: []].append(r)
            }
            let summaries = try byRound.keys.sorted().map { k -> Round in
                let rs = byRound[k]!
                let ms = try clock.flatMap { try nonEmpty($0.seconds("latency.round\(k)", in: group).map { $0 * 1000 }) }
                return Round(round: k, flopsPercent: Estimate(try rs.map { try table.number($0, fraction) * 100 }),
                             accuracy: Estimate(try rs.map { try table.number($0, accuracy) * 100 }),
                             enabledCount: Estimate(try rs.map { try table.number($0, enabled) }),
                             milliseconds: ms)
            }
            return BypassCell(group: group, slope: Estimate(slopes), accuracySlope: Estimate(accuracySlopes), rounds: summaries)
        }
    }

    public var verdict: ClaimVerdict {
        let below = slope.decided && slope.upper < 0
        let enough = rounds.count >= Self.minimumRounds
        let verdict: Verdict
        if !slope.decided { verdict = .undecided }
        else if below && enough { verdict = .reproduced }
        else if below { verdict = .partly }
        else { verdict = .notReproduced }
        let reason = [
            below ? "the slope's CI lies below 0 (upper bound \(format(slope.upper, 2)) pts per round)"
                : "the slope's CI does not lie below 0 (upper bound \(format(slope.upper, 2)) pts per round)",
            "\(rounds.count) rounds (\(enough ? "at least" : "fewer than") \(Self.minimumRounds))",
        ]
        var ours = "slope of the FLOPs fraction \(slope.text(2, unit: " pts/round", signed: true))"
        if let first = rounds.first, let last = rounds.last {
            ours += "; round \(first.round) \(format(first.flopsPercent.mean, 1))% -> round \(last.round) \(format(last.flopsPercent.mean, 1))% of the full network's FLOPs"
            ours += ", accuracy \(format(first.accuracy.mean, 1))% -> \(format(last.accuracy.mean, 1))%"
        }
        return ClaimVerdict(claim: "C4", group: group, paper: Self.paper, ours: ours, verdict: verdict,
                            rule: Self.rule, reason: reason.joined(separator: "; "))
    }
}
