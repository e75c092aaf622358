import Models
import Training

/// How the orchestrator sets the thresholds of the selected exits.
///
/// - `search(target)`: per user on the validation share (`ThresholdSearch`).
/// - `explicit(thresholds)`: one per head, applied to the selected exits.
/// - `uniform(threshold)`: the same threshold at every selected exit.
/// - `fixedExit(e)`: no early-exit thresholds: the network truncated at exit e.
public enum ThresholdChoice: Equatable, Hashable, Sendable, Codable {
    case search(AccuracyTarget)
    case explicit([Float])
    case uniform(Float)
    case fixedExit(Int)
}

/// Orchestrator settings.
public struct OrchestratorOptions: Equatable, Hashable, Sendable, Codable {
    public var selection: SelectionRule
    public var thresholds: ThresholdChoice

    /// Select within one point of the final classifier, search thresholds for one point.
    public init(selection: SelectionRule = SelectionRule(), thresholds: ThresholdChoice = .search(.default)) {
        self.selection = selection; self.thresholds = thresholds
    }
}

/// What the orchestrator decided for one user, and how it does on the validation share.
public struct OrchestratorPlan: Equatable, Sendable {
    /// Per head: enabled by the selection rule.
    public var selected: [Bool]
    public var policy: ExitPolicy
    /// The policy replayed on the validation share.
    public var validation: PolicyOutcome
    /// The final classifier's validation accuracy on the same basis.
    public var finalAccuracy: Double
    /// The accuracy a searched target asked for, and whether it was met (nil when the
    /// thresholds were not searched).
    public var required: Double?
    public var targetMet: Bool?

    /// Thresholds per head (nil: exit not in the policy); for a fixed exit, 0 at that exit.
    public var thresholds: [Float?] {
        switch policy {
        case let .earlyExit(t): return t
        case let .fixedExit(e): return selected.indices.map { $0 == e ? 0 : nil }
        case .fullNetwork: return selected.map { _ in nil }
        }
    }
}

/// The orchestrator (PersEPhonEE's overview figure): classifier selection and the early-exit
/// policy of one user, from the user's profile. Scheduling is `Schedule`.
public enum Orchestrator {
    public static func plan(profile: UserProfile, network: MultiExitModel,
                            options: OrchestratorOptions = OrchestratorOptions()) throws -> OrchestratorPlan {
        try plan(profile: profile, costs: ClassifierCosts(network), options: options)
    }

    /// The plan from the profile and the classifiers' costs alone (no network run).
    public static func plan(profile: UserProfile, costs: ClassifierCosts,
                            options: OrchestratorOptions = OrchestratorOptions()) throws -> OrchestratorPlan {
        let h = costs.headCount
        guard profile.exits.count == h else {
            throw OrchestratorError(subject: "profile", message: "\(profile.exits.count) exit profiles for \(h) heads",
                                    hint: "profile the same heads the plan is made for")
        }
        let selected = try options.selection.select(profile)
        var required: Double?, met: Bool?
        let policy: ExitPolicy
        switch options.thresholds {
        case let .search(target):
            let result = try ThresholdSearch.search(scores: profile.scores, costs: costs, selected: selected, target: target)
            policy = .earlyExit(thresholds: result.thresholds)
            required = result.required; met = result.met
        case let .explicit(values):
            guard values.count == h else {
                throw OrchestratorError(subject: "thresholds", message: "\(values.count) explicit thresholds for \(h) exits",
                                        hint: "give one threshold per head")
            }
            policy = .earlyExit(thresholds: zip(values, selected).map { $1 ? $0 : nil })
        case let .uniform(value):
            policy = .earlyExit(thresholds: selected.map { $0 ? value : nil })
        case let .fixedExit(e):
            policy = .fixedExit(e)
        }
        try policy.check(headCount: h)
        return OrchestratorPlan(selected: selected, policy: policy, validation: policy.outcome(on: profile.scores, costs: costs),
                                finalAccuracy: profile.final.accuracy, required: required, targetMet: met)
    }
}
