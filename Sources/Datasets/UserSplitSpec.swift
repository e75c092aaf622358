import Codecs
import Foundation

/// How a dataset's train split is dealt out to simulated users (docs/users.md).
///
/// Every field has a default, so `{}` is a valid spec; JSON keys are the field names, and a
/// key this type does not know is a decoding error (a misspelt key must not silently fall
/// back to its default). Counts are in samples, fractions in [0, 1].
public struct UserSplitSpec: Codable, Equatable, Sendable {
    /// Which classes a user sees.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        /// `classesPerUser` classes per user (random), or the lists in `userClasses`;
        /// the budget split equally among them (the pathological non-IID split).
        case classes
        /// The classes of one superclass group per user, split equally.
        case superclass
        /// Class proportions p ~ Dirichlet(alpha) over all classes, per user.
        case dirichlet
    }

    /// How the `superclass` kind gives each user its group.
    public enum SuperclassAssignment: String, Codable, CaseIterable, Sendable {
        /// User u gets group u mod G: every group is used before any repeats.
        case roundRobin
        /// Each user draws a group uniformly from its own generator.
        case random
    }

    /// Default `classes`: the paper's setting of users who each see a few classes.
    public var kind: Kind = .classes
    /// Default 10 users, the reference experiment.
    public var users: Int = 10
    /// The user's budget n: train-split samples dealt to the user, validation included.
    /// Default 500, the reference experiment.
    public var samplesPerUser: Int = 500
    /// `classes` kind: classes per user, drawn at random. Default 3.
    public var classesPerUser: Int = 3
    /// `classes` kind: explicit class lists (labels), one per user; overrides
    /// `classesPerUser` and must have `users` entries. Default nil (random classes).
    public var userClasses: [[Int]]? = nil
    /// `superclass` kind. Default `roundRobin`, so ten users over five groups cover each twice.
    public var superclassAssignment: SuperclassAssignment = .roundRobin
    /// `dirichlet` kind: concentration. Default 0.5, a common non-IID setting in the
    /// federated-learning literature (small alpha: few dominant classes; large: near uniform).
    public var alpha: Double = 0.5
    /// `dirichlet` kind: the smallest acceptable user size when classes running out of
    /// samples truncate a draw. Default nil, meaning `samplesPerUser` (every user full).
    public var minSamplesPerUser: Int? = nil
    /// `dirichlet` kind: how many times a user's proportions are redrawn when a draw cannot
    /// give `minSamplesPerUser` samples, before the split fails. Default 100.
    public var maxRedraws: Int = 100
    /// Fraction of the user's samples held out (stratified) as the profiler's validation
    /// share. Default 0.2: 100 of 500 samples, enough to tell exits apart by a few percent.
    public var validationFraction: Double = 0.2
    /// Fraction of the user's training (and, separately, validation) samples that keep
    /// their label, stratified by class. Default 1 (all labelled, the reference case).
    public var labelledFraction: Double = 1
    /// Test samples per user, drawn from the test split with the user's class proportions.
    /// Default 200: accuracy in steps of 0.5%.
    public var testSamplesPerUser: Int = 200

    public init() {}

    /// `minSamplesPerUser` with its default resolved.
    public var resolvedMinSamplesPerUser: Int { minSamplesPerUser ?? samplesPerUser }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, users, samplesPerUser, classesPerUser, userClasses, superclassAssignment, alpha,
             minSamplesPerUser, maxRedraws, validationFraction, labelledFraction, testSamplesPerUser
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, CodingKeys.self, what: "user split")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = UserSplitSpec()
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? d.kind
        users = try c.decodeIfPresent(Int.self, forKey: .users) ?? d.users
        samplesPerUser = try c.decodeIfPresent(Int.self, forKey: .samplesPerUser) ?? d.samplesPerUser
        classesPerUser = try c.decodeIfPresent(Int.self, forKey: .classesPerUser) ?? d.classesPerUser
        userClasses = try c.decodeIfPresent([[Int]].self, forKey: .userClasses)
        superclassAssignment = try c.decodeIfPresent(SuperclassAssignment.self, forKey: .superclassAssignment)
            ?? d.superclassAssignment
        alpha = try c.decodeIfPresent(Double.self, forKey: .alpha) ?? d.alpha
        minSamplesPerUser = try c.decodeIfPresent(Int.self, forKey: .minSamplesPerUser)
        maxRedraws = try c.decodeIfPresent(Int.self, forKey: .maxRedraws) ?? d.maxRedraws
        validationFraction = try c.decodeIfPresent(Double.self, forKey: .validationFraction) ?? d.validationFraction
        labelledFraction = try c.decodeIfPresent(Double.self, forKey: .labelledFraction) ?? d.labelledFraction
        testSamplesPerUser = try c.decodeIfPresent(Int.self, forKey: .testSamplesPerUser) ?? d.testSamplesPerUser
    }

    /// Checks the ranges that do not depend on the dataset (the generator checks the rest).
    public func validate() throws {
        func fail(_ key: String, _ message: String, _ hint: String) -> UserSplitError {
            UserSplitError(key: key, message: message, hint: hint)
        }
        guard users >= 1 else { throw fail("users", "is \(users)", "give at least 1 user") }
        guard samplesPerUser >= 1 else {
            throw fail("samplesPerUser", "is \(samplesPerUser)", "give at least 1 sample per user")
        }
        guard testSamplesPerUser >= 0 else {
            throw fail("testSamplesPerUser", "is \(testSamplesPerUser)", "give 0 or more test samples per user")
        }
        guard validationFraction >= 0 && validationFraction < 1 else {
            throw fail("validationFraction", "is \(validationFraction)",
                       "give a fraction in [0, 1): the user must keep training samples")
        }
        guard labelledFraction >= 0 && labelledFraction <= 1 else {
            throw fail("labelledFraction", "is \(labelledFraction)", "give a fraction in [0, 1]")
        }
        switch kind {
        case .classes:
            if let lists = userClasses {
                guard lists.count == users else {
                    throw fail("userClasses", "has \(lists.count) lists for \(users) users",
                               "give one class list per user, or set users to \(lists.count)")
                }
                for (u, list) in lists.enumerated() {
                    guard !list.isEmpty else { throw fail("userClasses[\(u)]", "is empty", "give user \(u) at least one class") }
                    guard Set(list).count == list.count else {
                        throw fail("userClasses[\(u)]", "lists a class twice: \(list)", "list each class once")
                    }
                }
            } else {
                guard classesPerUser >= 1 else {
                    throw fail("classesPerUser", "is \(classesPerUser)", "give at least 1 class per user")
                }
            }
        case .superclass:
            break
        case .dirichlet:
            guard alpha > 0 && alpha.isFinite else {
                throw fail("alpha", "is \(alpha)", "give a positive, finite concentration (e.g. 0.1 very skewed, 100 near uniform)")
            }
            guard maxRedraws >= 0 else { throw fail("maxRedraws", "is \(maxRedraws)", "give 0 or more") }
            let minimum = resolvedMinSamplesPerUser
            guard minimum >= 1 && minimum <= samplesPerUser else {
                throw fail("minSamplesPerUser", "is \(minimum), samplesPerUser is \(samplesPerUser)",
                           "give a minimum between 1 and samplesPerUser")
            }
        }
    }
}

extension UserSplitSpec {
    /// Applies the command line's compact split syntax: `classes:K`, `classes:0,1,2;3,4,5`
    /// (explicit lists, one per user, `;` between users; also sets `users`), `superclass`,
    /// `superclass:random`, `dirichlet:ALPHA`.
    public mutating func apply(splitSyntax text: String) throws {
        let hint = "write classes:K, classes:0,1,2;3,4,5, superclass, superclass:random or dirichlet:ALPHA"
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0], argument = parts.count > 1 ? parts[1] : nil
        switch (name, argument) {
        case ("classes", let argument?):
            if argument.contains(",") || argument.contains(";") {
                var lists = [[Int]]()
                for user in argument.split(separator: ";", omittingEmptySubsequences: false) {
                    var list = [Int]()
                    for item in user.split(separator: ",", omittingEmptySubsequences: false) {
                        guard let label = Int(item.trimmingCharacters(in: .whitespaces)), label >= 0 else {
                            throw UserSplitError(key: "split", message: "\"\(text)\": \"\(item)\" is not a class label", hint: hint)
                        }
                        list.append(label)
                    }
                    lists.append(list)
                }
                kind = .classes
                userClasses = lists
                users = lists.count
            } else {
                guard let k = Int(argument), k >= 1 else {
                    throw UserSplitError(key: "split", message: "\"\(text)\": \"\(argument)\" is not a positive class count", hint: hint)
                }
                kind = .classes
                classesPerUser = k
                userClasses = nil
            }
        case ("superclass", nil), ("superclass", "round-robin"), ("superclass", "roundRobin"):
            kind = .superclass
            superclassAssignment = .roundRobin
        case ("superclass", "random"):
            kind = .superclass
            superclassAssignment = .random
        case ("dirichlet", let argument?):
            guard let a = Double(argument), a > 0, a.isFinite else {
                throw UserSplitError(key: "split", message: "\"\(text)\": \"\(argument)\" is not a positive alpha", hint: hint)
            }
            kind = .dirichlet
            alpha = a
        default:
            throw UserSplitError(key: "split", message: "\"\(text)\" is not a split", hint: hint)
        }
    }
}
