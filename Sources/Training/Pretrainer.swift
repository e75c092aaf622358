import Datasets
import Foundation
import Models
import NN
import Tensor

/// Everything that determines a pretraining run (with the dataset's checksum): a resume
/// is only allowed when this is unchanged. Defaults and their reasons: docs/training.md.
public struct PretrainConfiguration: Codable, Equatable, Sendable {
    public var architecture: String
    /// ResNet stage widths (nil: 16, 32, 64).
    public var widths: [Int]?
    /// MobileNetV2 width multiplier (nil: 0.5).
    public var widthMultiplier: Double?
    public var epochs: Int
    public var batchSize: Int
    /// Peak learning rate of the cosine schedule.
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: Float
    /// Epochs of linear warm-up before the cosine decay (0: none).
    public var warmupEpochs: Int
    public var seed: UInt64
    public var augmentation: Augmentation

    public init(architecture: String, widths: [Int]? = nil, widthMultiplier: Double? = nil, epochs: Int = 30,
                batchSize: Int = 128, learningRate: Float = 0.1, momentum: Float = 0.9, weightDecay: Float = 5e-4,
                warmupEpochs: Int = 0, seed: UInt64 = 1, augmentation: Augmentation = Augmentation()) {
        self.architecture = architecture; self.widths = widths; self.widthMultiplier = widthMultiplier
        self.epochs = epochs; self.batchSize = batchSize; self.learningRate = learningRate
        self.momentum = momentum; self.weightDecay = weightDecay; self.warmupEpochs = warmupEpochs
        self.seed = seed; self.augmentation = augmentation
    }

    /// Why the configuration cannot run, or nil.
    public var problem: String? {
        if let p = Architecture.problem(with: architecture) { return p }
        if epochs < 1 { return "epochs must be at least 1, got \(epochs)" }
        if batchSize < 2 { return "batch size must be at least 2 (batch norm), got \(batchSize)" }
        if !(learningRate > 0) { return "learning rate must be positive, got \(learningRate)" }
        if !(momentum > 0 && momentum < 1) { return "momentum must be in (0, 1), got \(momentum)" }
        if !(weightDecay >= 0) { return "weight decay must be >= 0, got \(weightDecay)" }
        if warmupEpochs < 0 || warmupEpochs >= epochs { return "warm-up epochs must be in 0..<epochs, got \(warmupEpochs)" }
        return nil
    }

    /// Per-step learning rate: linear warm-up over the first `warmupEpochs`, then cosine
    /// decay to 0 over the rest.
    public func schedule(stepsPerEpoch: Int) -> LearningRateSchedule {
        let warmup = warmupEpochs * stepsPerEpoch
        let cosine = LearningRateSchedule.cosine(base: learningRate, steps: epochs * stepsPerEpoch - warmup)
        return warmup > 0 ? .warmup(steps: warmup, then: cosine) : cosine
    }
}

/// Pretraining a backbone from scratch: SGD with momentum on softmax cross-entropy, a
/// per-step schedule, augmentation and normalisation by the training split's statistics,
/// test accuracy after every epoch, and a resume file (`<out>.resume`) after every epoch.
///
/// Randomness: the initial weights come from `seed`'s stream 0, epoch e's shuffle and
/// augmentation from stream e + 1 (`SeededGenerator.derived`), so the generator state at
/// an epoch boundary is a function of (seed, epoch) and a resumed run draws exactly what
/// an uninterrupted one would.
public final class Pretrainer {
    public let configuration: PretrainConfiguration
    public let data: TrainingData
    public let output: URL
    public var resumeFile: URL { output.appendingPathExtension("resume") }

    public init(configuration: PretrainConfiguration, data: TrainingData, output: URL) throws {
        if let problem = configuration.problem {
            throw TrainingError(subject: "pretrain", message: problem, hint: "fix the argument")
        }
        try TrainingError.checkWritable(output)
        self.configuration = configuration; self.data = data; self.output = output
    }

    /// Trains (continuing from the resume file when there is one), writes the final
    /// checkpoint atomically, removes the resume file, and returns the model.
    /// `stopAfterEpoch` ends the run early after that many finished epochs, leaving the
    /// resume file as an interruption would (for tests and time-boxed runs); it then
    /// returns nil.
    @discardableResult
    public func run(stopAfterEpoch: Int? = nil, progress: (TrainingEvent) -> Void = { _ in }) throws -> MultiExitModel? {
        let c = configuration
        let train = data.train, test = data.test
        let normalization = InputNormalization(statisticsOf: train.mean, train.std)
        var initGenerator = SeededGenerator(seed: c.seed).derived(0)
        let backbone = try Architecture.make(c.architecture, inputShape: Array(train.images.shape.dropFirst()),
                                             classes: train.classNames.count, widths: c.widths,
                                             widthMultiplier: c.widthMultiplier, generator: &initGenerator)
        let model = MultiExitModel(backbone: backbone, normalization: normalization, dataset: data.identity)
        let network = backbone.network
        let optimizer = SGD(parameters: network.parameters, learningRate: c.learningRate,
                                    momentum: c.momentum, weightDecay: c.weightDecay)
        var history = ResumeState.History()
        if FileManager.default.fileExists(atPath: resumeFile.path) {
            history = try ResumeState.read(from: resumeFile, configuration: c, datasetChecksum: data.identity.checksum,
                                           network: network, optimizer: optimizer)
            progress(.resumed(file: resumeFile.path, epochsDone: history.epochsDone))
        }
        let loop = EpochLoop(count: train.count, batchSize: c.batchSize, epochs: c.epochs, seed: c.seed,
                             schedule: c.schedule(stepsPerEpoch:))
        let imagesPerEpoch = loop.batches.reduce(0) { $0 + $1.count }
        var throughput = Throughput()
        if let stop = stopAfterEpoch, history.epochsDone >= stop, history.epochsDone < c.epochs { return nil }
        var epochStart = Date()
        var lossSum = 0.0, correct = 0, seen = 0
        // The commit closures call `progress` while the loop runs, never after.
        let outcome = try withoutActuallyEscaping(progress) { progress in try loop.run(from: history.epochsDone, step: { step, generator in
            if step.index == 0 { epochStart = Date(); lossSum = 0; correct = 0; seen = 0 }
            optimizer.learningRate = step.learningRate
            let indices = step.indices
            let x = Batches.make(from: train.images, indices: indices, normalization: normalization,
                                 augmentation: c.augmentation, generator: &generator)
            let labels = indices.map { train.labels[$0] }
            let logits = network.forward(x, mode: .training(inputGradient: false))
            let loss = Loss.softmaxCrossEntropy(logits: logits, labels: labels)
            return .loss(Double(loss.loss)) {
                _ = network.backward(loss.dLogits)
                optimizer.step()
                network.zeroGradients()
                lossSum += Double(loss.loss) * Double(indices.count)
                correct += zip(argmaxRows(logits.scalars, rows: indices.count, columns: logits.shape[1]), labels)
                    .filter { $0 == $1 }.count
                seen += indices.count
                throughput.images += indices.count
                let remaining = imagesPerEpoch - seen + (c.epochs - step.epoch - 1) * imagesPerEpoch
                progress(.step(StepProgress(epoch: step.epoch + 1, epochs: c.epochs, step: step.index + 1,
                                            steps: loop.stepsPerEpoch, loss: lossSum / Double(seen),
                                            accuracy: Double(correct) / Double(seen),
                                            imagesPerSecond: throughput.imagesPerSecond(),
                                            etaSeconds: throughput.eta(remainingImages: remaining),
                                            learningRate: optimizer.learningRate)))
            }
        }, endOfEpoch: { end in
            let testAccuracy = Evaluation.evaluate(model, on: test).classifiers.last!.accuracy
            history.testAccuracies.append(testAccuracy)
            history.trainLosses.append(end.meanLoss)
            history.epochsDone += 1
            try ResumeState.write(to: resumeFile, configuration: c, datasetChecksum: data.identity.checksum,
                                  network: network, optimizer: optimizer, history: history)
            progress(.epoch(EpochSummary(epoch: end.epoch + 1, epochs: c.epochs, trainLoss: end.meanLoss,
                                         trainAccuracy: Double(correct) / Double(max(1, seen)),
                                         testAccuracies: [("final", testAccuracy)],
                                         seconds: Date().timeIntervalSince(epochStart))))
            return stopAfterEpoch.map { history.epochsDone < $0 } ?? true
        }) }
        if let diverged = outcome.diverged {
            throw TrainingError(subject: "pretrain", message: diverged + " (the last finished epoch is in \(resumeFile.path))",
                                hint: "rerun with a lower --lr, or delete the resume file to start afresh")
        }
        if history.epochsDone < c.epochs { return nil }
        model.pretraining = PretrainingRecord(configuration: c, testAccuracies: history.testAccuracies,
                                              trainLosses: history.trainLosses)
        try ModelCheckpoint.save(model, to: output)
        try? FileManager.default.removeItem(at: resumeFile)
        return model
    }
}
