import Tensor

/// Simulated users dealt from a dataset's train and test splits (docs/users.md).
///
/// Built from labels only (no images): `trainLabels[i]` is the class of train sample i in
/// `DatasetSplit` sample order, likewise `testLabels`. Users are built one after another in
/// index order, each from its own generator `SeededGenerator(seed:).derived(u)`, taking its
/// train samples out of what earlier users left; so the split depends only on the spec, the
/// seed and the labels, and adding users at the end leaves the earlier users unchanged.
/// Within a user three sub-streams (`derived(0)` class choice, `derived(1)` train samples
/// and pool order, `derived(2)` test samples) keep, for example, a change of
/// `testSamplesPerUser` from moving the user's training samples.
public struct UserSplit: Codable, Equatable, Sendable {
    public var spec: UserSplitSpec
    public var seed: UInt64
    public var users: [SimulatedUser]

    /// Deals the users. `trainSuperclassLabels`, parallel to `trainLabels`, is needed by the
    /// `superclass` kind only; `classNames` (label order) only make errors readable.
    public init(spec: UserSplitSpec, seed: UInt64, trainLabels: [Int], trainSuperclassLabels: [Int]? = nil,
                testLabels: [Int], classCount: Int, classNames: [String]? = nil) throws {
        try spec.validate()
        var dealer = try Dealer(spec: spec, trainLabels: trainLabels, trainSuperclassLabels: trainSuperclassLabels,
                                testLabels: testLabels, classCount: classCount, classNames: classNames)
        let root = SeededGenerator(seed: seed)
        var users = [SimulatedUser]()
        for u in 0..<spec.users {
            users.append(try dealer.deal(user: u, generator: root.derived(UInt64(u))))
        }
        self.spec = spec
        self.seed = seed
        self.users = users
    }

    /// Deals the users of loaded splits (labels, superclass labels and class names from them).
    public init(spec: UserSplitSpec, seed: UInt64, train: DatasetSplit, test: DatasetSplit) throws {
        try self.init(spec: spec, seed: seed, trainLabels: train.labels, trainSuperclassLabels: train.superclassLabels,
                      testLabels: test.labels, classCount: train.classNames.count, classNames: train.classNames)
    }
}

/// The state of one split being dealt: what each class still has to give.
private struct Dealer {
    let spec: UserSplitSpec
    let classCount: Int
    let classNames: [String]?
    let trainLabels: [Int]
    /// Train indices per class not yet dealt (order changes as samples are drawn).
    var remaining: [[Int]]
    /// Test indices per class, ascending; never consumed.
    let testByClass: [[Int]]
    /// `superclass` kind: the group labels in ascending order and each group's classes.
    var groups: [(label: Int, classes: [Int])] = []

    init(spec: UserSplitSpec, trainLabels: [Int], trainSuperclassLabels: [Int]?, testLabels: [Int],
         classCount: Int, classNames: [String]?) throws {
        guard classCount >= 1 else {
            throw UserSplitError(key: "dataset", message: "has no classes", hint: "load a dataset with at least one class")
        }
        func byClass(_ labels: [Int], _ split: String) throws -> [[Int]] {
            var lists = [[Int]](repeating: [], count: classCount)
            for (i, label) in labels.enumerated() {
                guard (0..<classCount).contains(label) else {
                    throw UserSplitError(key: "dataset", message: "\(split) sample \(i) has label \(label), outside 0..<\(classCount)",
                                         hint: "check the dataset (`persephone datasets check DIR`)")
                }
                lists[label].append(i)
            }
            return lists
        }
        self.spec = spec
        self.classCount = classCount
        self.classNames = classNames
        self.trainLabels = trainLabels
        self.remaining = try byClass(trainLabels, "train")
        self.testByClass = try byClass(testLabels, "test")

        switch spec.kind {
        case .classes:
            for (u, list) in (spec.userClasses ?? []).enumerated() {
                if let bad = list.first(where: { !(0..<classCount).contains($0) }) {
                    throw UserSplitError(key: "userClasses[\(u)]", message: "class \(bad) does not exist; the dataset has classes 0-\(classCount - 1)",
                                         hint: "list class labels between 0 and \(classCount - 1) (`persephone datasets info DIR` shows them)")
                }
            }
            if spec.userClasses == nil && spec.classesPerUser > classCount {
                throw UserSplitError(key: "classesPerUser", message: "is \(spec.classesPerUser); the dataset has \(classCount) classes",
                                     hint: "give at most \(classCount) classes per user")
            }
        case .superclass:
            guard let superclassLabels = trainSuperclassLabels else {
                throw UserSplitError(key: "kind", message: "superclass, but the dataset has no superclass groups",
                                     hint: "use classes or dirichlet, or add superclasses to dataset.json (docs/datasets.md)")
            }
            guard superclassLabels.count == trainLabels.count else {
                throw UserSplitError(key: "dataset", message: "\(superclassLabels.count) superclass labels for \(trainLabels.count) train samples",
                                     hint: "give one superclass label per train sample")
            }
            var groupOfClass = [Int: Int]()
            for (label, group) in zip(trainLabels, superclassLabels) {
                if let other = groupOfClass.updateValue(group, forKey: label), other != group {
                    throw UserSplitError(key: "dataset", message: "class \(label) has samples in superclasses \(other) and \(group)",
                                         hint: "each class must be in exactly one superclass (dataset.json superclasses)")
                }
            }
            groups = Set(groupOfClass.values).sorted().map { g in
                (g, groupOfClass.filter { $0.value == g }.map(\.key).sorted())
            }
        case .dirichlet:
            break
        }
    }

    func name(_ c: Int) -> String {
        guard let names = classNames, names.indices.contains(c) else { return "class \(c)" }
        return "class \(c) (\(names[c]))"
    }

    func leftDescription(_ classes: [Int]) -> String {
        classes.map { "\(name($0)) \(remaining[$0].count)" }.joined(separator: ", ")
    }

    func earlierUsers(_ u: Int) -> String {
        u == 0 ? "" : u == 1 ? " after user 0 took its share" : " after users 0-\(u - 1) took theirs"
    }

    /// n split equally over `classes`, the first n mod k of them (in the given order) one more.
    func equalShares(_ n: Int, over classes: [Int]) -> [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for (i, c) in classes.enumerated() { counts[c] = n / classes.count + (i < n % classes.count ? 1 : 0) }
        return counts
    }

    /// Per-class counts of user `u` for a fixed class list, or an error naming what is short.
    func fixedCounts(user u: Int, classes: [Int], key: String) throws -> [Int] {
        let n = spec.samplesPerUser
        guard n >= classes.count else {
            throw UserSplitError(key: "samplesPerUser", message: "is \(n), fewer than the \(classes.count) classes of user \(u) (\(key))",
                                 hint: "give each user at least one sample per class")
        }
        let counts = equalShares(n, over: classes)
        let short = classes.filter { counts[$0] > remaining[$0].count }
        guard short.isEmpty else {
            throw UserSplitError(
                key: "samplesPerUser",
                message: "user \(u) (\(key)) needs " + short.map { "\(counts[$0]) samples of \(name($0))" }.joined(separator: ", ")
                    + "; the train split has " + leftDescription(short) + " left" + earlierUsers(u),
                hint: "lower samplesPerUser or users, or give the users other classes")
        }
        return counts
    }

    mutating func deal(user u: Int, generator: SeededGenerator) throws -> SimulatedUser {
        var choiceRng = generator.derived(0)
        var sampleRng = generator.derived(1)
        var testRng = generator.derived(2)
        let n = spec.samplesPerUser
        var superclass: Int? = nil
        var counts: [Int]

        switch spec.kind {
        case .classes:
            if let lists = spec.userClasses {
                counts = try fixedCounts(user: u, classes: lists[u], key: "userClasses[\(u)]")
            } else {
                let k = spec.classesPerUser
                guard n >= k else {
                    throw UserSplitError(key: "samplesPerUser", message: "is \(n), fewer than classesPerUser \(k)",
                                         hint: "give each user at least one sample per class")
                }
                // Draw among the classes that can still give a full share (n/k rounded up),
                // so late users avoid classes that earlier users have exhausted.
                let need = (n + k - 1) / k
                var eligible = (0..<classCount).filter { remaining[$0].count >= need }
                guard eligible.count >= k else {
                    throw UserSplitError(
                        key: "samplesPerUser",
                        message: "user \(u) needs \(need) samples from each of \(k) classes (classesPerUser \(k)); only \(eligible.count) "
                            + "class(es) have that many left in the train split" + earlierUsers(u) + ": "
                            + leftDescription(Array(0..<classCount)),
                        hint: "lower samplesPerUser or users, or raise classesPerUser")
                }
                let chosen = UserSplitSampling.take(k, from: &eligible, &choiceRng)
                counts = try fixedCounts(user: u, classes: chosen, key: "classesPerUser \(k)")
            }
        case .superclass:
            let group = spec.superclassAssignment == .roundRobin ? groups[u % groups.count]
                : groups[choiceRng.nextInt(below: groups.count)]
            superclass = group.label
            counts = try fixedCounts(user: u, classes: group.classes, key: "superclass \(group.label)")
        case .dirichlet:
            counts = try dirichletCounts(user: u, &choiceRng)
        }

        // The user's samples, drawn class by class, then shuffled into pool order.
        var pool = [Int]()
        for c in 0..<classCount where counts[c] > 0 {
            pool += UserSplitSampling.take(counts[c], from: &remaining[c], &sampleRng)
        }
        sampleRng.shuffle(&pool)

        // Validation: round(v N) samples apportioned over classes by their counts; a class
        // keeps at least one training sample. The first ones of each class in pool order go.
        let validationTotal = UserSplitSampling.round(spec.validationFraction * Double(pool.count))
        let validationCounts = UserSplitSampling.apportion(validationTotal, weights: counts,
                                                           caps: counts.map { max(0, $0 - 1) })
        var taken = [Int](repeating: 0, count: classCount)
        var train = [Int](), validation = [Int]()
        for i in pool {
            let c = trainLabels[i]
            if taken[c] < validationCounts[c] {
                taken[c] += 1
                validation.append(i)
            } else {
                train.append(i)
            }
        }

        // Test: the user's class proportions, drawn without replacement within the user.
        let testCounts = UserSplitSampling.apportion(spec.testSamplesPerUser, weights: counts)
        var test = [Int]()
        for c in 0..<classCount where testCounts[c] > 0 {
            var available = testByClass[c]
            guard testCounts[c] <= available.count else {
                throw UserSplitError(key: "testSamplesPerUser",
                                     message: "user \(u) needs \(testCounts[c]) test samples of \(name(c)); the test split has \(available.count)",
                                     hint: "lower testSamplesPerUser")
            }
            test += UserSplitSampling.take(testCounts[c], from: &available, &testRng)
        }

        return SimulatedUser(
            index: u, classes: (0..<classCount).filter { counts[$0] > 0 }, superclass: superclass,
            train: train, trainLabelled: labelFlags(train),
            validation: validation, validationLabelled: labelFlags(validation),
            test: test.sorted())
    }

    /// Dirichlet(alpha) proportions, apportioned to n and truncated by what each class has
    /// left; redrawn (from the user's own stream) while the total is under the minimum.
    func dirichletCounts(user u: Int, _ rng: inout SeededGenerator) throws -> [Int] {
        let minimum = spec.resolvedMinSamplesPerUser
        let left = remaining.reduce(0) { $0 + $1.count }
        guard left >= minimum else {
            throw UserSplitError(key: "samplesPerUser",
                                 message: "user \(u) needs at least \(minimum) samples (minSamplesPerUser); the train split has \(left) left"
                                    + earlierUsers(u),
                                 hint: "lower samplesPerUser, minSamplesPerUser or users")
        }
        var best = 0
        for _ in 0...spec.maxRedraws {
            let p = UserSplitSampling.dirichlet(alpha: spec.alpha, count: classCount, &rng)
            let wanted = UserSplitSampling.apportion(spec.samplesPerUser, weights: UserSplitSampling.integerWeights(p))
            let counts = (0..<classCount).map { min(wanted[$0], remaining[$0].count) }
            let total = counts.reduce(0, +)
            if total >= minimum { return counts }
            best = max(best, total)
        }
        throw UserSplitError(
            key: "minSamplesPerUser",
            message: "user \(u): \(spec.maxRedraws + 1) Dirichlet(\(spec.alpha)) draws (maxRedraws \(spec.maxRedraws)) gave at most \(best) "
                + "of the \(minimum) samples required, because the classes they favour have run out; left in the train split"
                + earlierUsers(u) + ": " + leftDescription(Array(0..<classCount)),
            hint: "lower minSamplesPerUser or samplesPerUser, raise alpha or maxRedraws, or use fewer users")
    }

    /// Stratified labelled flags for `samples` (in order): class c with m samples there
    /// keeps l = round(f m) labels, at least 1 when f > 0, at most m; the labelled ones are
    /// its occurrences number floor(i m / l), i = 0 ..< l, spread evenly along the order,
    /// so the first sample of every class is labelled and every prefix of the order has
    /// close to the fraction f of each class labelled.
    func labelFlags(_ samples: [Int]) -> [Bool] {
        let f = spec.labelledFraction
        var perClass = [Int](repeating: 0, count: classCount)
        for i in samples { perClass[trainLabels[i]] += 1 }
        let labels = perClass.map { m -> Int in
            guard f > 0, m > 0 else { return 0 }
            return min(m, max(1, UserSplitSampling.round(f * Double(m))))
        }
        var seen = [Int](repeating: 0, count: classCount)
        var nextLabelled = [Int](repeating: 0, count: classCount)
        var labelledSoFar = [Int](repeating: 0, count: classCount)
        var flags = [Bool]()
        flags.reserveCapacity(samples.count)
        for i in samples {
            let c = trainLabels[i]
            let isLabelled = labelledSoFar[c] < labels[c] && seen[c] == nextLabelled[c]
            if isLabelled {
                labelledSoFar[c] += 1
                nextLabelled[c] = labelledSoFar[c] * perClass[c] / labels[c]
            }
            seen[c] += 1
            flags.append(isLabelled)
        }
        return flags
    }
}
