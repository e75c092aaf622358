import Foundation
import Models
import NN
@testable import Personalisation
import Tensor
import Testing
import Training

/// The whole-network baseline. Each test builds its own base model (the engine suite's
/// shared one is used by other tests at the same time).
@Suite struct FineTuningTests {
    @Test func fineTuningImprovesTheFinalClassifierAndLeavesTheBaseUntouched() throws {
        let base = EngineFixture.makeBase(epochs: 1)
        let before = EngineFixture.state(base.backbone.network) + base.exits.flatMap { EngineFixture.state($0.head) }
        let train = EngineFixture.data(classPattern: [1, 3, 3], count: 60, seed: 40)
        let test = EngineFixture.data(classPattern: [1, 3, 3], count: 60, seed: 41)
        var c = EngineFixture.quick(epochs: 6)
        c.batchSize = 12
        let result = try WholeNetworkFineTuner(configuration: c).fineTune(base, on: train)
        let after = EngineFixture.state(base.backbone.network) + base.exits.flatMap { EngineFixture.state($0.head) }
        #expect(after == before, "the base model was written")
        #expect(result.model.backbone !== base.backbone && result.model.exits.isEmpty)
        let global = PersonalisationBenchmark.accuracies(of: base.forward, on: test, normalization: base.normalization).final
        let tuned = PersonalisationBenchmark.accuracies(of: result.model.forward, on: test, normalization: base.normalization).final
        #expect(tuned > global && tuned >= 0.9, "final accuracy \(global) -> \(tuned)")
        #expect(result.epochLosses.last! < result.epochLosses.first!)
        // eval-mode BN: running statistics are the global ones, still.
        let bnBuffers = { (m: MultiExitModel) in m.backbone.network.namedBuffers.map(\.buffer.value) }
        #expect(bnBuffers(result.model) == bnBuffers(base))
        #expect(result.model.backbone.network.parameters.allSatisfy { $0.isTrainable })

        let r = result.report
        #expect(r.method == "whole-network" && r.steps == 30 && r.trainedSamples == 360 && r.featureStorage == "none")
        // The initial model's pseudo-label pass, once; then training steps of the whole
        // network with BN frozen: BN has no dWeight.
        let input = [1, 1, EngineFixture.size, EngineFixture.size]
        #expect(r.extractionFLOPs == base.backbone.forwardFLOPs * 60)
        let copy = try copyBackbone(base.backbone)
        for bn in batchNorms(in: copy.network) { bn.setFrozen(true) }
        #expect(r.trainingStepFLOPs == copy.network.trainingStepFLOPs(for: input, inputGradient: false) * 360)
        let unfrozen = try copyBackbone(base.backbone).network.trainingStepFLOPs(for: input, inputGradient: false)
        #expect(r.trainingStepFLOPs < unfrozen * 360)
    }

    @Test func divergenceIsReportedNotHidden() throws {
        let base = EngineFixture.makeBase(epochs: 1)
        let train = EngineFixture.data(classPattern: [1, 3, 3], count: 60, seed: 42)
        var c = EngineFixture.quick(epochs: 6)
        c.learningRate = 1e8
        let result = try WholeNetworkFineTuner(configuration: c).fineTune(base, on: train)
        #expect(result.report.notes.contains { $0.contains("diverged") }, "notes: \(result.report.notes)")
        #expect(result.report.steps < 6 * 5)
    }

    @Test func trainModeBatchNormUpdatesTheCopysStatisticsOnly() throws {
        let base = EngineFixture.makeBase(epochs: 1)
        let before = base.backbone.network.namedBuffers.map(\.buffer.value)
        let train = EngineFixture.data(classPattern: [0, 2], count: 24, labelled: { $0 % 2 == 0 }, seed: 42)
        var c = EngineFixture.quick(epochs: 2)
        c.batchNorm = .train; c.batchSize = 8
        let a = try WholeNetworkFineTuner(configuration: c).fineTune(base, on: train)
        let b = try WholeNetworkFineTuner(configuration: c).fineTune(base, on: train)
        #expect(base.backbone.network.namedBuffers.map(\.buffer.value) == before)
        #expect(a.model.backbone.network.namedBuffers.map(\.buffer.value) != before)
        // Deterministic: the same seed gives the same fine-tuned network.
        #expect(EngineFixture.state(a.model.backbone.network) == EngineFixture.state(b.model.backbone.network))
        #expect(a.report.trainingStepFLOPs == base.backbone.network.trainingStepFLOPs(
            for: [1, 1, EngineFixture.size, EngineFixture.size], inputGradient: false) * a.report.trainedSamples)
    }

    @Test func theBenchmarkReportsBothMethods() throws {
        let base = EngineFixture.makeBase(epochs: 1)
        let train = EngineFixture.data(classPattern: [0, 1, 1], count: 30, labelled: { $0 % 3 == 0 }, seed: 44)
        let test = EngineFixture.data(classPattern: [0, 1, 1], count: 20, seed: 45)
        let result = try PersonalisationBenchmark.run(base: base, train: train, test: test,
                                                      configuration: EngineFixture.quick(epochs: 2))
        #expect(result.exits.method == "exits" && result.fineTuning.method == "whole-network")
        #expect(result.exits.epochs == 2 && result.fineTuning.epochs == 2)
        #expect(Set(result.personalisedExitAccuracies.keys) == ["block1", "block2"])
        #expect(result.flopRatio < 1)
        #expect(result.timeRatio == result.exits.wallSeconds / result.fineTuning.wallSeconds)
    }

    @Test func backbonesCopyIntoFreshObjectsWithEveryBatchNormFound() throws {
        var g = SeededGenerator(seed: 46)
        for name in ["resnet20", "mobilenetv2"] {
            let original = try Architecture.make(name, inputShape: [1, 28, 28], classes: 10, generator: &g)
            for p in original.network.parameters { p.value.scalars[0] += 0.5 }  // differ from any fresh init
            let copy = try copyBackbone(original)
            #expect(copy !== original && copy.network.parameters[0] !== original.network.parameters[0])
            #expect(EngineFixture.state(copy.network) == EngineFixture.state(original.network), "\(name)")
            let runningMeans = copy.network.namedBuffers.filter { $0.name.hasSuffix("running_mean") }.count
            #expect(batchNorms(in: copy.network).count == runningMeans && runningMeans > 0, "\(name)")
        }
    }
}
