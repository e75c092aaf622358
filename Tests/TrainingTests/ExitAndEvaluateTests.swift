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
        #expect(ExitTrainingConfiguration.defaultPoints(for: resnet20) == ["block2", "block5", "block8"])
        let resnet8 = try Architecture.make("resnet8", inputShape: [1, 12, 12], classes: 3, widths: [4, 8, 8], generator: &g)
        #expect(ExitTrainingConfiguration.defaultPoints(for: resnet8) == ["block1", "block2", "block3"])
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

        var config = ExitTrainingConfiguration(points: ["block1", "block2"], epochs: 8, batchSize: 16, learningRate: 0.05)
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
