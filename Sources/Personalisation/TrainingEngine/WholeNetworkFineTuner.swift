import Foundation
import Models
import NN
import Tensor
import Training

/// The outcome of whole-network fine-tuning: a fine-tuned copy of the backbone (no exit
/// heads: the base's heads were trained on the old features) and what it cost.
public struct FineTuningResult {
    public var model: MultiExitModel
    public var report: CostReport
    /// Mean training loss per epoch (sample-weighted over the steps taken).
    public var epochLosses: [Double]
    /// Training stopped on a non-finite loss (the report's notes say where); the model holds
    /// the weights of the last finite step.
    public var diverged: Bool
}

/// The baseline PersEPhonEE is compared with: personalising the whole network, i.e.
/// fine-tuning backbone and final classifier on the same user data.
///
/// Targets: the true label of a labelled sample (when `supervised`), and for an unlabelled
/// one (when `selfSupervision`) the *initial* global model's argmax, computed once before
/// fine-tuning, masked below `confidenceThreshold`; weights as in `PersonalisationLoss`
/// (distillation does not apply: the final classifier would be its own teacher). Same
/// epochs, batch size, optimizer, cosine schedule and seed streams as the exit engine; no
/// augmentation, as for the cached features.
///
/// Batch norm: `batchNorm = eval` (default) freezes every BN layer, affine parameters and
/// running statistics, so it normalises with the global statistics: a few hundred samples
/// of 3 classes, in batches of 32, would otherwise replace the running statistics with
/// noisy, class-skewed ones. `train` uses batch statistics and updates them.
///
/// The shared base model is never written: the backbone is rebuilt from its architecture
/// and hyperparameters and its parameters and buffers copied in.
public struct WholeNetworkFineTuner {
    public let configuration: PersonalisationConfig

    public init(configuration: PersonalisationConfig) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    public func fineTune(_ base: MultiExitModel, on data: UserSamples) throws -> FineTuningResult {
        let c = configuration
        let start = Date()
        let probe = PeakMemoryProbe.start()
        if let problem = data.problem(for: base) {
            throw TrainingError(subject: "user data", message: problem, hint: "fine-tune with samples of the dataset the model was trained on")
        }
        let backbone = try copyBackbone(base.backbone)
        let network = backbone.network
        let inputShape = [1] + backbone.inputShape

        var extractionFLOPs = 0
        var teacher: Tensor?
        if c.selfSupervision {
            teacher = finalLogits(of: base.backbone, images: data.images, normalization: base.normalization,
                                  batchSize: c.extractionBatchSize)
            extractionFLOPs = base.backbone.forwardFLOPs * data.count
        }
        let (hardLabels, hardWeights) = PersonalisationLoss.hardTargets(labels: data.labels,
                                                                        teacherLogits: teacher, configuration: c)
        if c.batchNorm == .eval { for bn in batchNorms(in: network) { bn.setFrozen(true) } }
        let optimizer = makeOptimizer(c, parameters: network.parameters)
        let loop = EpochLoop(count: data.count, batchSize: c.batchSize, epochs: c.epochs, seed: c.seed,
                             schedule: EpochLoop.cosine(base: c.learningRate, epochs: c.epochs))
        let outcome = try loop.run { step, _ in
            let indices = step.indices
            let weights = indices.map { hardWeights[$0] }
            guard weights.contains(where: { $0 > 0 }) else { return .skipped }
            optimizer.learningRate = step.learningRate
            let x = Batches.make(from: data.images, indices: indices, normalization: base.normalization)
            let logits = network.forward(x, mode: .training(inputGradient: false))
            let loss = Loss.softmaxCrossEntropy(logits: logits, labels: indices.map { hardLabels[$0] }, weights: weights)
            // A non-finite loss stops the loop before this update (no network of NaNs that looks trained).
            return .loss(Double(loss.loss)) {
                _ = network.backward(loss.dLogits)
                optimizer.step()
                network.zeroGradients()
            }
        }
        let steps = outcome.steps, trainedSamples = outcome.trainedSamples, skipped = outcome.skipped
        let diverged = outcome.diverged
        // Counted while BN is still as trained (frozen BN: no dWeight), then unfrozen so the
        // copy behaves like any model.
        let stepFLOPs = network.trainingStepFLOPs(for: inputShape, inputGradient: false)
        if c.batchNorm == .eval { for bn in batchNorms(in: network) { bn.setFrozen(false) } }
        var notes = ["no augmentation, as for the exit engine's cached features", "batch norm: \(c.batchNorm.rawValue)"]
        if c.distillation { notes.append("distillation does not apply to the final classifier and was ignored") }
        if skipped > 0 { notes.append("\(skipped) batch(es) with no labelled or pseudo-labelled sample skipped") }
        if let diverged { notes.append(diverged) }
        let memory = probe.finish()
        let report = CostReport(method: "whole-network", samples: data.count, epochs: c.epochs, steps: steps,
                                trainedSamples: trainedSamples, extractionFLOPs: extractionFLOPs,
                                trainingStepFLOPs: stepFLOPs * trainedSamples,
                                wallSeconds: Date().timeIntervalSince(start), peakMemoryDeltaBytes: memory.bytes,
                                peakMemoryMethod: memory.method, featureCacheBytes: 0, featureStorage: "none", notes: notes)
        let model = MultiExitModel(backbone: backbone, normalization: base.normalization, dataset: base.dataset)
        model.pretraining = base.pretraining
        return FineTuningResult(model: model, report: report, epochLosses: outcome.epochLosses, diverged: diverged != nil)
    }
}

/// A new backbone of the same architecture and hyperparameters holding copies of
/// `backbone`'s parameters and buffers.
func copyBackbone(_ backbone: Backbone) throws -> Backbone {
    let copy = try Architecture.rebuild(backbone.architecture, hyperparameters: backbone.hyperparameters,
                                        file: "the base model")
    copyState(from: backbone.network, to: copy.network)
    return copy
}

/// The final classifier's logits (N, K) for `images` ((N, C, H, W) in [0, 1]), inference mode.
func finalLogits(of backbone: Backbone, images: Tensor, normalization: InputNormalization, batchSize: Int) -> Tensor {
    let n = images.shape[0]
    var out: [Float] = []
    out.reserveCapacity(n * backbone.classes)
    let order = Array(0..<n)
    for range in Batches.ranges(count: n, batchSize: batchSize, training: false) {
        let x = Batches.make(from: images, indices: order[range], normalization: normalization)
        out.append(contentsOf: backbone.network.forward(x, mode: .inference).scalars)
    }
    return Tensor(shape: [n, backbone.classes], scalars: out)
}

/// Every batch-norm layer inside `layer` (through `Sequential` and `ResidualBlock`).
func batchNorms(in layer: any Layer) -> [BatchNorm2d] {
    if let bn = layer as? BatchNorm2d { return [bn] }
    if let s = layer as? Sequential { return s.children.flatMap { batchNorms(in: $0.layer) } }
    if let r = layer as? ResidualBlock { return batchNorms(in: r.main) + (r.shortcut.map { batchNorms(in: $0) } ?? []) }
    return []
}
