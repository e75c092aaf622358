import ArgumentParser
import Datasets
import Foundation

/// `persephone users`: deal simulated users from a dataset tree and show the split, without
/// training anything (docs/users.md). Only labels are needed, so no image is decoded.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Show the simulated users a split spec deals from a dataset (classes, counts, labels, validation, test).",
        discussion: """
            --split is classes:K (K random classes per user), classes:0,1,2;3,4,5 (explicit \
            class lists, one per user), superclass (one superclass group per user, round-robin), \
            superclass:random, or dirichlet:ALPHA. Options left out take the spec defaults of \
            docs/users.md.
            """)

    @Option(help: "Dataset directory (the one holding dataset.json).")
    var dataset: String

    @Option(help: "classes:K, classes:0,1,2;3,4,5, superclass, superclass:random or dirichlet:ALPHA.")
    var split = "classes:3"

    @Option(help: "Number of users (default 10; an explicit class list sets it).")
    var users: Int?

    @Option(help: "Samples per user from the train split, validation included (default 500).")
    var samples: Int?

    @Option(help: "Labelled fraction of each user's training and validation samples (default 1).")
    var labelled: Double?

    @Option(help: "Validation fraction of each user's samples (default 0.2).")
    var validation: Double?

    @Option(help: "Test samples per user (default 200).")
    var test: Int?

    @Option(name: .customLong("min-samples"), help: "dirichlet: smallest acceptable user size (default --samples).")
    var minSamples: Int?

    @Option(help: "Seed of the split.")
    var seed: UInt64 = 0

    @Option(name: .customLong("round-size"), help: "Also show the data-growth rounds of this many samples each.")
    var roundSize: Int?

    @Option(name: .customLong("train-split"), help: "Split the users' samples come from.")
    var trainSplit = "train"

    @Option(name: .customLong("test-split"), help: "Split the users' test samples come from.")
    var testSplit = "test"

    @Flag(help: "Print the split as JSON (spec, seed, and every user's sample indices and counts).")
    var json = false

    func validate() throws {
        if let roundSize, roundSize < 1 { throw ValidationError("--round-size must be at least 1") }
    }

    /// The spec from the options: the split syntax first, then the explicit options.
    func spec() throws -> UserSplitSpec {
        var spec = UserSplitSpec()
        try spec.apply(splitSyntax: split)
        if let users {
            if let lists = spec.userClasses, lists.count != users {
                throw ValidationError("--users \(users) but --split lists classes for \(lists.count) users; drop --users or make them agree")
            }
            spec.users = users
        }
        if let samples { spec.samplesPerUser = samples }
        if let labelled { spec.labelledFraction = labelled }
        if let validation { spec.validationFraction = validation }
        if let test { spec.testSamplesPerUser = test }
        if let minSamples { spec.minSamplesPerUser = minSamples }
        return spec
    }

    func run() throws {
        try DatasetsCLI.reportingErrors {
            let tree = try DatasetTree(root: dataset)
            let spec = try spec()
            // Labels come from the file listing (sample order is by class, then file name),
            // which is what `load(split:)` would give, without decoding any PNG.
            let trainLabels = try tree.list(split: trainSplit).entries.map(\.label)
            let testLabels = try tree.list(split: testSplit).entries.map(\.label)
            let superclassLabels = tree.manifest.superclassOfClass.map { map in trainLabels.map { map[$0] } }
            let names = tree.manifest.classes.map(\.name)
            let userSplit = try UserSplit(spec: spec, seed: seed, trainLabels: trainLabels,
                                          trainSuperclassLabels: superclassLabels, testLabels: testLabels,
                                          classCount: names.count, classNames: names)
            if json {
                print(try jsonReport(userSplit, tree: tree, trainLabels: trainLabels, testLabels: testLabels))
            } else {
                print(textReport(userSplit, tree: tree, trainLabels: trainLabels, testLabels: testLabels))
            }
        }
    }

    func textReport(_ userSplit: UserSplit, tree: DatasetTree, trainLabels: [Int], testLabels: [Int]) -> String {
        let spec = userSplit.spec
        let names = tree.manifest.classes.map(\.name)
        let groupNames = tree.manifest.superclasses?.map(\.name)
        var lines = [
            "dataset \(tree.manifest.name) (\(tree.root)), split \(split), seed \(userSplit.seed)",
            "\(spec.users) users x \(spec.samplesPerUser) samples (validation \(spec.validationFraction), "
                + "labelled \(spec.labelledFraction)), \(spec.testSamplesPerUser) test samples each",
        ]
        for user in userSplit.users {
            var title = "user \(user.index): " + user.classes.map { "\($0) \(names[$0])" }.joined(separator: ", ")
            if let g = user.superclass { title += " (superclass \(g)" + (groupNames.map { " \($0[g])" } ?? "") + ")" }
            lines.append("")
            lines.append(title)
            let rows = user.classCounts(trainLabels: trainLabels, testLabels: testLabels)
            var table = [["class", "train", "labelled", "validation", "val-labelled", "test"]]
            for row in rows {
                table.append(["\(row.label) \(names[row.label])", String(row.train), String(row.trainLabelled),
                              String(row.validation), String(row.validationLabelled), String(row.test)])
            }
            func total(_ value: (UserClassCounts) -> Int) -> String { String(rows.reduce(0) { $0 + value($1) }) }
            table.append(["total", total(\.train), total(\.trainLabelled), total(\.validation),
                          total(\.validationLabelled), total(\.test)])
            lines += DatasetsCLI.table(table)
            if let roundSize {
                let rounds = user.growth(step: roundSize)
                lines.append("  rounds of \(roundSize): " + rounds.map { "\($0.count) (\($0.labelledIndices.count) labelled)" }
                    .joined(separator: ", "))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The split as JSON: the resolved spec, seed, dataset identity, and per user its
    /// per-class counts and every sample index (so a run can be reproduced from it).
    func jsonReport(_ userSplit: UserSplit, tree: DatasetTree, trainLabels: [Int], testLabels: [Int]) throws -> String {
        struct Round: Encodable { var samples: Int; var labelled: Int }
        struct User: Encodable {
            var user: SimulatedUser
            var counts: [UserClassCounts]
            var rounds: [Round]?
            func encode(to encoder: Encoder) throws {
                try user.encode(to: encoder)
                enum Keys: String, CodingKey { case counts, rounds }
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(counts, forKey: .counts)
                try c.encodeIfPresent(rounds, forKey: .rounds)
            }
        }
        struct Report: Encodable {
            var dataset: String
            var checksum: String
            var trainSplit: String
            var testSplit: String
            var spec: UserSplitSpec
            var seed: UInt64
            var users: [User]
        }
        let report = Report(
            dataset: tree.manifest.name, checksum: tree.manifest.checksum, trainSplit: trainSplit, testSplit: testSplit,
            spec: userSplit.spec, seed: userSplit.seed,
            users: userSplit.users.map { user in
                User(user: user, counts: user.classCounts(trainLabels: trainLabels, testLabels: testLabels),
                     rounds: roundSize.map { m in user.growth(step: m).map { Round(samples: $0.count, labelled: $0.labelledIndices.count) } })
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }
}
