/// The dataset a model was trained on: its name and the checksum from its dataset.json
/// (`fnv1a64:...` over the tree's PNG files, docs/datasets.md).
public struct DatasetIdentity: Codable, Equatable, Sendable {
    public var name: String
    public var checksum: String
    /// Class names in label order.
    public var classNames: [String]

    public init(name: String, checksum: String, classNames: [String]) {
        self.name = name; self.checksum = checksum; self.classNames = classNames
    }
}

/// How a backbone was pretrained (stored in the checkpoint's metadata as JSON).
public struct PretrainingRecord: Codable, Equatable, Sendable {
    public var configuration: PretrainConfiguration
    /// Test accuracy after each epoch, in [0, 1].
    public var testAccuracies: [Double]
    /// Mean training loss of each epoch.
    public var trainLosses: [Double]

    public init(configuration: PretrainConfiguration, testAccuracies: [Double], trainLosses: [Double]) {
        self.configuration = configuration; self.testAccuracies = testAccuracies; self.trainLosses = trainLosses
    }

    /// Test accuracy of the final epoch.
    public var testAccuracy: Double? { testAccuracies.last }
}

/// How the exit heads were trained (stored in the checkpoint's metadata as JSON).
public struct ExitTrainingRecord: Codable, Equatable, Sendable {
    public var configuration: ExitTrainingConfiguration
    /// Test accuracy per exit point name after the last epoch.
    public var testAccuracies: [String: Double]

    public init(configuration: ExitTrainingConfiguration, testAccuracies: [String: Double]) {
        self.configuration = configuration; self.testAccuracies = testAccuracies
    }
}
