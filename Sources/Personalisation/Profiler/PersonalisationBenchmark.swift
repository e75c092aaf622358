import Foundation
import Models
import Tensor
import Training

/// Both ways of personalising one user, timed on the same data and epochs (the
/// paper's training-cost comparison for one user). Accuracies are on `test`.
public struct PersonalisationBenchmarkResult: Codable, Sendable {
    public var exits: CostReport
    public var fineTuning: CostReport
    /// exits.wallSeconds / fineTuning.wallSeconds.
    public var timeRatio: Double
    /// exits.totalFLOPs / fineTuning.totalFLOPs.
    public var flopRatio: Double
    /// Per head (point name): accuracy of the offline head, then of the personalised head.
    public var offlineExitAccuracies: [String: Double]
    public var personalisedExitAccuracies: [String: Double]
    /// The global model's final classifier, then the fine-tuned one.
    public var globalFinalAccuracy: Double
    public var fineTunedFinalAccuracy: Double
}

public enum PersonalisationBenchmark {
    /// Personalises `base`'s exit heads on `train`, then fine-tunes the whole network on
    /// the same samples with the same configuration, and scores both on `test` (every
    /// sample labelled). Run one benchmark at a time: the wall times are of this process.
    public static func run(base: MultiExitModel, train: UserSamples, test: UserSamples,
                           configuration: PersonalisationConfig) throws -> PersonalisationBenchmarkResult {
        let exits = try ExitPersonaliser(configuration: configuration).personalise(base, on: train)
        let fineTuned = try WholeNetworkFineTuner(configuration: configuration).fineTune(base, on: train)
        let batch = configuration.extractionBatchSize
        let offline = accuracies(of: base.forward, on: test, normalization: base.normalization, batchSize: batch)
        let personal = accuracies(of: exits.model.forward, on: test, normalization: base.normalization, batchSize: batch)
        let tuned = accuracies(of: fineTuned.model.forward, on: test, normalization: base.normalization, batchSize: batch)
        let names = base.exits.map(\.point.name)
        return PersonalisationBenchmarkResult(
            exits: exits.report, fineTuning: fineTuned.report,
            timeRatio: exits.report.wallSeconds / fineTuned.report.wallSeconds,
            flopRatio: Double(exits.report.totalFLOPs) / Double(fineTuned.report.totalFLOPs),
            offlineExitAccuracies: Dictionary(uniqueKeysWithValues: zip(names, offline.exits)),
            personalisedExitAccuracies: Dictionary(uniqueKeysWithValues: zip(names, personal.exits)),
            globalFinalAccuracy: offline.final, fineTunedFinalAccuracy: tuned.final)
    }

    /// Top-1 accuracy of every exit and of the final classifier of `forward` (a
    /// `MultiExitModel`'s) on `data` (an unlabelled sample counts as wrong; a user's test
    /// samples are all labelled).
    public static func accuracies(of forward: (Tensor) -> MultiExitOutput, on data: UserSamples,
                                  normalization: InputNormalization, batchSize: Int = 256) -> (exits: [Double], final: Double) {
        var correct: [Int] = []
        let order = Array(0..<data.count)
        for range in Batches.ranges(count: data.count, batchSize: batchSize, training: false) {
            let out = forward(Batches.make(from: data.images, indices: order[range], normalization: normalization))
            let all = out.exitLogits + [out.finalLogits]
            if correct.isEmpty { correct = [Int](repeating: 0, count: all.count) }
            for (c, logits) in all.enumerated() {
                let predicted = rowArgmax(logits.scalars, rows: range.count, columns: logits.shape[1])
                correct[c] += zip(predicted, data.labels[range]).filter { $0 == $1 }.count
            }
        }
        guard data.count > 0 else { return ([], 0) }
        let rates = correct.map { Double($0) / Double(data.count) }
        return (Array(rates.dropLast()), rates.last!)
    }
}
