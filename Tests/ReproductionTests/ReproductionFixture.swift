import Datasets
import Experiments
import Foundation
import Models
import NN
import Reproduction
import Tensor
import Training

/// A tiny dataset tree and checkpoint on disk, made once per test process: 12x12 gray
/// images of four translation-invariant classes (horizontal bar, vertical bar, 4x4 square,
/// hollow 6x6 frame on a noisy background), 240 train and 120 test images as a PNG tree,
/// and ResNet-8 (widths 4/8/8) pretrained on the train split for a few epochs with
/// untrained conv exits at block1 and block2, saved as a model checkpoint.
enum ReproductionFixture {
    static let size = 12
    static let root: String = {
        let dir = NSTemporaryDirectory() + "reproduction-fixture-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: dir)
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()
    static var dataset: String { root + "/tree" }
    static var checkpoint: String { root + "/model.safetensors" }

    /// Builds the tree and the checkpoint the first time it is read.
    static let ready: Bool = {
        let plan = ImportPlan(name: "fixture", classNames: ["h", "v", "square", "frame"], superclasses: nil, source: "tests",
                              splits: [.init(name: "train", images: images(count: 240, seed: 11)),
                                       .init(name: "test", images: images(count: 120, seed: 12))])
        try! DatasetImporter.write(plan, to: dataset)
        let train = try! DatasetTree(root: dataset).load(split: "train").split
        try! ModelCheckpoint.save(pretrained(on: train), to: URL(fileURLWithPath: checkpoint))
        return true
    }()

    static func images(count: Int, seed: UInt64) -> LabelledImages {
        var g = SeededGenerator(seed: seed)
        var pixels: [UInt8] = [], labels: [Int] = []
        for i in 0..<count {
            let k = i % 4
            var image = (0..<(size * size)).map { _ in UInt8(g.nextInt(below: 60)) }
            let a = 2 + g.nextInt(below: size - 7), b = 2 + g.nextInt(below: size - 7)
            for y in 0..<size {
                for x in 0..<size {
                    let on: Bool
                    switch k {
                    case 0: on = y >= a && y < a + 2 && x >= 1 && x < size - 1
                    case 1: on = x >= a && x < a + 2 && y >= 1 && y < size - 1
                    case 2: on = y >= a && y < a + 4 && x >= b && x < b + 4
                    default: on = (y == a || y == a + 5) && x >= b && x < b + 6 || (x == b || x == b + 5) && y >= a && y < a + 6
                    }
                    if on { image[y * size + x] = UInt8(200 + g.nextInt(below: 56)) }
                }
            }
            pixels += image
            labels.append(k)
        }
        return LabelledImages(channels: 1, height: size, width: size, pixels: pixels, labels: labels)
    }

    static func pretrained(on train: DatasetSplit) -> MultiExitModel {
        var g = SeededGenerator(seed: 5)
        let backbone = ResNet.make(ResNetConfiguration(depth: 8, widths: [4, 8, 8], inChannels: 1, imageSize: size, classes: 4),
                                   generator: &g)
        let scalars = train.images.scalars
        let mean = scalars.reduce(0, +) / Float(scalars.count)
        let variance = scalars.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(scalars.count)
        let model = MultiExitModel(backbone: backbone, normalization: InputNormalization(mean: [mean], std: [variance.squareRoot()]),
                                   dataset: DatasetIdentity(name: "fixture", checksum: "none", classNames: train.classNames))
        let optimizer = SGD(parameters: backbone.network.parameters, learningRate: 0.05, momentum: 0.9)
        for epoch in 0..<8 {
            var eg = SeededGenerator(seed: 9).derived(UInt64(epoch))
            let order = Batches.shuffledOrder(count: train.labels.count, generator: &eg)
            for range in Batches.ranges(count: train.labels.count, batchSize: 16, training: true) {
                let x = Batches.make(from: train.images, indices: order[range], normalization: model.normalization)
                let logits = backbone.network.forward(x, mode: .training(inputGradient: false))
                let loss = Loss.softmaxCrossEntropy(logits: logits, labels: order[range].map { train.labels[$0] })
                _ = backbone.network.backward(loss.dLogits)
                optimizer.step()
                backbone.network.zeroGradients()
            }
        }
        for name in ["block1", "block2"] {
            let p = backbone.exitPoint(named: name)!
            model.attachExit(at: p, kind: .conv(blocks: 1, width: p.featureShape[0]), generator: &g)
        }
        return model
    }

    /// The shared keys of a tiny spec: 2 users of 2 classes, 40 samples, 4 epochs.
    static func spec(_ kind: String, extra: String = "") -> String {
        _ = ready
        return """
        experiment: \(kind)
        data:
          checkpoint: \(checkpoint)
          dataset: \(dataset)
          split: "classes:2"
          users: 2
          samples: 40
          test: 20
        train:
          epochs: 4
          batch: 16
          lr: 0.05
        \(extra)
        """
    }

    /// A fresh empty folder under the fixture root.
    static func folder(_ name: String) -> String {
        let path = root + "/runs/\(name)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: root + "/runs", withIntermediateDirectories: true)
        return path
    }

    /// Runs `yaml` into `folder`. The unit store is the folder's own unless one is given,
    /// so two runs into two folders compute everything twice (what determinism tests need).
    static func run(_ yaml: String, into folder: String, overrides: [String] = [], jobs: Int = 1, shard: Shard = .all,
                    store: UnitStore? = nil, code: String = "test-code") throws -> RunSummary {
        let document = try SpecDocument.parse(yaml: yaml, path: "test.yaml")
        let plan = try ExperimentRegistry.persephone.plan(document, overrides: overrides.map(Override.init(parsing:)))
        var provenance = Provenance.collect(datasetChecksum: "test", libraries: ["zstd": "test"])
        provenance.code = code
        let options = RunOptions(folder: folder, jobs: jobs, shard: shard, provenance: provenance,
                                 store: store ?? UnitStore(root: folder + "/unit-store"), events: { _ in })
        return try Runner(plan: plan, options: options).run()
    }
}
