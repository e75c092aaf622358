import Experiments
import Personalisation

/// Label availability, from label-availability's `exits` table (one row per labelled
/// fraction x loss mix x seed x user x classifier): personalised accuracy per exit for each
/// labelled fraction and loss mix. Any other axis columns make separate sections.
public struct LabelAvailabilitySection: Sendable {
    public struct Cell: Sendable {
        public var labelled: String
        public var losses: String
        /// Personalised accuracy in points, per classifier in network order.
        public var accuracy: [Estimate]
        /// Personalised - global accuracy of the same exit, points.
        public var gain: [Estimate]
        /// The mix this cell repeats exactly (same per-user accuracies at every exit), if any.
        public var repeats: String?
        /// Whether personalisation changed nothing: every user's personalised accuracy is
        /// the global exit's, at every exit (e.g. `sup` with no labels: nothing to learn from).
        public var unchanged: Bool
    }

    public var group: Group
    public var classifiers: [String]
    public var labelled: [String]
    public var mixes: [String]
    public var cells: [Cell]

    static let labelledAxis = "data.labelled", lossesAxis = "train.losses"

    public func entry(_ labelled: String, _ losses: String) -> Cell? {
        cells.first { $0.labelled == labelled && $0.losses == losses }
    }

    /// The mix with the highest mean accuracy at the deepest exit, per labelled fraction
    /// (the first of equals: a repeat never wins over what it repeats).
    public var bestAtDeepestExit: [(labelled: String, losses: String, accuracy: Estimate)] {
        labelled.compactMap { l in
            let candidates = mixes.compactMap { entry(l, $0) }.filter { !$0.accuracy.isEmpty }
            guard var best = candidates.first else { return nil }
            for c in candidates.dropFirst() where c.accuracy.last!.mean > best.accuracy.last!.mean { best = c }
            return (l, best.losses, best.accuracy.last!)
        }
    }

    /// Per labelled fraction, the mix `train.losses: auto` states for it
    /// (`PersonalisationConfig.chosenLossMix`) beside the best measured at the deepest exit;
    /// `agrees` when the chosen mix is the best or gives the same deepest-exit accuracy.
    public var statedChoice: [(labelled: String, chosen: String, chosenAccuracy: Estimate?, best: String, bestAccuracy: Estimate, agrees: Bool)] {
        bestAtDeepestExit.compactMap { best in
            guard let fraction = Double(best.labelled) else { return nil }
            let chosen = PersonalisationConfig.chosenLossMix(labelledFraction: fraction)
            let accuracy = entry(best.labelled, chosen)?.accuracy.last
            return (best.labelled, chosen, accuracy, best.losses, best.accuracy, accuracy?.mean == best.accuracy.mean)
        }
    }

    public static func analyse(exits: ResultTable) throws -> [LabelAvailabilitySection] {
        for axis in [labelledAxis, lossesAxis] where !exits.axes(before: "seed").contains(axis) {
            throw RunError("\(exits.name): no `\(axis)` axis column", hint: "run the label-availability spec, which sweeps it")
        }
        let classifier = try exits.index("classifier"), personalised = try exits.index("personalised_accuracy")
        let global = try exits.index("global_accuracy")
        var sectionOrder: [Group] = [], points: [Group: [Group]] = [:], pointRows: [Group: [Int]] = [:]
        for (point, rows) in exits.grouped(before: "seed") {
            let section = point.dropping([labelledAxis, lossesAxis])
            if points[section] == nil { sectionOrder.append(section) }
            points[section, default: []].append(point)
            pointRows[point] = rows
        }
        return try sectionOrder.map { section in
            var classifiers: [String] = [], labelled: [String] = [], mixes: [String] = []
            var cells: [Cell] = []
            var perUser: [String: [[Double]]] = [:]  // "labelled|losses" -> per classifier, per-user accuracies
            for point in points[section]! {
                let l = point.value(of: labelledAxis)!, m = point.value(of: lossesAxis)!
                if !labelled.contains(l) { labelled.append(l) }
                if !mixes.contains(m) { mixes.append(m) }
                var rowsByClassifier: [String: [Int]] = [:]
                for r in pointRows[point]! where exits.rows[r][classifier] != "final" {
                    let name = exits.rows[r][classifier]
                    if !classifiers.contains(name) { classifiers.append(name) }
                    rowsByClassifier[name, default: []].append(r)
                }
                let accuracies = try classifiers.map { c in try (rowsByClassifier[c] ?? []).map { try exits.number($0, personalised) * 100 } }
                let gains = try classifiers.map { c in
                    try (rowsByClassifier[c] ?? []).map { try (exits.number($0, personalised) - exits.number($0, global)) * 100 }
                }
                let repeats = mixes.first { $0 != m && perUser["\(l)|\($0)"] == accuracies }
                perUser["\(l)|\(m)"] = accuracies
                cells.append(Cell(labelled: l, losses: m, accuracy: accuracies.map(Estimate.init),
                                  gain: gains.map(Estimate.init), repeats: repeats,
                                  unchanged: gains.allSatisfy { $0.allSatisfy { $0 == 0 } }))
            }
            return LabelAvailabilitySection(group: section, classifiers: classifiers, labelled: labelled, mixes: mixes, cells: cells)
        }
    }
}
