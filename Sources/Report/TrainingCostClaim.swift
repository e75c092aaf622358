import Experiments

/// C2, from training-cost: whole-network fine-tuning against exit personalisation on the
/// same data and epochs. The `methods` table has one row per seed x user x method
/// (`exits`, `whole-network`); wall time comes from the timings phases of the same names.
public struct TrainingCostCell: Sendable {
    public struct Method: Sendable {
        public var name: String
        /// Accuracy in points.
        public var accuracy: Estimate
        /// Total training FLOPs per user (frozen passes included), in GFLOPs.
        public var gigaflops: Estimate
        /// Wall seconds per user (nil without a timings table).
        public var seconds: Estimate?
        /// Every `*_bytes` column (accounted memory), in MB (10^6 bytes), by column name.
        public var memory: [(column: String, megabytes: Estimate)]
    }

    public var group: Group
    public var exits: Method
    public var wholeNetwork: Method
    /// Whole network / exits, per user.
    public var flopsRatio: Estimate
    public var wallRatio: Estimate?
    /// Exits - whole network, points, per user.
    public var accuracyDifference: Estimate
    /// Users whose fine-tuning stopped on a non-finite loss.
    public var diverged: Int

    public static let paper = "training cost down up to 2.2x"
    public static let target = 2.2
    public static let rule = """
        reproduced when the 95% CIs of the cost ratio whole network / exits, in FLOPs and in measured \
        wall time, both lie at or above 2.2x and the exits' mean accuracy is within 1 point of the \
        fine-tuned network's or better; partly when only some of these hold but at least one ratio does; \
        otherwise not reproduced
        """

    public static func analyse(methods: ResultTable, timings: ResultTable?) throws -> [TrainingCostCell] {
        let seed = try methods.index("seed"), user = try methods.index("user"), method = try methods.index("method")
        let accuracy = try methods.index("accuracy"), flops = try methods.index("total_flops")
        let divergedColumn = methods.header.firstIndex(of: "diverged")
        let memoryColumns = methods.header.indices.filter { methods.header[$0].hasSuffix("_bytes") }
        let clock = timings.map(Timings.init)
        return try methods.grouped(before: "seed").map { group, rows in
            func runs(_ name: String) -> [Int] { rows.filter { methods.rows[$0][method] == name } }
            let exitRows = runs("exits"), wholeRows = runs("whole-network")
            guard !exitRows.isEmpty, !wholeRows.isEmpty else {
                throw RunError("\(methods.name): \(group.label) lacks `exits` or `whole-network` rows",
                               hint: "rerun the experiment")
            }
            var wholeByRun: [[String]: Int] = [:]
            for r in wholeRows { wholeByRun[[methods.rows[r][seed], methods.rows[r][user]]] = r }
            var ratios: [Double] = [], differences: [Double] = []
            for e in exitRows {
                guard let w = wholeByRun[[methods.rows[e][seed], methods.rows[e][user]]] else {
                    throw RunError("\(methods.name):\(e + 2): no `whole-network` row for seed \(methods.rows[e][seed]) user \(methods.rows[e][user])",
                                   hint: "rerun the experiment")
                }
                ratios.append(try methods.number(w, flops) / methods.number(e, flops))
                differences.append(try (methods.number(e, accuracy) - methods.number(w, accuracy)) * 100)
            }
            func summary(_ name: String, _ rs: [Int]) throws -> Method {
                try Method(name: name, accuracy: Estimate(rs.map { try methods.number($0, accuracy) * 100 }),
                           gigaflops: Estimate(rs.map { try methods.number($0, flops) / 1e9 }),
                           seconds: try clock.flatMap { try nonEmpty($0.seconds(name, in: group)) },
                           memory: memoryColumns.map { c in
                               (methods.header[c], Estimate(try rs.map { try methods.number($0, c) / 1e6 }))
                           })
            }
            let diverged = try divergedColumn.map { c in try wholeRows.filter { try methods.number($0, c) != 0 }.count } ?? 0
            return TrainingCostCell(group: group, exits: try summary("exits", exitRows),
                                    wholeNetwork: try summary("whole-network", wholeRows), flopsRatio: Estimate(ratios),
                                    wallRatio: try clock.flatMap { try nonEmpty($0.ratios("whole-network", over: "exits", in: group)) },
                                    accuracyDifference: Estimate(differences), diverged: diverged)
        }
    }

    public var verdict: ClaimVerdict {
        func holds(_ e: Estimate?) -> Bool { e.map { $0.decided && $0.lower >= Self.target - comparisonSlack } ?? false }
        let flopsOK = holds(flopsRatio), wallOK = holds(wallRatio)
        let accuracyOK = accuracyDifference.mean >= -1 - comparisonSlack
        let verdict: Verdict
        if !flopsRatio.decided { verdict = .undecided }
        else if flopsOK && wallOK && accuracyOK { verdict = .reproduced }
        else if flopsOK || wallOK { verdict = .partly }
        else { verdict = .notReproduced }
        var reason: [String] = [
            "FLOPs ratio CI lower bound \(format(flopsRatio.lower, 2))x \(flopsOK ? "is at or above" : "is below") 2.2x",
        ]
        if let wallRatio {
            reason.append("wall-time ratio CI lower bound \(format(wallRatio.lower, 2))x \(wallOK ? "is at or above" : "is below") 2.2x")
        } else {
            reason.append("no timings of the two methods, so no measured wall time")
        }
        reason.append(accuracyOK
            ? "the exits' accuracy is within 1 point of the fine-tuned network's or better (exits - whole network \(format(accuracyDifference.mean, 2, signed: true)) pts)"
            : "the exits' accuracy is NOT within 1 point of the fine-tuned network's: exits - whole network \(format(accuracyDifference.mean, 2, signed: true)) pts")
        var ours = "FLOPs \(flopsRatio.text(2, unit: "x"))"
        if let wallRatio { ours += "; wall time \(wallRatio.text(2, unit: "x"))" }
        ours += "; accuracy exits \(exits.accuracy.text(2, unit: "%")), whole network \(wholeNetwork.accuracy.text(2, unit: "%"))"
        if let state = exits.memory.first(where: { $0.column == "state_bytes" }),
           let whole = wholeNetwork.memory.first(where: { $0.column == "state_bytes" }) {
            ours += "; accounted memory exits \(format(state.megabytes.mean, 1)) MB, whole network \(format(whole.megabytes.mean, 1)) MB"
        }
        return ClaimVerdict(claim: "C2", group: group, paper: Self.paper, ours: ours, verdict: verdict,
                            rule: Self.rule, reason: reason.joined(separator: "; "))
    }
}
