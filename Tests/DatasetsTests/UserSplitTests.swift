import Foundation
import Testing
@testable import Datasets

/// Label arrays shaped like a loaded split: class by class in label order.
enum SyntheticLabels {
    static func labels(_ counts: [Int]) -> [Int] {
        counts.enumerated().flatMap { c, n in [Int](repeating: c, count: n) }
    }

    /// Fashion-MNIST's shape: 10 classes, 6000 train and 1000 test samples each, and its five
    /// superclass groups (tops 0 2 4 6, bottoms 1, dresses 3, footwear 5 7 9, bags 8).
    static let train = labels([Int](repeating: 6000, count: 10))
    static let test = labels([Int](repeating: 1000, count: 10))
    static let superclassOfClass = [0, 1, 0, 2, 0, 3, 0, 3, 4, 3]
    static let trainSuperclasses = train.map { superclassOfClass[$0] }

    static func split(_ spec: UserSplitSpec, seed: UInt64 = 1, train: [Int] = train, test: [Int] = test,
                      classCount: Int = 10) throws -> UserSplit {
        try UserSplit(spec: spec, seed: seed, trainLabels: train,
                      trainSuperclassLabels: train.count == Self.train.count ? trainSuperclasses : nil,
                      testLabels: test, classCount: classCount)
    }
}

extension UserSplitSpec {
    /// A spec with some keys changed.
    static func with(_ change: (inout UserSplitSpec) -> Void) -> UserSplitSpec {
        var spec = UserSplitSpec()
        change(&spec)
        return spec
    }
}

@Suite struct UserSplitTests {
    let train = SyntheticLabels.train
    let test = SyntheticLabels.test

    func counts(_ user: SimulatedUser) -> [UserClassCounts] {
        user.classCounts(trainLabels: train, testLabels: test)
    }

    /// The invariants every split keeps, whatever its kind.
    func checkInvariants(_ split: UserSplit) {
        var seen = Set<Int>()
        for user in split.users {
            let samples = user.train + user.validation
            #expect(samples.allSatisfy { train.indices.contains($0) })
            #expect(Set(samples).count == samples.count, "user \(user.index) repeats a sample")
            #expect(seen.isDisjoint(with: samples), "user \(user.index) shares samples with an earlier user")
            seen.formUnion(samples)
            #expect(Set(samples.map { train[$0] }) == Set(user.classes))
            #expect(user.classes == user.classes.sorted())
            #expect(Set(user.test).count == user.test.count && user.test == user.test.sorted())
            #expect(user.test.allSatisfy { test.indices.contains($0) })
            #expect(user.test.count == split.spec.testSamplesPerUser)
        }
    }

    @Test func classesSplitGivesKClassesInEqualSharesAndDisjointSamples() throws {
        let split = try SyntheticLabels.split(.with { $0.users = 20; $0.classesPerUser = 3 })
        checkInvariants(split)
        #expect(split.users.count == 20)
        for user in split.users {
            #expect(user.classes.count == 3)
            #expect(user.train.count + user.validation.count == 500)
            // 500 over 3 classes: 167, 167, 166.
            let sizes = counts(user).map { $0.train + $0.validation }.sorted()
            #expect(sizes == [166, 167, 167])
        }
        // Random classes: not every user has the same three.
        #expect(Set(split.users.map(\.classes)).count > 1)
    }

    @Test func explicitClassListsAreUsedAsGiven() throws {
        var spec = UserSplitSpec()
        try spec.apply(splitSyntax: "classes:0,1,2;3,4;9")
        #expect(spec.users == 3)
        let split = try SyntheticLabels.split(spec)
        checkInvariants(split)
        #expect(split.users.map(\.classes) == [[0, 1, 2], [3, 4], [9]])
        #expect(counts(split.users[1]).map { $0.train + $0.validation } == [250, 250])
    }

    @Test func superclassRoundRobinCyclesThroughTheGroups() throws {
        let split = try SyntheticLabels.split(.with { $0.kind = .superclass; $0.users = 7 })
        checkInvariants(split)
        let groups = [[0, 2, 4, 6], [1], [3], [5, 7, 9], [8]]
        for user in split.users {
            #expect(user.superclass == user.index % 5)
            #expect(user.classes == groups[user.index % 5])
        }
        // Tops: 500 over 4 classes, 125 each.
        #expect(counts(split.users[0]).map { $0.train + $0.validation } == [125, 125, 125, 125])
    }

    @Test func superclassRandomGivesEachUserOneWholeGroup() throws {
        let spec = UserSplitSpec.with { $0.kind = .superclass; $0.superclassAssignment = .random; $0.users = 12 }
        let split = try SyntheticLabels.split(spec)
        checkInvariants(split)
        let groups = [[0, 2, 4, 6], [1], [3], [5, 7, 9], [8]]
        for user in split.users {
            let g = try #require(user.superclass)
            #expect(user.classes == groups[g])
        }
        #expect(Set(split.users.compactMap(\.superclass)).count > 1)
        #expect(try SyntheticLabels.split(spec) == split)
    }

    @Test func dirichletSplitFollowsAlpha() throws {
        // Large alpha: every user close to 50 samples of each of the 10 classes.
        let flat = try SyntheticLabels.split(.with { $0.kind = .dirichlet; $0.alpha = 10_000; $0.users = 10 })
        checkInvariants(flat)
        for user in flat.users {
            #expect(user.classes.count == 10)
            #expect(counts(user).allSatisfy { abs($0.train + $0.validation - 50) <= 3 })
        }
        // Small alpha: few dominant classes; the largest class averages well above a uniform
        // tenth (the expected largest Dirichlet(0.1) share over 10 classes is about 0.6).
        let skewed = try SyntheticLabels.split(.with { $0.kind = .dirichlet; $0.alpha = 0.1; $0.users = 20 })
        checkInvariants(skewed)
        let largest = skewed.users.map { user in Double(counts(user).map { $0.train + $0.validation }.max()!) / 500 }
        #expect(largest.reduce(0, +) / 20 > 0.4)
        for user in skewed.users { #expect(user.train.count + user.validation.count == 500) }
    }

    @Test func dirichletProportionsAverageToUniformOverManyUsers() throws {
        // Each class's mean share over 100 users is near 1/10 (alpha 1: per-user share sd
        // sqrt(0.1 * 0.9 / 11), about 0.09, so the mean's sd is about 0.009).
        let split = try SyntheticLabels.split(.with { $0.kind = .dirichlet; $0.alpha = 1; $0.users = 100; $0.samplesPerUser = 100 })
        var share = [Double](repeating: 0, count: 10)
        for user in split.users {
            for row in counts(user) { share[row.label] += Double(row.train + row.validation) / 100 / 100 }
        }
        #expect(share.allSatisfy { abs($0 - 0.1) < 0.035 }, "\(share)")
    }

    @Test func dirichletMinimumSizeAllowsTruncationAndFailsClearlyBelowIt() throws {
        // Two classes of 300 samples; each user asks for 250 with heavy skew. Later users
        // find their favoured class exhausted.
        let small = SyntheticLabels.labels([300, 300])
        let smallTest = SyntheticLabels.labels([100, 100])
        let lenient = UserSplitSpec.with {
            $0.kind = .dirichlet; $0.alpha = 0.05; $0.users = 2; $0.samplesPerUser = 250
            $0.minSamplesPerUser = 50; $0.testSamplesPerUser = 20
        }
        let split = try SyntheticLabels.split(lenient, train: small, test: smallTest, classCount: 2)
        for user in split.users {
            #expect(user.train.count + user.validation.count >= 50)
            #expect(user.train.count + user.validation.count <= 250)
        }
        let strict = UserSplitSpec.with {
            $0.kind = .dirichlet; $0.alpha = 0.05; $0.users = 3; $0.samplesPerUser = 250; $0.testSamplesPerUser = 20
        }
        let error = #expect(throws: UserSplitError.self) {
            try SyntheticLabels.split(strict, train: small, test: smallTest, classCount: 2)
        }
        #expect(error?.key == "samplesPerUser" || error?.key == "minSamplesPerUser")
        #expect(error?.message.contains("left") == true)
    }

    @Test func dirichletRedrawsAreExhaustedWithAClearError() throws {
        // One class of 1000 and one of 10: a user of 500 needs a draw that favours class 0;
        // with maxRedraws 0 and a seed whose first draw favours class 1, the split fails.
        let train = SyntheticLabels.labels([1000, 10])
        let test = SyntheticLabels.labels([50, 50])
        var failures = 0
        for seed in UInt64(0)..<20 {
            let spec = UserSplitSpec.with {
                $0.kind = .dirichlet; $0.alpha = 0.05; $0.users = 1; $0.maxRedraws = 0; $0.testSamplesPerUser = 10
            }
            do {
                _ = try SyntheticLabels.split(spec, seed: seed, train: train, test: test, classCount: 2)
            } catch let error as UserSplitError {
                failures += 1
                #expect(error.key == "minSamplesPerUser")
                #expect(error.message.contains("class 1 10"))
            }
            // With redraws allowed every seed finds a draw favouring class 0.
            let patient = UserSplitSpec.with {
                $0.kind = .dirichlet; $0.alpha = 0.05; $0.users = 1; $0.maxRedraws = 100; $0.testSamplesPerUser = 10
            }
            let split = try SyntheticLabels.split(patient, seed: seed, train: train, test: test, classCount: 2)
            #expect(split.users[0].train.count + split.users[0].validation.count == 500)
        }
        #expect(failures > 0 && failures < 20)
    }

    @Test func validationShareIsStratifiedAndKeepsATrainingSamplePerClass() throws {
        let split = try SyntheticLabels.split(.with { $0.users = 5; $0.validationFraction = 0.2 })
        for user in split.users {
            #expect(user.validation.count == 100 && user.train.count == 400)
            for row in counts(user) {
                let share = Double(row.validation) / Double(row.train + row.validation)
                #expect(abs(share - 0.2) < 0.01)
            }
        }
        // A class with one sample keeps it for training.
        let spec = UserSplitSpec.with { $0.userClasses = [[0, 1]]; $0.users = 1; $0.samplesPerUser = 2; $0.validationFraction = 0.5 }
        let tiny = try SyntheticLabels.split(spec)
        #expect(tiny.users[0].validation.isEmpty && tiny.users[0].train.count == 2)
    }

    @Test func labelledFractionIsStratifiedWithAtLeastOneLabelPerClass() throws {
        let split = try SyntheticLabels.split(.with { $0.users = 5; $0.labelledFraction = 0.1 })
        for user in split.users {
            for row in counts(user) {
                // round(0.1 m), at least 1: 133 -> 13, 134 -> 13, 33 -> 3.
                #expect(row.trainLabelled == max(1, Int((0.1 * Double(row.train)).rounded(.toNearestOrAwayFromZero))))
                #expect(row.validationLabelled == max(1, Int((0.1 * Double(row.validation)).rounded(.toNearestOrAwayFromZero))))
            }
            #expect(user.labelledTrain.count + user.unlabelledTrain.count == user.train.count)
            #expect(Set(user.labelledTrain).isDisjoint(with: user.unlabelledTrain))
        }
        // Tiny fraction and skewed classes: every class the user has still gets a label.
        let sparse = try SyntheticLabels.split(.with { $0.kind = .dirichlet; $0.alpha = 0.3; $0.users = 10; $0.labelledFraction = 0.01 })
        for user in sparse.users {
            for row in counts(user) {
                if row.train > 0 { #expect(row.trainLabelled >= 1) }
                if row.validation > 0 { #expect(row.validationLabelled >= 1) }
            }
        }
        let none = try SyntheticLabels.split(.with { $0.users = 2; $0.labelledFraction = 0 })
        #expect(none.users.allSatisfy { $0.labelledTrain.isEmpty && !$0.validationLabelled.contains(true) })
        let all = try SyntheticLabels.split(.with { $0.users = 2; $0.labelledFraction = 1 })
        #expect(all.users.allSatisfy { $0.unlabelledTrain.isEmpty && !$0.validationLabelled.contains(false) })
    }

    @Test func testSetFollowsTheUsersClassProportions() throws {
        let split = try SyntheticLabels.split(.with { $0.kind = .dirichlet; $0.alpha = 0.5; $0.users = 10; $0.testSamplesPerUser = 300 })
        for user in split.users {
            let total = Double(user.train.count + user.validation.count)
            for row in counts(user) {
                let expected = 300 * Double(row.train + row.validation) / total
                #expect(abs(Double(row.test) - expected) < 1, "class \(row.label): \(row.test) test for \(expected)")
            }
        }
        // Test sets may overlap across users (they are drawn from the full test split each time).
        let many = try SyntheticLabels.split(.with { $0.userClasses = [[0], [0]]; $0.users = 2; $0.testSamplesPerUser = 800 })
        #expect(!Set(many.users[0].test).isDisjoint(with: many.users[1].test))
    }

    @Test func sameSeedSameSplitOtherSeedOtherSplit() throws {
        let spec = UserSplitSpec.with { $0.kind = .dirichlet; $0.users = 6; $0.labelledFraction = 0.2 }
        let a = try SyntheticLabels.split(spec, seed: 42)
        let b = try SyntheticLabels.split(spec, seed: 42)
        let c = try SyntheticLabels.split(spec, seed: 43)
        #expect(a == b)
        #expect(a.users[0].train != c.users[0].train)
        #expect(a.users.map(\.test) != c.users.map(\.test))
    }

    @Test func moreUsersLeaveTheEarlierUsersUnchanged() throws {
        for kind in UserSplitSpec.Kind.allCases {
            let five = try SyntheticLabels.split(.with { $0.kind = kind; $0.users = 5 }, seed: 7)
            let eight = try SyntheticLabels.split(.with { $0.kind = kind; $0.users = 8 }, seed: 7)
            #expect(Array(eight.users.prefix(5)) == five.users, "kind \(kind)")
        }
    }

    @Test func testSizeAndLabelledFractionDoNotMoveTrainingSamples() throws {
        let base = try SyntheticLabels.split(.with { $0.users = 4 }, seed: 3)
        let moreTest = try SyntheticLabels.split(.with { $0.users = 4; $0.testSamplesPerUser = 50 }, seed: 3)
        let fewerLabels = try SyntheticLabels.split(.with { $0.users = 4; $0.labelledFraction = 0.05 }, seed: 3)
        #expect(base.users.map(\.train) == moreTest.users.map(\.train))
        #expect(base.users.map(\.validation) == moreTest.users.map(\.validation))
        #expect(base.users.map(\.train) == fewerLabels.users.map(\.train))
        #expect(base.users.map(\.test) == fewerLabels.users.map(\.test))
        // Another validation share divides the same pool, in the same order, differently.
        let moreValidation = try SyntheticLabels.split(.with { $0.users = 4; $0.validationFraction = 0.5 }, seed: 3)
        for (a, b) in zip(base.users, moreValidation.users) {
            #expect(Set(a.train + a.validation) == Set(b.train + b.validation))
            #expect(b.validation.count == 250)
            #expect(a.train.filter(Set(b.train).contains) == b.train)
        }
    }

    @Test func growthRoundsArePrefixesWithStableFlags() throws {
        let split = try SyntheticLabels.split(.with { $0.users = 3; $0.labelledFraction = 0.1 })
        for user in split.users {
            let rounds = user.growth(step: 50)
            #expect(rounds.map(\.count) == [50, 100, 150, 200, 250, 300, 350, 400])
            for (small, large) in zip(rounds, rounds.dropFirst()) {
                #expect(Array(large.indices.prefix(small.count)) == small.indices)
                #expect(Array(large.isLabelled.prefix(small.count)) == small.isLabelled)
            }
            #expect(rounds.last!.indices == user.train)
            #expect(rounds.last!.labelledIndices == user.labelledTrain)
            // Labels are spread along the pool: every class present in a prefix has a label.
            for round in rounds {
                let present = Set(round.indices.map { train[$0] })
                let labelled = Set(round.labelledIndices.map { train[$0] })
                #expect(present == labelled)
            }
        }
        let odd = split.users[0].growth(step: 150)
        #expect(odd.map(\.count) == [150, 300, 400])
    }

    @Test func savedSplitsRoundTripAndMismatchedFlagsAreRefused() throws {
        let split = try SyntheticLabels.split(.with { $0.kind = .superclass; $0.users = 3; $0.labelledFraction = 0.3 })
        let data = try JSONEncoder().encode(split)
        #expect(try JSONDecoder().decode(UserSplit.self, from: data) == split)
        let user = #"{"index":0,"classes":[1],"train":[5,6],"trainLabelled":[true],"validation":[],"validationLabelled":[],"test":[]}"#
        let error = #expect(throws: DecodingError.self) { try JSONDecoder().decode(SimulatedUser.self, from: Data(user.utf8)) }
        #expect(String(describing: error).contains("1 flags for 2 train samples"))
    }

    @Test func loadedSplitsGiveTheSameUsersAsTheirLabels() throws {
        // 1x1 gray images; the labels and superclass groups are what the split is dealt from.
        let trainLabels = SyntheticLabels.labels([40, 40, 40, 40])
        let testLabels = SyntheticLabels.labels([10, 10, 10, 10])
        let manifest = DatasetManifest(
            name: "tiny", classes: ["a", "b", "c", "d"].map { .init(folder: $0, name: $0.uppercased()) },
            superclasses: [.init(name: "ab", classes: ["a", "b"]), .init(name: "cd", classes: ["c", "d"])],
            imageShape: [1, 1, 1], source: "test", splits: [], checksum: "")
        func loaded(_ name: String, _ labels: [Int]) -> DatasetSplit {
            let images = LabelledImages(channels: 1, height: 1, width: 1, pixels: [UInt8](repeating: 0, count: labels.count),
                                        labels: labels)
            return DatasetSplit(name: name, decoded: DecodedSplit(fingerprint: 0, images: images), manifest: manifest)
        }
        let spec = UserSplitSpec.with { $0.kind = .superclass; $0.users = 3; $0.samplesPerUser = 20; $0.testSamplesPerUser = 6 }
        let fromSplits = try UserSplit(spec: spec, seed: 5, train: loaded("train", trainLabels), test: loaded("test", testLabels))
        let fromLabels = try UserSplit(spec: spec, seed: 5, trainLabels: trainLabels,
                                       trainSuperclassLabels: trainLabels.map { $0 / 2 }, testLabels: testLabels, classCount: 4)
        #expect(fromSplits == fromLabels)
        #expect(fromSplits.users.map(\.classes) == [[0, 1], [2, 3], [0, 1]])
    }
}
