/// Which exits a user enables (PersEPhonEE's classifier selection), from the user's profile.
///
/// An exit is enabled when its estimated accuracy is at least the final classifier's minus
/// `tolerance`, or (when `target` is set) at least `target`. Both are fractions on the
/// profile's basis. An exit whose cumulative FLOPs reach the final classifier's is never
/// enabled, whatever its accuracy. Set `tolerance` to nil to select on the absolute target alone.
public struct SelectionRule: Equatable, Hashable, Sendable, Codable {
    /// Default 0.01 (one point): an exit that is as good as the final classifier for this
    /// user, up to the resolution of a 100-sample validation share, is worth offering.
    public var tolerance: Double?
    /// Default nil: by default an exit competes with the final classifier, not a fixed bar.
    public var target: Double?

    public init(tolerance: Double? = 0.01, target: Double? = nil) {
        self.tolerance = tolerance; self.target = target
    }

    /// Every exit enabled (for policies that should consider all of them).
    public static let all = SelectionRule(tolerance: 1, target: nil)

    func check() throws {
        for (name, value) in [("tolerance", tolerance), ("target", target)] {
            if let v = value, !(v >= 0 && v <= 1) {
                throw OrchestratorError(subject: "selection \(name)", message: "\(v) is outside [0, 1]",
                                        hint: "give it as a fraction (0.01 is one percentage point)")
            }
        }
        if tolerance == nil && target == nil {
            throw OrchestratorError(subject: "selection", message: "neither a tolerance nor a target is set, so no exit could be enabled",
                                    hint: "set tolerance (default 0.01) or target")
        }
    }

    /// Per exit of `profile`: enabled or not.
    public func select(_ profile: UserProfile) throws -> [Bool] {
        try check()
        let finalAccuracy = profile.final.accuracy
        // A hair of slack so an exit exactly at the bar is not lost to rounding of a / n.
        let slack = 1e-9
        return profile.exits.map { exit in
            // Never an exit that costs at least the full network: it would not be early.
            if exit.flops >= profile.final.flops { return false }
            if let t = tolerance, exit.accuracy >= finalAccuracy - t - slack { return true }
            if let a = target, exit.accuracy >= a - slack { return true }
            return false
        }
    }
}
