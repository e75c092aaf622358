import Models

/// The validation accuracy an early-exit policy must reach.
///
/// - `withinFinal(tolerance)`: at least the final classifier's validation accuracy minus
///   `tolerance` (a fraction: 0.01 is one percentage point), on the profile's basis.
/// - `absolute(accuracy)`: at least `accuracy` (a fraction).
public enum AccuracyTarget: Equatable, Hashable, Sendable, Codable {
    case withinFinal(tolerance: Double)
    case absolute(Double)

    /// One point below the final classifier: the paper compares latency at equal accuracy,
    /// and one point is about the resolution of a 100-sample validation share.
    public static let `default` = AccuracyTarget.withinFinal(tolerance: 0.01)

    /// The accuracy required, given the final classifier's.
    public func required(finalAccuracy: Double) -> Double {
        switch self {
        case let .withinFinal(tolerance): return finalAccuracy - tolerance
        case let .absolute(a): return a
        }
    }

    func check() throws {
        switch self {
        case let .withinFinal(t) where !(t >= 0 && t <= 1), let .absolute(t) where !(t >= 0 && t <= 1):
            throw OrchestratorError(subject: "accuracy target", message: "\(self) is outside [0, 1]",
                                    hint: "give accuracies and tolerances as fractions (0.01 is one point)")
        default: break
        }
    }
}

/// Thresholds chosen by `ThresholdSearch` and how the resulting policy does on validation.
public struct ThresholdSearchResult: Equatable, Sendable {
    /// One per head; nil for exits not selected, and for selected exits where no threshold
    /// meets the target (the exit is then dropped from the policy, so its head costs nothing).
    public var thresholds: [Float?]
    public var outcome: PolicyOutcome
    /// The accuracy the target asked for.
    public var required: Double
    /// Whether the policy's validation accuracy reaches `required` (always, for
    /// `withinFinal`, since sending every sample to the final classifier meets it).
    public var met: Bool
}

/// Per-user threshold choice on the validation share (from the profiler's stored outputs).
///
/// Greedy from the earliest selected exit, deterministic: with the thresholds of earlier
/// exits fixed and every later exit off, sweep the candidate thresholds of exit e (the
/// distinct top-1 probabilities at e of the validation samples that reach e, ascending) and
/// take the lowest whose policy accuracy meets the target; when none does, exit e is dropped.
/// The lowest admissible threshold sends the most samples out at e, so the earliest exits
/// take all they can within the accuracy budget and later exits see what is left. Every
/// step's check includes the decisions fixed before it, so the final policy meets the target
/// whenever the all-final policy does. Cost: one sort per exit, O(n log n) for n samples.
public enum ThresholdSearch {
    public static func search(scores: ValidationScores, network: MultiExitModel, selected: [Bool],
                              target: AccuracyTarget = .default) throws -> ThresholdSearchResult {
        try search(scores: scores, costs: ClassifierCosts(network), selected: selected, target: target)
    }

    public static func search(scores: ValidationScores, costs: ClassifierCosts, selected: [Bool],
                              target: AccuracyTarget = .default) throws -> ThresholdSearchResult {
        try target.check()
        let h = costs.headCount
        guard selected.count == h, scores.classifierCount == h + 1 else {
            throw OrchestratorError(subject: "selected", message: "\(selected.count) flags and \(scores.classifierCount) classifiers' scores for \(h) exits",
                                    hint: "pass the selection and the profile made for these heads")
        }
        let n = scores.sampleCount, scored = scores.scoredCount
        let final = h
        let finalAccuracy = scored == 0 ? 0 : Double(scores.correct(classifier: final)) / Double(scored)
        let required = target.required(finalAccuracy: finalAccuracy)
        // Correct counts are compared with required * scored, less a hair for rounding.
        let neededCorrect = required * Double(scored) - 1e-9
        func isCorrect(_ c: Int, _ i: Int) -> Int {
            guard let t = scores.targets[i] else { return 0 }
            return scores.predictions[c][i] == t ? 1 : 0
        }

        var thresholds = [Float?](repeating: nil, count: h)
        var reaching = Array(0..<n)           // samples not taken by an earlier exit
        var correctBefore = 0                 // correct among samples taken by earlier exits
        for e in 0..<h where selected[e] {
            // Samples reaching e, by confidence at e ascending (index breaks ties: deterministic).
            let order = reaching.sorted { (scores.confidences[e][$0], $0) < (scores.confidences[e][$1], $1) }
            let m = order.count
            // leaveCorrect[j]: correct if samples order[j...] leave at e; stayCorrect[j]: if order[..<j] go to final.
            var leaveCorrect = [Int](repeating: 0, count: m + 1), stayCorrect = [Int](repeating: 0, count: m + 1)
            for j in stride(from: m - 1, through: 0, by: -1) { leaveCorrect[j] = leaveCorrect[j + 1] + isCorrect(e, order[j]) }
            for j in 0..<m { stayCorrect[j + 1] = stayCorrect[j] + isCorrect(final, order[j]) }
            var chosen: (threshold: Float, start: Int)?
            var j = 0
            while j < m {
                let t = scores.confidences[e][order[j]]
                if Double(correctBefore + leaveCorrect[j] + stayCorrect[j]) >= neededCorrect {
                    chosen = (t, j); break
                }
                while j < m && scores.confidences[e][order[j]] == t { j += 1 }  // next distinct value
            }
            guard let chosen else { continue }
            thresholds[e] = chosen.threshold
            for i in order[chosen.start...] { correctBefore += isCorrect(e, i) }
            reaching = Array(order[..<chosen.start]).sorted()
        }
        let outcome = ExitPolicy.earlyExit(thresholds: thresholds).outcome(on: scores, costs: costs)
        return ThresholdSearchResult(thresholds: thresholds, outcome: outcome, required: required,
                                     met: Double(outcome.correct) >= neededCorrect)
    }
}
