import Codecs
import Foundation
import Models
import NN
import Tensor
import Testing
@testable import Training

@Suite struct ExitAndEvaluateTests {
    @Test func defaultPointsAreTheMiddleBlockOfEachStage() throws {
        var g = SeededGenerator(seed: 1)
        let resnet20 = try Architecture.make("resnet20", inputShape: [1, 28, 28], classes: 10, generator: &g)
        let conv = ExitTrainingConfiguration(points: [])
        #expect(conv.defaultPoints(for: resnet20) == ["block2", "block5", "block8"])
        let resnet8 = try Architecture.make("resnet8", inputShape: [1, 28, 28], classes: 10, generator: &g)
        // Stage 3's only block is the last block: no exit there.
        #expect(conv.defaultPoints(for: resnet8) == ["block1", "block2"])
        #expect(conv.allEarlyPoints(for: resnet8) == ["block1", "block2"])
        // With widths 4/8/8 stage 3 is no wider than stage 2, so block3 is cheap and a conv
        // head at block2 costs more than it: only block1 is early.
        let tiny = try Architecture.make("resnet8", inputShape: [1, 12, 12], classes: 3, widths: [4, 8, 8], generator: &g)
        #expect(conv.defaultPoints(for: tiny) == ["block1"])
        #expect(ExitTrainingConfiguration(points: [], head: "sdn").defaultPoints(for: tiny) == ["block1", "block2"])
    }

    /// Every default exit of every ResNet depth and of MobileNetV2 costs less than the full
    /// network, for both head kinds, and never sits on the last block.
    @Test func defaultExitsAreEarlyForEveryBackbone() throws {
        var g = SeededGenerator(seed: 1)
        for arch in ["resnet8", "resnet14", "resnet20", "resnet32", "resnet56", "mobilenetv2"] {
            for shape in [[1, 28, 28], [3, 32, 32]] {
                let backbone = try Architecture.make(arch, inputShape: shape, classes: 10, generator: &g)
                for head in ["conv", "sdn"] {
                    let config = ExitTrainingConfiguration(points: [], head: head)
                    let points = config.defaultPoints(for: backbone)
                    #expect(!points.isEmpty && !points.contains(backbone.lastBlock.name), "\(arch) \(head): \(points)")
                    for name in points {
                        let point = try #require(backbone.exitPoint(named: name))
                        #expect(backbone.cumulativeFLOPs(at: point, head: config.headKind(at: point)) < backbone.forwardFLOPs)
                    }
                    #expect(ExitTrainingConfiguration(points: points, head: head).problem(for: backbone) == nil)
                }
            }
        }
        // Before the last block but dearer than the whole network: refused too.
        let resnet8 = try Architecture.make("resnet8", inputShape: [1, 28, 28], classes: 10, generator: &g)
        let wide = ExitTrainingConfiguration(points: ["block2"], headWidth: 512)
        #expect(wide.problem(for: resnet8)?.contains("of the full network's") == true)
        #expect(!wide.defaultPoints(for: resnet8).contains("block2"))
    }

    @Test func exitTrainingLeavesTheBackboneBitIdenticalAndLearns() throws {
        let (dir, tree) = try TinyData.makeTree()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try TrainingData.load(directory: tree)
        let pretrained = dir.appendingPathComponent("p.safetensors")
        try Pretrainer(configuration: TinyData.configuration(epochs: 2), data: data, output: pretrained).run()
        let model = try ModelCheckpoint.load(from: pretrained)
        let backboneBefore = model.backbone.network.namedParameters.map(\.parameter.value)
            + model.backbone.network.namedBuffers.map(\.buffer.value)

        var config = ExitTrainingConfiguration(points: ["block1", "block2"], head: "sdn", epochs: 8, batchSize: 16,
                                               learningRate: 0.05)
        config.augmentation = .none
        // Accuracy of freshly initialised heads (the same init the trainer draws).
        let fresh = try ModelCheckpoint.load(from: pretrained)
        var g = SeededGenerator(seed: config.seed).derived(0)
        for name in config.points {
            let p = fresh.backbone.exitPoint(named: name)!
            fresh.attachExit(at: p, kind: config.headKind(at: p), generator: &g)
        }
        let before = Evaluation.evaluate(fresh, on: data.train).classifiers
        var epochs: [EpochSummary] = []
        let after = try ExitTrainer(model: model, configuration: config, data: data).run {
            if case .epoch(let e) = $0 { epochs.append(e) }
        }
        #expect(epochs.count == 8)
        #expect(epochs.last!.trainLoss < epochs.first!.trainLoss)
        let backboneAfter = model.backbone.network.namedParameters.map(\.parameter.value)
            + model.backbone.network.namedBuffers.map(\.buffer.value)
        #expect(backboneAfter == backboneBefore)
        let trainAfter = Evaluation.evaluate(model, on: data.train).classifiers
        for i in 0..<2 {
            #expect(trainAfter[i].accuracy > before[i].accuracy, "\(trainAfter[i].name): \(before[i].accuracy) -> \(trainAfter[i].accuracy)")
        }
        #expect(after.classifiers.map(\.name) == ["block1", "block2", "final"])
        let flops = after.classifiers.map(\.cumulativeFLOPs)
        #expect(flops[2] == model.backbone.forwardFLOPs)
        for (i, exit) in model.exits.enumerated() {
            #expect(flops[i] == model.backbone.forwardFLOPs(through: exit.point)
                    + exit.head.cost(for: [1] + exit.point.featureShape).forward)
        }
        #expect(flops[0] < flops[1])
        #expect(model.exitTraining?.testAccuracies["block1"] == after.classifiers[0].accuracy)

        // Saved with the heads: backbone tensors in the file unchanged, heads added.
        let withExits = dir.appendingPathComponent("e.safetensors")
        try ModelCheckpoint.save(model, to: withExits)
        let (old, new) = (try SafeTensors.read(from: pretrained), try SafeTensors.read(from: withExits))
        for name in old.order { #expect(new.entries[name] == old.entries[name], "\(name) changed") }
        #expect(Set(new.order).subtracting(old.order).allSatisfy { $0.hasPrefix("exits.block1.") || $0.hasPrefix("exits.block2.") })
        let reloaded = try ModelCheckpoint.load(from: withExits)
        #expect(reloaded.exitTraining == model.exitTraining)
        #expect(Evaluation.evaluate(reloaded, on: data.test).classifiers == after.classifiers)
    }

    @Test func badExitArgumentsAreRefused() throws {
        let (dir, tree) = try TinyData.makeTree(trainPerClass: 2, testPerClass: 1)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try TrainingData.load(directory: tree)
        var g = SeededGenerator(seed: 1)
        let model = MultiExitModel(
            backbone: try Architecture.make("resnet8", inputShape: [1, 12, 12], classes: 3, widths: [4, 8, 8], generator: &g),
            normalization: InputNormalization(mean: [0], std: [1]), dataset: data.identity)
        let error = try #require(throws: TrainingError.self) {
            try ExitTrainer(model: model, configuration: ExitTrainingConfiguration(points: ["block7"]), data: data)
        }
        #expect(error.description.contains("block1, block2, block3"))
        // The last block, requested, is refused with the early points named.
        let last = try #require(throws: TrainingError.self) {
            try ExitTrainer(model: model, configuration: ExitTrainingConfiguration(points: ["block1", "block3"]), data: data)
        }
        #expect(last.description.contains("block3 is the last block") && last.description.contains("early points for this head: block1"))
        #expect(throws: TrainingError.self) {
            try ExitTrainer(model: model, configuration: ExitTrainingConfiguration(points: ["block1"], headBlocks: 3), data: data)
        }
    }

    @Test func predictionsTableRoundTrips() throws {
        let (dir, tree) = try TinyData.makeTree(trainPerClass: 4, testPerClass: 5)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try TrainingData.load(directory: tree)
        var g = SeededGenerator(seed: 4)
        let model = MultiExitModel(
            backbone: try Architecture.make("resnet8", inputShape: [1, 12, 12], classes: 3, widths: [4, 8, 8], generator: &g),
            normalization: InputNormalization(statisticsOf: data.train.mean, data.train.std), dataset: data.identity)
        model.attachExit(at: model.backbone.exitPoints[1], kind: .sdn, generator: &g)
        let result = Evaluation.evaluate(model, on: data.test, batchSize: 4, keepPredictions: true)
        let path = dir.appendingPathComponent("predictions.csv.zst").path
        try PredictionsTable.write(result, to: path)
        let (header, rows) = try readCSVZst(path: path)
        #expect(header == ["index", "label", "block2_pred", "block2_conf", "final_pred", "final_conf"])
        #expect(rows.count == data.test.count)
        for (i, row) in rows.enumerated() {
            #expect(row[0] == String(i) && row[1] == String(data.test.labels[i]))
            #expect(Int(row[2]) == result.predictions[0][i] && Int(row[4]) == result.predictions[1][i])
            let conf = Double(row[5])!
            #expect(abs(conf - Double(result.confidences[1][i])) <= 5e-7 && conf >= 1.0 / 3 - 1e-6 && conf <= 1)
        }
        let correct = rows.filter { $0[4] == $0[1] }.count
        #expect(correct == result.classifiers[1].correct)
        // Deterministic: the same evaluation writes the same bytes.
        let again = dir.appendingPathComponent("again.csv.zst").path
        try PredictionsTable.write(Evaluation.evaluate(model, on: data.test, batchSize: 7, keepPredictions: true), to: again)
        #expect(FileManager.default.contents(atPath: again) == FileManager.default.contents(atPath: path))
    }
}
