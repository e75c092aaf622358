import Foundation
import Models

/// How a backbone was pretrained (stored in the checkpoint's metadata as JSON).
public struct PretrainingRecord: Codable, Equatable, Sendable {
    /// Its key in `MultiExitModel.trainingRecords` and the checkpoint metadata.
    public static let key = "pretraining"
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
    /// Its key in `MultiExitModel.trainingRecords` and the checkpoint metadata.
    public static let key = "exit_training"
    public var configuration: ExitTrainingConfiguration
    /// Test accuracy per exit point name after the last epoch.
    public var testAccuracies: [String: Double]

    public init(configuration: ExitTrainingConfiguration, testAccuracies: [String: Double]) {
        self.configuration = configuration; self.testAccuracies = testAccuracies
    }
}

/// The model's training records, typed: the JSON in `trainingRecords` is written and read
/// only here and by `ModelCheckpoint.load`, which checks it decodes.
extension MultiExitModel {
    public var pretraining: PretrainingRecord? {
        get { record(PretrainingRecord.self, PretrainingRecord.key) }
        set { trainingRecords[PretrainingRecord.key] = newValue.map(ModelCheckpoint.json) }
    }

    public var exitTraining: ExitTrainingRecord? {
        get { record(ExitTrainingRecord.self, ExitTrainingRecord.key) }
        set { trainingRecords[ExitTrainingRecord.key] = newValue.map(ModelCheckpoint.json) }
    }

    private func record<T: Decodable>(_ type: T.Type, _ key: String) -> T? {
        trainingRecords[key].flatMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }
}
