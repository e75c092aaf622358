import Foundation
import Models
import NN
import Tensor
import Testing
@testable import Training

@Suite struct PretrainTests {
    @Test func tinyEndToEndRunWritesACheckpointThatRebuildsItself() throws {
        let (dir, tree) = try TinyData.makeTree()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try TrainingData.load(directory: tree)
        let out = dir.appendingPathComponent("tiny.safetensors")
        var epochs = 0, steps = 0
        let trained = try #require(try Pretrainer(configuration: TinyData.configuration(), data: data, output: out).run {
            if case .epoch = $0 { epochs += 1 }
            if case .step = $0 { steps += 1 }
        })
        #expect(epochs == 1 && steps == 3)
        #expect(!FileManager.default.fileExists(atPath: out.path + ".resume"))

        let loaded = try ModelCheckpoint.load(from: out)
        #expect(loaded.backbone.architecture == "resnet8")
        #expect(loaded.backbone.hyperparameters["widths"] == "4,8,8")
        #expect(loaded.normalization == trained.normalization)
        #expect(loaded.normalization.mean.count == 1)
        #expect(abs(Double(loaded.normalization.mean[0]) - data.train.mean[0]) < 1e-6)
        #expect(loaded.dataset == data.identity)
        #expect(loaded.dataset.checksum.hasPrefix("fnv1a64:"))
        #expect(loaded.pretraining?.configuration == TinyData.configuration())
        #expect(loaded.pretraining?.testAccuracies.count == 1)
        #expect(loaded.exits.isEmpty)

        var g = SeededGenerator(seed: 0)
        let x = Batches.make(from: data.test.images, indices: Array(0..<data.test.count)[...],
                             normalization: loaded.normalization, generator: &g)
        #expect(loaded.forward(x).finalLogits == trained.forward(x).finalLogits)
        let metadata = try SafeTensors.read(from: out).metadata
        for key in ["format", "architecture", "hyperparameters", "input_mean", "input_std", "dataset",
                    "dataset_checksum", "class_names", "exits", "pretraining"] {
            #expect(metadata[key] != nil, "missing metadata \(key)")
        }
        #expect(metadata["exits"] == "[]")
    }

    @Test func resumedRunIsBitIdenticalToAnUninterruptedOne() throws {
        let (dir, tree) = try TinyData.makeTree()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try TrainingData.load(directory: tree)
        let config = TinyData.configuration(epochs: 3)
        let straight = dir.appendingPathComponent("straight.safetensors")
        let model = try #require(try Pretrainer(configuration: config, data: data, output: straight).run())
        let losses = try #require(model.pretraining?.trainLosses)
        #expect(losses.last! < losses.first!, "training loss should fall: \(losses)")

        let resumed = dir.appendingPathComponent("resumed.safetensors")
        #expect(try Pretrainer(configuration: config, data: data, output: resumed).run(stopAfterEpoch: 1) == nil)
        #expect(FileManager.default.fileExists(atPath: resumed.path + ".resume"))
        #expect(!FileManager.default.fileExists(atPath: resumed.path))
        #expect(try Pretrainer(configuration: config, data: data, output: resumed).run(stopAfterEpoch: 2) == nil)
        var resumedFrom: Int?
        try Pretrainer(configuration: config, data: data, output: resumed).run {
            if case .resumed(_, let done) = $0 { resumedFrom = done }
        }
        #expect(resumedFrom == 2)
        #expect(try Data(contentsOf: resumed) == Data(contentsOf: straight))
    }

    @Test func resumeWithOtherArgumentsIsRefusedNamingTheDifference() throws {
        let (dir, tree) = try TinyData.makeTree()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try TrainingData.load(directory: tree)
        let out = dir.appendingPathComponent("m.safetensors")
        try Pretrainer(configuration: TinyData.configuration(epochs: 2), data: data, output: out).run(stopAfterEpoch: 1)
        let error = try #require(throws: TrainingError.self) {
            try Pretrainer(configuration: TinyData.configuration(epochs: 2, seed: 9), data: data, output: out).run()
        }
        #expect(error.subject == out.path + ".resume")
        #expect(error.description.contains("seed: 3 then, 9 now"))
        #expect(error.description.contains("delete"))
    }

    @Test func augmentationCropsWithZeroPaddingAndFlips() {
        // One 1x2x3 image 1..6; mean 0, std 1 so values pass through.
        let images = Tensor(shape: [1, 1, 2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let identity = InputNormalization(mean: [0], std: [1])
        var g = SeededGenerator(seed: 1)
        let plain = Batches.make(from: images, indices: [0], normalization: identity, generator: &g)
        #expect(plain.scalars == [1, 2, 3, 4, 5, 6])
        let flipped = Batches.make(from: images, indices: [0], normalization: identity,
                                   augmentation: Augmentation(cropPadding: 0, horizontalFlip: true), generator: &g)
        #expect(flipped.scalars == [1, 2, 3, 4, 5, 6] || flipped.scalars == [3, 2, 1, 6, 5, 4])
        // With padding, every output is a shifted copy: values from the image or 0 (padding).
        var seen = Set<[Float]>()
        for _ in 0..<200 {
            let x = Batches.make(from: images, indices: [0], normalization: InputNormalization(mean: [1], std: [2]),
                                 augmentation: Augmentation(cropPadding: 1, horizontalFlip: true), generator: &g)
            seen.insert(x.scalars.map { $0 * 2 + 1 })
        }
        #expect(seen.contains([0, 0, 0, 0, 1, 2]))   // shifted down and right
        #expect(seen.contains([5, 4, 0, 0, 0, 0]))   // flipped, shifted up and right
        #expect(seen.count == 18)                      // 3 x 3 shifts x 2 flips, all distinct here
    }

    @Test func scheduleWarmsUpThenDecaysToZero() {
        var c = TinyData.configuration(epochs: 4)
        c.learningRate = 0.1; c.warmupEpochs = 1
        let s = c.schedule(stepsPerEpoch: 10)
        #expect(s.learningRate(at: 0) == 0.01)
        #expect(s.learningRate(at: 9) == 0.1)
        #expect(s.learningRate(at: 10) == 0.1)
        #expect(s.learningRate(at: 39) < 0.001)
        #expect(c.problem == nil)
        c.warmupEpochs = 4
        #expect(c.problem != nil)
        #expect(PretrainConfiguration(architecture: "resnet9").problem != nil)
        #expect(PretrainConfiguration(architecture: "vgg").problem?.contains("unknown architecture") == true)
    }
}

@Suite struct OutputPathTests {
    @Test func missingOutputDirectoryIsRefusedBeforeTraining() throws {
        let (dir, tree) = try TinyData.makeTree(trainPerClass: 2, testPerClass: 1)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try TrainingData.load(directory: tree)
        let out = dir.appendingPathComponent("no/such/dir/m.safetensors")
        let error = try #require(throws: TrainingError.self) {
            try Pretrainer(configuration: TinyData.configuration(), data: data, output: out)
        }
        #expect(error.subject == out.path)
        #expect(error.description.contains("mkdir"))
    }
}
