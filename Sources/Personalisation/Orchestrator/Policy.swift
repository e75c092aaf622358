import Models

/// When a sample may leave the network.
///
/// - `earlyExit(thresholds)`: one entry per head; nil means the exit is disabled (its head is
///   never run). A sample leaves at the first enabled exit whose top-1 softmax probability is
///   at least that exit's threshold, else at the final classifier. A threshold of 0 lets every
///   sample leave at the first enabled exit; one above 1 lets none leave there (its head still
///   runs and costs FLOPs).
/// - `fixedExit(e)`: the network truncated at exit e: every sample leaves there, and no
///   other head runs.
/// - `fullNetwork`: no exit runs; every sample takes the final classifier.
public enum ExitPolicy: Equatable, Hashable, Sendable, Codable {
    case earlyExit(thresholds: [Float?])
    case fixedExit(Int)
    case fullNetwork

    /// Checks the policy against a network with `headCount` heads.
    public func check(headCount: Int) throws {
        switch self {
        case let .earlyExit(thresholds):
            guard thresholds.count == headCount else {
                throw OrchestratorError(subject: "thresholds", message: "\(thresholds.count) thresholds for \(headCount) exits",
                                        hint: "give one threshold per head (nil to disable that exit)")
            }
            if let bad = thresholds.compactMap({ $0 }).first(where: { !($0 >= 0) }) {
                throw OrchestratorError(subject: "thresholds", message: "threshold \(bad) is negative or not a number",
                                        hint: "use thresholds >= 0 (0: every sample leaves; above 1: none does)")
            }
        case let .fixedExit(e):
            guard e >= 0 && e < headCount else {
                throw OrchestratorError(subject: "fixedExit", message: "exit \(e) of \(headCount)",
                                        hint: "pick an exit index in 0..<\(headCount)")
            }
        case .fullNetwork:
            break
        }
    }

    /// Whether head e runs at all under this policy (for samples that reach it).
    public func runsHead(_ e: Int) -> Bool {
        switch self {
        case let .earlyExit(thresholds): return thresholds[e] != nil
        case let .fixedExit(f): return e == f
        case .fullNetwork: return false
        }
    }

    /// Whether a sample with top-1 probability `confidence` at head e leaves there (false
    /// for a head that does not run).
    public func leaves(atHead e: Int, confidence: Float) -> Bool {
        switch self {
        case let .earlyExit(thresholds):
            guard let t = thresholds[e] else { return false }
            return confidence >= t
        case let .fixedExit(f): return e == f
        case .fullNetwork: return false
        }
    }

    /// The classifier (exit index, or `headCount` for final) a sample leaves at, given its
    /// confidence at each head.
    public func classifierTaken(confidences: (Int) -> Float, headCount: Int) -> Int {
        for e in 0..<headCount where runsHead(e) && leaves(atHead: e, confidence: confidences(e)) { return e }
        return headCount
    }

    /// Forward FLOPs of a sample leaving at classifier `taken` (`headCount` for final): the
    /// backbone up to that point (all of it for final) plus every head run on the way.
    public func flops(taken: Int, network: MultiExitModel) -> Int { flops(taken: taken, costs: ClassifierCosts(network)) }

    public func flops(taken: Int, costs: ClassifierCosts) -> Int {
        let h = costs.headFLOPs.count
        let backbone = taken == h ? costs.fullNetworkFLOPs : costs.backboneFLOPs[taken]
        let heads = (0..<min(taken + 1, h)).filter(runsHead).reduce(0) { $0 + costs.headFLOPs[$1] }
        return backbone + heads
    }
}

/// What a policy's cost depends on, per sample: the backbone's forward FLOPs through each
/// head's point, each head's own, and the whole backbone's (the model view the orchestrator
/// and stored unit records share; no weights).
public struct ClassifierCosts: Equatable, Sendable, Codable {
    /// Exit names in network order, then `final`.
    public var names: [String]
    public var backboneFLOPs: [Int]
    public var headFLOPs: [Int]
    public var fullNetworkFLOPs: Int

    public init(names: [String], backboneFLOPs: [Int], headFLOPs: [Int], fullNetworkFLOPs: Int) {
        precondition(backboneFLOPs.count == headFLOPs.count && names.count == headFLOPs.count + 1)
        self.names = names; self.backboneFLOPs = backboneFLOPs; self.headFLOPs = headFLOPs
        self.fullNetworkFLOPs = fullNetworkFLOPs
    }

    public init(_ network: MultiExitModel) {
        self.init(names: network.classifierNames,
                  backboneFLOPs: network.exits.map { network.backboneFLOPs(throughChild: $0.point.childIndex) },
                  headFLOPs: network.exits.map(\.headFLOPs), fullNetworkFLOPs: network.fullNetworkFLOPs)
    }

    public var headCount: Int { headFLOPs.count }

    /// Cumulative forward FLOPs of each exit alone (its backbone prefix plus itself), then
    /// of the final classifier.
    public var classifierFLOPs: [Int] { zip(backboneFLOPs, headFLOPs).map(+) + [fullNetworkFLOPs] }
}

/// How a policy does on a user's validation share, from the profiler's stored outputs.
public struct PolicyOutcome: Equatable, Sendable {
    /// Per validation sample: the classifier taken (exit index, or the head count for final).
    public var taken: [Int]
    /// Correct / scored under the profile's basis.
    public var correct: Int
    public var scored: Int
    /// Mean forward FLOPs per validation sample (all samples, scored or not).
    public var meanFLOPs: Double

    public var accuracy: Double { scored == 0 ? 0 : Double(correct) / Double(scored) }

    /// Samples leaving at each classifier (exits, then final).
    public func histogram(classifiers: Int) -> [Int] {
        taken.reduce(into: [Int](repeating: 0, count: classifiers)) { $0[$1] += 1 }
    }
}

extension ExitPolicy {
    /// Replays the policy on the profiler's stored validation outputs (no network run).
    public func outcome(on scores: ValidationScores, network: MultiExitModel) -> PolicyOutcome {
        outcome(on: scores, costs: ClassifierCosts(network))
    }

    public func outcome(on scores: ValidationScores, costs: ClassifierCosts) -> PolicyOutcome {
        let h = scores.classifierCount - 1
        precondition(h == costs.headCount, "scores of \(h) exits for a network of \(costs.headCount)")
        var taken: [Int] = [], correct = 0, flopsTotal = 0
        for i in 0..<scores.sampleCount {
            let t = classifierTaken(confidences: { scores.confidences[$0][i] }, headCount: h)
            taken.append(t)
            if let target = scores.targets[i], scores.predictions[t][i] == target { correct += 1 }
            flopsTotal += flops(taken: t, costs: costs)
        }
        return PolicyOutcome(taken: taken, correct: correct, scored: scores.scoredCount,
                             meanFLOPs: scores.sampleCount == 0 ? 0 : Double(flopsTotal) / Double(scores.sampleCount))
    }
}
