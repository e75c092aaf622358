/// One row of a user's per-class tally: how many of the user's samples of `label` are in
/// each part of the split.
public struct UserClassCounts: Codable, Equatable, Sendable {
    public var label: Int
    public var train: Int
    public var trainLabelled: Int
    public var validation: Int
    public var validationLabelled: Int
    public var test: Int
}

extension SimulatedUser {
    /// Per-class tallies for the user's classes (ascending), plus any class found only in
    /// its test set. `trainLabels` and `testLabels` are the labels the split was dealt from.
    public func classCounts(trainLabels: [Int], testLabels: [Int]) -> [UserClassCounts] {
        var rows = [Int: UserClassCounts]()
        func row(_ label: Int, _ change: (inout UserClassCounts) -> Void) {
            var r = rows[label] ?? UserClassCounts(label: label, train: 0, trainLabelled: 0, validation: 0,
                                                   validationLabelled: 0, test: 0)
            change(&r)
            rows[label] = r
        }
        for (i, labelled) in zip(train, trainLabelled) {
            row(trainLabels[i]) { $0.train += 1; if labelled { $0.trainLabelled += 1 } }
        }
        for (i, labelled) in zip(validation, validationLabelled) {
            row(trainLabels[i]) { $0.validation += 1; if labelled { $0.validationLabelled += 1 } }
        }
        for i in test { row(testLabels[i]) { $0.test += 1 } }
        return rows.keys.sorted().map { rows[$0]! }
    }
}
