import ArgumentParser
import Tensor
import Foundation
import Training

/// `persephone exits ...`: the offline exit stage.
struct ExitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exits",
        abstract: "Attach early exits to a pretrained backbone and train them offline.",
        subcommands: [Train.self])

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train exit heads on a frozen backbone (sum of the heads' losses, SDN IC-only).",
            discussion: """
                The backbone stays frozen and in eval mode: it runs once per batch in inference \
                mode and each head trains on the features at its point. The heads are saved into \
                --out together with the unchanged backbone tensors.
                """)

        @Option(help: "Pretrained checkpoint.") var checkpoint: String
        @Option(help: "Dataset tree the backbone was pretrained on.") var dataset: String
        @Option(help: "Exit points, e.g. block2,block5,block8; 'all'; default one per stage (its middle block).")
        var points: String?
        @Option(help: "Head kind: conv (conv3x3+BN+ReLU blocks, pool, linear) or sdn (mixed pooling to 4x4, linear).")
        var head = "conv"
        @Option(help: "Conv head channels (default: the channels at the point).") var headWidth: Int?
        @Option(help: "Conv head blocks, 1 or 2.") var headBlocks = 1
        @Option(help: "Epochs.") var epochs = 10
        @Option(help: "Mini-batch size.") var batch = 128
        @Option(help: "Peak learning rate (cosine decay to 0).") var lr: Float = 0.05
        @Option(help: "SGD momentum.") var momentum: Float = 0.9
        @Option(help: "L2 weight decay.") var weightDecay: Float = 5e-4
        @Option(help: "Seed of head weights, shuffles and augmentation.") var seed: UInt64 = 1
        @Option(help: "Zero padding of the random crop, in pixels (0: no crop).") var cropPadding = 4
        @Flag(help: "No random horizontal flip.") var noFlip = false
        @Option(help: "Output checkpoint (may be the same file as --checkpoint).") var out: String

        func validate() throws {
            if cropPadding < 0 { throw ValidationError("--crop-padding must be >= 0") }
            if !(1...2).contains(headBlocks) { throw ValidationError("--head-blocks must be 1 or 2, got \(headBlocks)") }
            if let w = headWidth, w < 1 { throw ValidationError("--head-width must be positive, got \(w)") }
        }

        func run() throws {
            TensorAllocator.keepLargeBlocksInHeap()  // step-sized tensors reuse the heap (docs/engine.md)
            try DatasetsCLI.reportingErrors {
                let start = Date()
                try TrainingError.checkWritable(URL(fileURLWithPath: out))
                let model = try ModelCheckpoint.load(from: URL(fileURLWithPath: checkpoint))
                var configuration = ExitTrainingConfiguration(
                    points: [], head: head, headBlocks: headBlocks, headWidth: headWidth, epochs: epochs,
                    batchSize: batch, learningRate: lr, momentum: momentum, weightDecay: weightDecay, seed: seed,
                    augmentation: Augmentation(cropPadding: cropPadding, horizontalFlip: !noFlip))
                switch points {
                case nil: configuration.points = configuration.defaultPoints(for: model.backbone)
                case "all"?: configuration.points = configuration.allEarlyPoints(for: model.backbone)
                case let list?: configuration.points = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                }
                let chosen = configuration.points
                // Argument errors before the (slower) dataset load.
                if let problem = configuration.problem(for: model.backbone) {
                    throw TrainingError(subject: "exits train", message: problem, hint: "fix the argument")
                }
                let data = try TrainingData.load(directory: dataset, log: DatasetsCLI.note)
                guard data.identity.checksum == model.dataset.checksum else {
                    throw TrainingError(subject: dataset,
                                        message: "has checksum \(data.identity.checksum) but \(checkpoint) was pretrained on \(model.dataset.name) with checksum \(model.dataset.checksum)",
                                        hint: "train exits on the dataset the backbone was pretrained on")
                }
                let trainer = try ExitTrainer(model: model, configuration: configuration, data: data)
                DatasetsCLI.note("exits \(chosen.joined(separator: ",")) (\(head)) on \(model.backbone.architecture), "
                                 + "\(epochs) epochs, batch \(batch), lr \(lr), seed \(seed)")
                let printer = TrainingProgressPrinter()
                let result = try trainer.run(progress: printer.handle)
                try ModelCheckpoint.save(model, to: URL(fileURLWithPath: out))
                print("wrote \(out) (" + String(format: "%.0f s", Date().timeIntervalSince(start)) + ")")
                print(EvaluateCommand.table(result, model: model))
            }
        }
    }
}
