import Foundation
import Models
import NN
import Tensor

/// Everything that determines an offline exit-training run. Defaults and their reasons:
/// docs/training.md.
public struct ExitTrainingConfiguration: Codable, Equatable, Sendable {
    /// Exit point names (`block2`, ...), any order; heads are kept in network order.
    public var points: [String]
    /// `conv` or `sdn`.
    public var head: String
    /// Conv head: number of conv 3x3 + BN + ReLU blocks (1 or 2).
    public var headBlocks: Int
    /// Conv head: channels of its convolutions (nil: the channels at the point).
    public var headWidth: Int?
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    public var seed: UInt64
    public var augmentation: Augmentation

    public init(points: [String], head: String = "conv", headBlocks: Int = 1, headWidth: Int? = nil, epochs: Int = 10,
                batchSize: Int = 128, learningRate: Float = 0.05, momentum: Float = 0.9, weightDecay: Float = 5e-4,
                seed: UInt64 = 1, augmentation: Augmentation = Augmentation()) {
        self.points = points; self.head = head; self.headBlocks = headBlocks; self.headWidth = headWidth
        self.epochs = epochs; self.batchSize = batchSize; self.learningRate = learningRate
        self.momentum = momentum; self.weightDecay = weightDecay; self.seed = seed; self.augmentation = augmentation
    }

    /// Why the configuration cannot run on `backbone`, or nil.
    public func problem(for backbone: Backbone) -> String? {
        if points.isEmpty { return "no exit points given" }
        if Set(points).count != points.count { return "exit points \(points) repeat a point" }
        let known = backbone.exitPoints.map(\.name)
        if let bad = points.first(where: { !known.contains($0) }) {
            return "\(backbone.architecture) has no exit point \"\(bad)\"; its points are \(known.joined(separator: ", "))"
        }
        if head != "conv" && head != "sdn" { return "head kind must be conv or sdn, got \(head)" }
        if head == "conv" && !(1...2).contains(headBlocks) { return "head blocks must be 1 or 2, got \(headBlocks)" }
        if let w = headWidth, w < 1 { return "head width must be positive, got \(w)" }
        for name in points {
            let point = backbone.exitPoint(named: name)!
            if let problem = backbone.earlyExitProblem(at: point, head: headKind(at: point)) {
                let early = backbone.earlyExitPoints(head: headKind(at:)).map(\.name)
                return problem + "; early points for this head: " + (early.isEmpty ? "none" : early.joined(separator: ", "))
            }
        }
        if epochs < 1 { return "epochs must be at least 1, got \(epochs)" }
        if batchSize < 2 { return "batch size must be at least 2 (batch norm), got \(batchSize)" }
        if !(learningRate > 0) { return "learning rate must be positive, got \(learningRate)" }
        if !(momentum > 0 && momentum < 1) { return "momentum must be in (0, 1), got \(momentum)" }
        if !(weightDecay >= 0) { return "weight decay must be >= 0, got \(weightDecay)" }
        return nil
    }

    /// The head kind for features at `point`.
    public func headKind(at point: ExitPoint) -> ExitHeadKind {
        head == "sdn" ? .sdn : .conv(blocks: headBlocks, width: headWidth ?? point.featureShape[0])
    }

    /// One point per stage, a stage being a maximal run of blocks with the same spatial
    /// size: the middle one (the later one of two middles) of the stage's early points
    /// for this configuration's head (`Backbone.earlyExitPoints`). It spreads the exits
    /// over the depth; a stage without an early point (ResNet-8's last stage, whose only
    /// block is the last block) gets no exit.
    public func defaultPoints(for backbone: Backbone) -> [String] {
        let early = Set(backbone.earlyExitPoints(head: headKind(at:)).map(\.name))
        var stages: [[ExitPoint]] = []
        for point in backbone.exitPoints {
            if let last = stages.last?.last, Array(last.featureShape.dropFirst()) == Array(point.featureShape.dropFirst()) {
                stages[stages.count - 1].append(point)
            } else {
                stages.append([point])
            }
        }
        return stages.compactMap { stage in
            let candidates = stage.filter { early.contains($0.name) }
            return candidates.isEmpty ? nil : candidates[candidates.count / 2].name
        }
    }

    /// Every early point for this configuration's head (`--points all`).
    public func allEarlyPoints(for backbone: Backbone) -> [String] {
        backbone.earlyExitPoints(head: headKind(at:)).map(\.name)
    }
}

/// The offline exit stage (SDN "IC-only", Kaya et al. 2019): heads attached to a frozen
/// pretrained backbone and trained on the global training split with the sum of their
/// cross-entropy losses. Since the heads share no parameters, the summed loss gives each
/// head the gradient of its own loss.
///
/// Per batch the backbone runs once, in inference mode (batch-norm running statistics
/// untouched), child by child up to the deepest chosen point, keeping the features at
/// each point; each head then trains on its features. Backbone tensors are never written.
public final class ExitTrainer {
    public let model: MultiExitModel
    public let configuration: ExitTrainingConfiguration
    public let data: TrainingData

    public init(model: MultiExitModel, configuration: ExitTrainingConfiguration, data: TrainingData) throws {
        if let problem = configuration.problem(for: model.backbone) {
            throw TrainingError(subject: "exits train", message: problem, hint: "fix the argument")
        }
        guard data.identity.classNames.count == model.backbone.classes,
              Array(data.train.images.shape.dropFirst()) == model.backbone.inputShape else {
            throw TrainingError(subject: data.identity.name,
                                message: "has \(data.identity.classNames.count) classes of images \(Array(data.train.images.shape.dropFirst())), the model expects \(model.backbone.classes) of \(model.backbone.inputShape)",
                                hint: "train exits on the dataset the backbone was pretrained on")
        }
        self.model = model; self.configuration = configuration; self.data = data
    }

    /// Attaches fresh heads at the configured points (replacing heads already there),
    /// trains them, records the run in `model.exitTraining`, and returns the final test
    /// evaluation of every classifier.
    @discardableResult
    public func run(progress: (TrainingEvent) -> Void = { _ in }) throws -> EvaluationResult {
        let c = configuration
        let train = data.train
        let backbone = model.backbone
        backbone.network.setFrozen(true)
        var initGenerator = SeededGenerator(seed: c.seed).derived(0)
        let points = backbone.exitPoints.filter { c.points.contains($0.name) }
        let heads = points.map { model.attachExit(at: $0, kind: c.headKind(at: $0), generator: &initGenerator) }
        let deepest = points.map(\.childIndex).max()!
        let parameters = heads.flatMap { $0.head.parameters }
        let optimizer = SGD(parameters: parameters, learningRate: c.learningRate, momentum: c.momentum,
                                    weightDecay: c.weightDecay)
        let loop = EpochLoop(count: train.count, batchSize: c.batchSize, epochs: c.epochs, seed: c.seed,
                             schedule: { .cosine(base: c.learningRate, steps: c.epochs * $0) })
        let imagesPerEpoch = loop.batches.reduce(0) { $0 + $1.count }
        var throughput = Throughput()
        var result: EvaluationResult?
        var epochStart = Date()
        var lossSum = 0.0, correct = 0, seen = 0
        // The commit closures call `progress` while the loop runs, never after.
        let outcome = try withoutActuallyEscaping(progress) { progress in try loop.run(step: { step, generator in
            if step.index == 0 { epochStart = Date(); lossSum = 0; correct = 0; seen = 0 }
            optimizer.learningRate = step.learningRate
            let indices = step.indices
            var x = Batches.make(from: train.images, indices: indices, normalization: model.normalization,
                                 augmentation: c.augmentation, generator: &generator)
            let labels = indices.map { train.labels[$0] }
            var features: [Int: Tensor] = [:]
            for i in 0...deepest {
                x = backbone.network.children[i].layer.forward(x, mode: .inference)
                if points.contains(where: { $0.childIndex == i }) { features[i] = x }
            }
            var batchLoss = 0.0, batchCorrect = 0
            for exit in heads {
                let logits = exit.head.forward(features[exit.point.childIndex]!, mode: .training(inputGradient: false))
                let loss = Loss.softmaxCrossEntropy(logits: logits, labels: labels)
                _ = exit.head.backward(loss.dLogits)
                batchLoss += Double(loss.loss)
                batchCorrect += zip(argmaxRows(logits.scalars, rows: indices.count, columns: logits.shape[1]), labels)
                    .filter { $0 == $1 }.count
            }
            return .loss(batchLoss) {
                optimizer.step()
                for exit in heads { exit.head.zeroGradients() }
                lossSum += batchLoss * Double(indices.count)
                correct += batchCorrect
                seen += indices.count
                throughput.images += indices.count
                let remaining = imagesPerEpoch - seen + (c.epochs - step.epoch - 1) * imagesPerEpoch
                progress(.step(StepProgress(epoch: step.epoch + 1, epochs: c.epochs, step: step.index + 1,
                                            steps: loop.stepsPerEpoch, loss: lossSum / Double(seen),
                                            accuracy: Double(correct) / Double(seen * heads.count),
                                            imagesPerSecond: throughput.imagesPerSecond(),
                                            etaSeconds: throughput.eta(remainingImages: remaining),
                                            learningRate: optimizer.learningRate)))
            }
        }, endOfEpoch: { end in
            let evaluation = Evaluation.evaluate(model, on: data.test)
            result = evaluation
            progress(.epoch(EpochSummary(epoch: end.epoch + 1, epochs: c.epochs, trainLoss: end.meanLoss,
                                         trainAccuracy: Double(correct) / Double(max(1, seen * heads.count)),
                                         testAccuracies: evaluation.classifiers.map { ($0.name, $0.accuracy) },
                                         seconds: Date().timeIntervalSince(epochStart))))
            return true
        }) }
        if let diverged = outcome.diverged {
            throw TrainingError(subject: "exits train", message: diverged, hint: "rerun with a lower --lr")
        }
        // configuration.problem guarantees at least one epoch.
        let final = result!
        var accuracies: [String: Double] = [:]
        for r in final.classifiers where c.points.contains(r.name) { accuracies[r.name] = r.accuracy }
        model.exitTraining = ExitTrainingRecord(configuration: c, testAccuracies: accuracies)
        return final
    }
}
