/// The outcome of comparing one claim of the paper with our measurement under its rule.
public enum Verdict: String, Sendable, Equatable {
    case reproduced = "reproduced"
    case partly = "partly reproduced"
    case notReproduced = "not reproduced"
    /// Fewer than two observations: no confidence interval, so the rule cannot apply.
    case undecided = "not decided"
}

/// One row of the report's verdict table: a claim in one group (sweep point).
public struct ClaimVerdict: Sendable, Equatable {
    /// `C1` ... `C4`.
    public var claim: String
    public var group: Group
    /// What the paper says.
    public var paper: String
    /// Our figure, mean ± 95% CI and whatever the rule also reads.
    public var ours: String
    public var verdict: Verdict
    /// The rule that gave the verdict.
    public var rule: String
    /// Which of the rule's conditions held and which did not, in words.
    public var reason: String
}

/// Slack for comparing measured fractions converted to points with the paper's figures:
/// a gain of 0.159 is 15.899999999999999 points in floating point.
let comparisonSlack = 1e-9
