import ArgumentParser
import Tensor
import Foundation
import Training

/// `persephone pretrain`: train a backbone from scratch on a dataset tree (docs/training.md).
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Pretrain a backbone (SGD momentum, cosine schedule, crop+flip augmentation); resumable.",
        discussion: """
            After every epoch the state is written to FILE.resume; rerunning the same command \
            continues from the last finished epoch and ends bit-identical to an uninterrupted run. \
            The final checkpoint (safetensors, docs/checkpoints-models.md) is written atomically.
            """)

    @Option(help: "Dataset tree (the directory holding dataset.json).")
    var dataset: String

    @Option(help: "Architecture: \(Architecture.names.joined(separator: ", ")) (resnet<6n+2> in general).")
    var arch: String

    @Option(help: "Epochs.") var epochs = 30
    @Option(help: "Mini-batch size.") var batch = 128
    @Option(help: "Peak learning rate (cosine decay to 0 over the run).") var lr: Float = 0.1
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Option(help: "L2 weight decay.") var weightDecay: Float = 5e-4
    @Option(help: "Epochs of linear learning-rate warm-up (0: none).") var warmupEpochs = 0
    @Option(help: "Seed of weights, shuffles and augmentation.") var seed: UInt64 = 1
    @Option(help: "Zero padding of the random crop, in pixels (0: no crop).") var cropPadding = 4
    @Flag(help: "No random horizontal flip (for data where a mirror image changes the class).") var noFlip = false
    @Option(help: "ResNet stage widths, e.g. 16,32,64 (default).") var widths: String?
    @Option(help: "MobileNetV2 width multiplier (default 0.5).") var widthMultiplier: Double?
    @Option(help: "Stop after this many finished epochs, keeping FILE.resume (rerun without it to continue).")
    var stopAfter: Int?
    @Option(help: "Output checkpoint (.safetensors).") var out: String

    func parsedWidths() throws -> [Int]? {
        guard let widths else { return nil }
        let v = widths.split(separator: ",").map { Int($0) }
        guard v.count == 3, v.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--widths '\(widths)': give three positive integers, e.g. 16,32,64")
        }
        return v.map { $0! }
    }

    func makeConfiguration() throws -> PretrainConfiguration {
        PretrainConfiguration(architecture: arch, widths: try parsedWidths(), widthMultiplier: widthMultiplier,
                              epochs: epochs, batchSize: batch, learningRate: lr, momentum: momentum,
                              weightDecay: weightDecay, warmupEpochs: warmupEpochs, seed: seed,
                              augmentation: Augmentation(cropPadding: max(cropPadding, 0), horizontalFlip: !noFlip))
    }

    func validate() throws {
        if let problem = try makeConfiguration().problem { throw ValidationError(problem) }
        if cropPadding < 0 { throw ValidationError("--crop-padding must be >= 0") }
        if let s = stopAfter, s < 1 { throw ValidationError("--stop-after must be at least 1") }
    }

    func run() throws {
        TensorAllocator.keepLargeBlocksInHeap()  // step-sized tensors reuse the heap (docs/engine.md)
        try DatasetsCLI.reportingErrors {
            let configuration = try makeConfiguration()
            let start = Date()
            let data = try TrainingData.load(directory: dataset, log: DatasetsCLI.note)
            DatasetsCLI.note("pretrain \(arch) on \(data.identity.name): \(data.train.count) train, \(data.test.count) test images, "
                             + "\(epochs) epochs, batch \(batch), lr \(lr), weight decay \(weightDecay), seed \(seed)")
            let url = URL(fileURLWithPath: out)
            if FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".resume") {
                DatasetsCLI.note("note: \(out) exists and will be replaced when this run finishes")
            }
            let printer = TrainingProgressPrinter()
            var epochSeconds: [Double] = []
            let model = try Pretrainer(configuration: configuration, data: data, output: url).run(stopAfterEpoch: stopAfter) {
                if case .epoch(let e) = $0 { epochSeconds.append(e.seconds) }
                printer.handle($0)
            }
            let perEpoch = epochSeconds.isEmpty ? 0 : epochSeconds.reduce(0, +) / Double(epochSeconds.count)
            guard let model else {
                print("stopped after \(stopAfter!) epoch(s); state in \(out).resume (rerun without --stop-after to continue)")
                return
            }
            let accuracy = model.pretraining?.testAccuracy ?? 0
            print(String(format: "wrote %@: %@, %d epochs, test accuracy %.2f%%, %.1f s/epoch this run, %.0f s total",
                         out, model.backbone.architecture, epochs, 100 * accuracy, perEpoch, Date().timeIntervalSince(start)))
        }
    }
}
