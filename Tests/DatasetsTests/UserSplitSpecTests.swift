import Foundation
import Testing
@testable import Datasets

@Suite struct UserSplitSpecTests {
    func decode(_ json: String) throws -> UserSplitSpec {
        try JSONDecoder().decode(UserSplitSpec.self, from: Data(json.utf8))
    }

    @Test func emptyObjectGivesTheDocumentedDefaults() throws {
        let spec = try decode("{}")
        #expect(spec == UserSplitSpec())
        #expect(spec.kind == .classes && spec.users == 10 && spec.samplesPerUser == 500 && spec.classesPerUser == 3)
        #expect(spec.userClasses == nil && spec.superclassAssignment == .roundRobin && spec.alpha == 0.5)
        #expect(spec.minSamplesPerUser == nil && spec.resolvedMinSamplesPerUser == 500 && spec.maxRedraws == 100)
        #expect(spec.validationFraction == 0.2 && spec.labelledFraction == 1 && spec.testSamplesPerUser == 200)
    }

    @Test func encodingRoundTrips() throws {
        var spec = UserSplitSpec()
        spec.kind = .dirichlet
        spec.alpha = 0.3
        spec.minSamplesPerUser = 100
        spec.userClasses = [[1, 2], [3]]
        let data = try JSONEncoder().encode(spec)
        #expect(try JSONDecoder().decode(UserSplitSpec.self, from: data) == spec)
    }

    @Test func unknownKeyAndWrongTypeAreErrors() {
        let unknown = #expect(throws: DecodingError.self) { try decode(#"{"samplesPerUsr": 100}"#) }
        if case .dataCorrupted(let context)? = unknown {
            #expect(context.debugDescription.contains("samplesPerUsr"))
            #expect(context.debugDescription.contains("samplesPerUser"))
        } else {
            Issue.record("expected dataCorrupted, got \(String(describing: unknown))")
        }
        #expect(throws: DecodingError.self) { try decode(#"{"kind": "pathological"}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"users": "ten"}"#) }
    }

    @Test func splitSyntax() throws {
        var spec = UserSplitSpec()
        try spec.apply(splitSyntax: "classes:4")
        #expect(spec.kind == .classes && spec.classesPerUser == 4 && spec.userClasses == nil)
        try spec.apply(splitSyntax: "classes:0,1,2;3,4,5")
        #expect(spec.userClasses == [[0, 1, 2], [3, 4, 5]] && spec.users == 2)
        try spec.apply(splitSyntax: "classes:7")
        #expect(spec.userClasses == nil)
        try spec.apply(splitSyntax: "superclass")
        #expect(spec.kind == .superclass && spec.superclassAssignment == .roundRobin)
        try spec.apply(splitSyntax: "superclass:random")
        #expect(spec.superclassAssignment == .random)
        try spec.apply(splitSyntax: "dirichlet:0.25")
        #expect(spec.kind == .dirichlet && spec.alpha == 0.25)
        for bad in ["classes", "classes:0", "classes:x", "classes:1,,2", "classes:1;-2", "dirichlet", "dirichlet:0",
                    "dirichlet:-1", "superclass:sometimes", "iid", ""] {
            let error = #expect(throws: UserSplitError.self, "\(bad)") { try spec.apply(splitSyntax: bad) }
            #expect(error?.key == "split")
            #expect(error?.hint.contains("dirichlet:ALPHA") == true)
        }
    }

    @Test func outOfRangeValuesNameTheirKey() {
        let cases: [(String, (inout UserSplitSpec) -> Void)] = [
            ("users", { $0.users = 0 }),
            ("samplesPerUser", { $0.samplesPerUser = 0 }),
            ("testSamplesPerUser", { $0.testSamplesPerUser = -1 }),
            ("validationFraction", { $0.validationFraction = 1 }),
            ("labelledFraction", { $0.labelledFraction = 1.5 }),
            ("classesPerUser", { $0.classesPerUser = 0 }),
            ("userClasses", { $0.userClasses = [[1]] }),
            ("userClasses[1]", { $0.users = 2; $0.userClasses = [[1], []] }),
            ("userClasses[0]", { $0.users = 1; $0.userClasses = [[1, 1]] }),
            ("alpha", { $0.kind = .dirichlet; $0.alpha = 0 }),
            ("alpha", { $0.kind = .dirichlet; $0.alpha = .infinity }),
            ("minSamplesPerUser", { $0.kind = .dirichlet; $0.minSamplesPerUser = 501 }),
            ("maxRedraws", { $0.kind = .dirichlet; $0.maxRedraws = -1 }),
        ]
        for (key, change) in cases {
            let spec = UserSplitSpec.with(change)
            let error = #expect(throws: UserSplitError.self, "\(key)") { try spec.validate() }
            #expect(error?.key == key)
            #expect(error?.description.hasPrefix("user split ") == true)
            let fields = UserSplitError.optionNames.map(\.field).filter { $0.contains { $0.isUppercase } }
            let text = error.map { "\($0)" } ?? ""
            #expect(key == "maxRedraws" || !fields.contains { text.contains($0) }, "\(text) names a library field")
        }
    }
}

@Suite struct UserSplitErrorTests {
    @Test func messagesNameTheUsersOptionsNotTheLibraryFields() {
        let error = UserSplitError(key: "testSamplesPerUser", message: "user 3 needs 40 test samples of coat; the test split has 10",
                                   hint: "lower testSamplesPerUser")
        #expect(error.description == "user split option `--test` (`data.test` in a spec): user 3 needs 40 test samples of coat; the test split has 10\nhint: lower --test (data.test)")
        let indexed = UserSplitError(key: "userClasses[2]", message: "class 11 does not exist", hint: "lower samplesPerUser, minSamplesPerUser or users")
        #expect(indexed.description == "user split option `--split classes:0,1;2,3` (`data.split` in a spec) (user 2): class 11 does not exist\nhint: lower --samples (data.samples), --min-samples or users")
    }

    @Test func classesRunningOutNameTheKeyAndWhatIsLeft() {
        // 10 users x 500 samples of 3 classes from classes of 400: the classes run out.
        let train = SyntheticLabels.labels([Int](repeating: 400, count: 10))
        let spec = UserSplitSpec.with { $0.users = 10; $0.samplesPerUser = 500; $0.classesPerUser = 3 }
        let error = #expect(throws: UserSplitError.self) {
            try UserSplit(spec: spec, seed: 1, trainLabels: train, testLabels: SyntheticLabels.test, classCount: 10,
                          classNames: (0..<10).map { "c\($0)" })
        }
        #expect(error?.key == "samplesPerUser")
        #expect(error?.message.contains("needs 167 samples from each of 3 classes") == true)
        #expect(error?.message.contains("class 0 (c0) ") == true)
        #expect(error?.message.contains("after users 0-") == true)
    }

    @Test func explicitListsShortOfSamplesNameTheUser() {
        let train = SyntheticLabels.labels([300, 300])
        let spec = UserSplitSpec.with { $0.users = 2; $0.userClasses = [[0], [0, 1]]; $0.samplesPerUser = 250; $0.testSamplesPerUser = 2 }
        let error = #expect(throws: UserSplitError.self) {
            try UserSplit(spec: spec, seed: 1, trainLabels: train, testLabels: [0, 0, 1, 1], classCount: 2)
        }
        #expect(error?.key == "samplesPerUser")
        #expect(error?.message == "user 1 (userClasses[1]) needs 125 samples of class 0; the train split has class 0 50 left after user 0 took its share")
    }

    @Test func impossibleSpecsAreErrorsNotCrashes() {
        let train = SyntheticLabels.train, test = SyntheticLabels.test
        func key(_ spec: UserSplitSpec, superclasses: [Int]? = nil, testLabels: [Int]? = nil) -> String? {
            do {
                _ = try UserSplit(spec: spec, seed: 0, trainLabels: train, trainSuperclassLabels: superclasses,
                                  testLabels: testLabels ?? test, classCount: 10)
                return nil
            } catch let error as UserSplitError {
                return error.key
            } catch {
                return "unexpected \(error)"
            }
        }
        #expect(key(.with { $0.classesPerUser = 11 }) == "classesPerUser")
        #expect(key(.with { $0.samplesPerUser = 2 }) == "samplesPerUser")
        #expect(key(.with { $0.users = 1; $0.userClasses = [[3, 10]] }) == "userClasses[0]")
        #expect(key(.with { $0.kind = .superclass }) == "kind")
        #expect(key(.with { $0.kind = .superclass }, superclasses: train.map { $0 == 0 ? ($0 + 1) : $0 % 2 }) == nil)
        #expect(key(.with { $0.testSamplesPerUser = 3001 }) == "testSamplesPerUser")
        let scarce = #expect(throws: UserSplitError.self) {
            try SyntheticLabels.split(.with { $0.kind = .dirichlet }, train: SyntheticLabels.labels([Int](repeating: 10, count: 10)))
        }
        #expect(scarce?.key == "samplesPerUser")
        #expect(scarce?.message == "user 0 needs at least 500 samples (minSamplesPerUser); the train split has 100 left")
        #expect(key(.with { $0.users = 1 }, testLabels: [0, 12]) == "dataset")
        // Superclass labels that put one class in two groups.
        #expect(key(.with { $0.kind = .superclass }, superclasses: train.indices.map { $0 % 2 }) == "dataset")
    }
}
