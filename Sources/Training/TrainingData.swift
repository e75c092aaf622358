import Datasets
import Foundation
import Models

/// A dataset tree's training and test splits in memory, with its identity.
public struct TrainingData: Sendable {
    public var identity: DatasetIdentity
    public var train: DatasetSplit
    public var test: DatasetSplit

    public init(identity: DatasetIdentity, train: DatasetSplit, test: DatasetSplit) {
        self.identity = identity; self.train = train; self.test = test
    }

    /// Loads `train` and `test` (through the decoded cache) from the tree at `directory`.
    public static func load(directory: String, trainSplit: String = "train", testSplit: String = "test",
                            log: @escaping (String) -> Void = { _ in }) throws -> TrainingData {
        let tree = try DatasetTree(root: directory)
        let train = try tree.load(split: trainSplit, log: log).split
        let test = try tree.load(split: testSplit, log: log).split
        guard train.count >= 2 else {
            throw TrainingError(subject: tree.path(trainSplit), message: "split \(trainSplit) has \(train.count) image(s)",
                                hint: "training needs at least 2 images")
        }
        return TrainingData(identity: identity(of: tree), train: train, test: test)
    }

    public static func identity(of tree: DatasetTree) -> DatasetIdentity {
        DatasetIdentity(name: tree.manifest.name, checksum: tree.manifest.checksum,
                        classNames: tree.manifest.classes.map(\.name))
    }
}
