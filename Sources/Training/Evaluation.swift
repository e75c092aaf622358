import Datasets
import Foundation
import Models
import NN
import Tensor

/// Accuracy and cost of one classifier of a multi-exit model on a split.
public struct ClassifierResult: Equatable, Sendable, Codable {
    /// Exit point name (`block2`) or `final`.
    public var name: String
    public var correct: Int
    public var total: Int
    /// Forward FLOPs for one sample: backbone through the exit's point plus its head (the
    /// whole network for `final`).
    public var cumulativeFLOPs: Int
    public var accuracy: Double { total == 0 ? 0 : Double(correct) / Double(total) }
}

/// Every classifier's result on a split, and optionally each sample's predictions.
public struct EvaluationResult: Sendable {
    /// The exits in network order, then `final`.
    public var classifiers: [ClassifierResult]
    /// Per classifier (same order), per sample: predicted class.
    public var predictions: [[Int]]
    /// Per classifier, per sample: softmax probability of the predicted class.
    public var confidences: [[Float]]
    public var labels: [Int]
}

public enum Evaluation {
    /// Runs `model` in inference mode over `split` (normalised with the model's own
    /// statistics) in batches of `batchSize`, scoring every exit and the final classifier.
    public static func evaluate(_ model: MultiExitModel, on split: DatasetSplit, batchSize: Int = 256,
                                keepPredictions: Bool = false) -> EvaluationResult {
        let names = model.exits.map(\.point.name) + ["final"]
        let flops = model.exits.map { model.cumulativeFLOPs(of: $0) } + [model.backbone.forwardFLOPs]
        var correct = [Int](repeating: 0, count: names.count)
        var predictions = [[Int]](repeating: [], count: names.count)
        var confidences = [[Float]](repeating: [], count: names.count)
        let order = Array(0..<split.count)
        for range in Batches.ranges(count: split.count, batchSize: batchSize, training: false) {
            let x = Batches.make(from: split.images, indices: order[range], normalization: model.normalization)
            let out = model.forward(x)
            for (c, logits) in (out.exitLogits + [out.finalLogits]).enumerated() {
                let k = logits.shape[1]
                let predicted = argmaxRows(logits.scalars, rows: range.count, columns: k)
                for (i, p) in predicted.enumerated() where p == split.labels[range.lowerBound + i] { correct[c] += 1 }
                if keepPredictions {
                    let probabilities = Loss.softmax(logits).scalars
                    predictions[c] += predicted
                    confidences[c] += predicted.enumerated().map { probabilities[$0.offset * k + $0.element] }
                }
            }
        }
        let classifiers = names.indices.map {
            ClassifierResult(name: names[$0], correct: correct[$0], total: split.count, cumulativeFLOPs: flops[$0])
        }
        return EvaluationResult(classifiers: classifiers, predictions: predictions, confidences: confidences,
                                labels: split.labels)
    }
}
