/// C1, from global-vs-personal: the personalised model against the global model on each
/// user's test set. Read from the `users` table (one row per seed x user: the policy's and
/// the best exit's gain) and the `exits` table (one row per seed x user x classifier).
/// Values are in percentage points.
public struct AccuracyCell: Sendable {
    public struct Exit: Sendable {
        public var name: String
        public var global: Estimate
        public var personalised: Estimate
        public var gain: Estimate
        /// Per-user gains, in the table's row order (for the figure).
        public var gains: [Double]
    }

    public var group: Group
    public var globalFinal: Estimate
    public var policyAccuracy: Estimate
    public var policyGain: Estimate
    public var policyGains: [Double]
    public var bestExitGain: Estimate
    public var policyFlopsFraction: Estimate
    /// Every personalised exit, in network order (`final` excluded: personalisation does
    /// not touch it).
    public var exits: [Exit]

    public static let paper = "up to +15.9% accuracy"
    public static let target = 15.9
    public static let rule = """
        reproduced when the 95% CI of the mean policy gain (personalised policy - global model, \
        same user's test set) lies above 0 and the largest per-user policy gain reaches 15.9 points; \
        partly when only one of the two holds, or when the policy meets neither but a personalised exit \
        meets both against the same global exit; otherwise not reproduced
        """

    /// One cell per group of the tables' axis columns.
    public static func analyse(users: ResultTable, exits: ResultTable) throws -> [AccuracyCell] {
        let globalFinal = try users.index("global_final_accuracy"), policyAccuracy = try users.index("policy_accuracy")
        let policyGain = try users.index("policy_gain"), bestGain = try users.index("best_exit_gain")
        let policyFlops = try users.index("policy_mean_flops"), fullFlops = try users.index("full_flops")
        let classifier = try exits.index("classifier"), globalAccuracy = try exits.index("global_accuracy")
        let personalisedAccuracy = try exits.index("personalised_accuracy"), gain = try exits.index("gain")
        let exitGroups = Dictionary(exits.grouped(before: "seed").map { ($0.group, $0.rows) }, uniquingKeysWith: { a, _ in a })
        return try users.grouped(before: "seed").map { group, rows in
            func column(_ i: Int, _ scale: Double = 100) throws -> [Double] { try rows.map { try users.number($0, i) * scale } }
            let fractions = try rows.map { try users.number($0, policyFlops) / users.number($0, fullFlops) * 100 }
            var names: [String] = []
            var perExit: [String: [Int]] = [:]
            for r in exitGroups[group] ?? [] where exits.rows[r][classifier] != "final" {
                let name = exits.rows[r][classifier]
                if perExit[name] == nil { names.append(name) }
                perExit[name, default: []].append(r)
            }
            let exitCells = try names.map { name -> Exit in
                let rs = perExit[name]!
                func values(_ i: Int) throws -> [Double] { try rs.map { try exits.number($0, i) * 100 } }
                let gains = try values(gain)
                return Exit(name: name, global: Estimate(try values(globalAccuracy)),
                            personalised: Estimate(try values(personalisedAccuracy)), gain: Estimate(gains), gains: gains)
            }
            let gains = try column(policyGain)
            return AccuracyCell(group: group, globalFinal: Estimate(try column(globalFinal)),
                                policyAccuracy: Estimate(try column(policyAccuracy)), policyGain: Estimate(gains),
                                policyGains: gains, bestExitGain: Estimate(try column(bestGain)),
                                policyFlopsFraction: Estimate(fractions), exits: exitCells)
        }
    }

    /// The rule applied to this cell.
    public var verdict: ClaimVerdict {
        let above = policyGain.decided && policyGain.lower > 0
        let reaches = policyGain.maximum >= Self.target - comparisonSlack
        let exitMeetingBoth = exits.first { $0.gain.decided && $0.gain.lower > 0 && $0.gain.maximum >= Self.target - comparisonSlack }
        let verdict: Verdict
        if !policyGain.decided { verdict = .undecided }
        else if above && reaches { verdict = .reproduced }
        else if above || reaches || exitMeetingBoth != nil { verdict = .partly }
        else { verdict = .notReproduced }
        var reason = [
            above ? "the policy's mean gain CI lies above 0 (lower bound \(format(policyGain.lower, 2)) pts)"
                : "the policy's mean gain CI does not lie above 0 (lower bound \(format(policyGain.lower, 2)) pts)",
            reaches ? "its largest per-user gain \(format(policyGain.maximum, 1, signed: true)) pts reaches 15.9"
                : "its largest per-user gain \(format(policyGain.maximum, 1, signed: true)) pts is below 15.9",
        ]
        if !(above && reaches), let exit = exitMeetingBoth {
            reason.append("\(exit.name) meets both (mean \(format(exit.gain.mean, 2, signed: true)), largest \(format(exit.gain.maximum, 1, signed: true)) pts)")
        }
        let best = exits.max { $0.gain.mean < $1.gain.mean }
        var ours = "policy gain \(policyGain.text(2, unit: " pts", signed: true)), largest per user \(format(policyGain.maximum, 1, signed: true)) pts"
        if let best {
            ours += "; best exit \(best.name) \(best.gain.text(2, unit: " pts", signed: true)), largest \(format(best.gain.maximum, 1, signed: true)) pts"
        }
        return ClaimVerdict(claim: "C1", group: group, paper: Self.paper, ours: ours, verdict: verdict,
                            rule: Self.rule, reason: reason.joined(separator: "; "))
    }
}
