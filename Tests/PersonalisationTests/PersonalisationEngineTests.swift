import Foundation
import Models
import NN
@testable import Personalisation
import Tensor
import Testing
import Training

/// The on-device engine: the loss mix, the personaliser, its cost
/// report. Serialized: the tests share `EngineFixture.base`, whose layers keep per-pass state.
@Suite(.serialized) struct PersonalisationEngineTests {
    let base = EngineFixture.base

    @Test func pseudoLabelsAreTheFinalArgmaxAndTheThresholdMasks() throws {
        let data = EngineFixture.data(classPattern: [0, 1, 2, 3], count: 24, labelled: { _ in false }, seed: 3)
        let x = Batches.make(from: data.images, indices: Array(0..<24)[...], normalization: base.normalization)
        let teacher = base.forward(x).finalLogits
        let argmax = (0..<24).map { i in (0..<4).max { teacher[i, $0] < teacher[i, $1] }! }
        var c = PersonalisationConfig()
        let all = PersonalisationLoss.hardTargets(labels: data.labels, teacherLogits: teacher,
                                                  configuration: c)
        #expect(all.labels == argmax)
        #expect(all.weights == [Float](repeating: 1, count: 24))

        let p = Loss.softmax(teacher)
        let confidence = (0..<24).map { p[$0, argmax[$0]] }
        c.confidenceThreshold = confidence.sorted()[12]
        let masked = PersonalisationLoss.hardTargets(labels: data.labels, teacherLogits: teacher,
                                                     configuration: c)
        #expect(masked.weights == confidence.map { $0 >= c.confidenceThreshold ? 1 : 0 })
        #expect(masked.weights.filter { $0 == 0 }.count == 12)
        // Labelled samples keep their own label whatever the teacher says.
        var labelled = data
        labelled.labels[0] = (argmax[0] + 1) % 4
        let mixed = PersonalisationLoss.hardTargets(labels: labelled.labels, teacherLogits: teacher, configuration: c)
        #expect(mixed.labels[0] == labelled.labels[0]! && mixed.weights[0] == 1)
    }

    @Test func theLossGradientMatchesFiniteDifferences() throws {
        var g = SeededGenerator(seed: 4)
        let (n, k) = (6, 4)
        let logits = Tensor(shape: [n, k], scalars: (0..<(n * k)).map { _ in 2 * g.nextNormal() })
        let teacher = Tensor(shape: [n, k], scalars: (0..<(n * k)).map { _ in 3 * g.nextNormal() })
        let labels = [0, 3, 1, 2, 2, 0]
        let weights: [Float] = [1, 0, 2, 1, 0, 0.5]
        var c = PersonalisationConfig()
        c.temperature = 2.5; c.distillationWeight = 0.3
        let analytic = PersonalisationLoss.loss(logits: logits, hardLabels: labels, hardWeights: weights,
                                                teacherLogits: teacher, configuration: c)
        // Reference in Double: (1 - C) * weighted CE + C * T^2 * mean soft CE.
        func reference(_ z: [Double]) -> Double {
            let t = Double(c.temperature), cw = Double(c.distillationWeight)
            var hard = 0.0, soft = 0.0, total = 0.0
            for i in 0..<n {
                let row = Array(z[(i * k)..<((i + 1) * k)])
                let lse = log(row.map { exp($0) }.reduce(0, +))
                hard += Double(weights[i]) * (lse - row[labels[i]]); total += Double(weights[i])
                let zt = row.map { $0 / t }, lt = log(zt.map { exp($0) }.reduce(0, +))
                let tt = (0..<k).map { Double(teacher[i, $0]) / t }, ltt = log(tt.map { exp($0) }.reduce(0, +))
                for j in 0..<k { soft -= exp(tt[j] - ltt) * (zt[j] - lt) }
            }
            return (1 - cw) * hard / total + cw * t * t * soft / Double(n)
        }
        let z = logits.scalars.map(Double.init)
        #expect(abs(Double(analytic.loss) - reference(z)) < 1e-4)
        for j in 0..<(n * k) {
            var plus = z, minus = z
            plus[j] += 1e-4; minus[j] -= 1e-4
            let numeric = (reference(plus) - reference(minus)) / 2e-4
            #expect(abs(numeric - Double(analytic.dLogits.scalars[j])) < 1e-4, "dLogits[\(j)]")
        }
    }

    @Test func theHeadReceivesTheLossGradient() throws {
        // Wiring: the gradient the engine puts into a head's fc.bias equals a finite
        // difference of the loss through the whole head (training-mode BN included).
        var g = SeededGenerator(seed: 6)
        let user = MultiExitModel(copyingExitsOf: base, fromScratch: true, generator: &g)
        let exit = user.exits[1]
        let features = Tensor(shape: [8] + exit.point.featureShape,
                              scalars: (0..<(8 * Tensor.count(of: exit.point.featureShape))).map { _ in g.nextNormal() })
        let teacher = Tensor(shape: [8, 4], scalars: (0..<32).map { _ in 2 * g.nextNormal() })
        let labels = [0, 1, 2, 3, 0, 1, 2, 3], weights: [Float] = [1, 1, 0, 0, 1, 0, 1, 0]
        let c = PersonalisationConfig()
        func loss() -> Float {
            let z = exit.head.forward(features, mode: .training(inputGradient: false))
            let l = PersonalisationLoss.loss(logits: z, hardLabels: labels, hardWeights: weights, teacherLogits: teacher,
                                             configuration: c)
            _ = exit.head.backward(l.dLogits)
            return l.loss
        }
        exit.head.zeroGradients()
        _ = loss()
        let bias = exit.head.namedParameters.first { $0.name == "fc.bias" }!.parameter
        let analytic = bias.gradient.scalars
        for j in 0..<4 {
            let saved = bias.value.scalars[j]
            bias.value.scalars[j] = saved + 1e-2; let up = loss()
            bias.value.scalars[j] = saved - 1e-2; let down = loss()
            bias.value.scalars[j] = saved
            #expect(abs(Double(up - down) / 2e-2 - Double(analytic[j])) < 2e-3, "fc.bias[\(j)]")
        }
    }

    @Test func withNothingToLearnTheHeadsDoNotMove() throws {
        let data = EngineFixture.data(classPattern: [0, 1, 2], count: 40, labelled: { _ in false }, seed: 8)
        var c = EngineFixture.quick()
        c.weightDecay = 5e-4  // must not shrink heads when no step is taken
        c.selfSupervision = false; c.distillation = false
        let result = try ExitPersonaliser(configuration: c).personalise(base, on: data)
        for (mine, theirs) in zip(result.model.exits, base.exits) {
            #expect(EngineFixture.state(mine.head) == EngineFixture.state(theirs.head))
        }
        #expect(result.report.steps == 0 && result.report.trainingStepFLOPs == 0)
        #expect(result.report.notes.contains { $0.contains("skipped") })

        // Self-supervision with an impossible threshold: every sample masked, still no NaN.
        c.selfSupervision = true; c.confidenceThreshold = 1
        let masked = try ExitPersonaliser(configuration: c).personalise(base, on: data)
        #expect(masked.epochLosses.allSatisfy { $0.isFinite })
        for (mine, theirs) in zip(masked.model.exits, base.exits) {
            #expect(EngineFixture.state(mine.head) == EngineFixture.state(theirs.head))
        }
        // A batch whose samples are all masked gives loss 0 and a zero gradient.
        let z = Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0) })
        let l = PersonalisationLoss.loss(logits: z, hardLabels: [0, 0, 0], hardWeights: [0, 0, 0], teacherLogits: nil,
                                         configuration: c)
        #expect(l.loss == 0 && l.dLogits.scalars.allSatisfy { $0 == 0 })
    }

    @Test func eachLossSwitchTrainsTowardsItsTarget() throws {
        let images = EngineFixture.data(classPattern: [0, 1, 2, 3], count: 48, seed: 10)
        let x = Batches.make(from: images.images, indices: Array(0..<48)[...], normalization: base.normalization)
        let teacher = base.forward(x).finalLogits
        let teacherArgmax = (0..<48).map { i in (0..<4).max { teacher[i, $0] < teacher[i, $1] }! }
        func predictions(_ model: MultiExitModel, exit: Int) -> [Int] {
            let z = model.forward(x).exitLogits[exit]
            return (0..<48).map { i in (0..<4).max { z[i, $0] < z[i, $1] }! }
        }
        var c = EngineFixture.quick(epochs: 20)
        c.fromScratch = true; c.learningRate = 0.2

        // Supervised only, every sample labelled with class 3: the heads learn to say 3.
        var fake = images
        fake.labels = [Int](repeating: 3, count: 48)
        c.selfSupervision = false; c.distillation = false
        let sup = try ExitPersonaliser(configuration: c).personalise(base, on: fake)
        for e in 0..<2 { #expect(predictions(sup.model, exit: e).filter { $0 == 3 }.count >= 44) }

        // Self-supervision only, nothing labelled: the heads come to agree with the final classifier.
        var unlabelled = images
        unlabelled.labels = [Int?](repeating: nil, count: 48)
        c.supervised = false; c.selfSupervision = true
        var g = SeededGenerator(seed: c.seed).derived(0)
        let fresh = MultiExitModel(copyingExitsOf: base, fromScratch: true, generator: &g)
        let selfsup = try ExitPersonaliser(configuration: c).personalise(base, on: unlabelled)
        for e in 0..<2 {
            let before = zip(predictions(fresh, exit: e), teacherArgmax).filter { $0 == $1 }.count
            let after = zip(predictions(selfsup.model, exit: e), teacherArgmax).filter { $0 == $1 }.count
            #expect(after > before && after >= 36, "exit \(e): agreement \(before) -> \(after) of 48")
        }

        // Distillation only (C = 1): the soft cross-entropy to the teacher falls; labels,
        // even wrong ones, then play no part: same heads bit for bit as without them.
        c.selfSupervision = false; c.distillation = true; c.distillationWeight = 1
        let distilled = try ExitPersonaliser(configuration: c).personalise(base, on: unlabelled)
        #expect(distilled.epochLosses.last! < distilled.epochLosses.first!)
        c.supervised = true
        let withLabels = try ExitPersonaliser(configuration: c).personalise(base, on: fake)
        for (a, b) in zip(distilled.model.exits, withLabels.model.exits) {
            #expect(EngineFixture.state(a.head) == EngineFixture.state(b.head))
        }
    }

    @Test func personalisationImprovesAHeadOnASkewedUser() throws {
        // A user with classes 0 and 2, three to one; a tenth of the samples labelled.
        let train = EngineFixture.data(classPattern: [0, 0, 0, 2], count: 120, labelled: { $0 % 10 == 0 }, seed: 12)
        let test = EngineFixture.data(classPattern: [0, 0, 0, 2], count: 80, seed: 13)
        let before = PersonalisationBenchmark.accuracies(of: base.forward, on: test, normalization: base.normalization)
        var c = EngineFixture.quick(epochs: 30)
        c.batchSize = 24
        let result = try ExitPersonaliser(configuration: c).personalise(base, on: train)
        let after = PersonalisationBenchmark.accuracies(of: result.model.forward, on: test, normalization: base.normalization)
        #expect(after.final == before.final)
        for e in 0..<2 {
            #expect(after.exits[e] >= before.exits[e] + 0.2 && after.exits[e] >= 0.9,
                    "exit \(e): \(before.exits[e]) -> \(after.exits[e]) (final \(before.final))")
        }
        #expect(result.epochLosses.last! < result.epochLosses.first!)
    }

    @Test func theCostReportCountsFLOPsFromTheCostFunctions() throws {
        let data = EngineFixture.data(classPattern: [1, 2, 3], count: 37, labelled: { $0 % 3 == 0 }, seed: 14)
        var c = EngineFixture.quick(epochs: 3)
        c.batchSize = 12  // 37 = 3 x 12 + 1: the single-sample last batch is dropped
        let result = try ExitPersonaliser(configuration: c).personalise(base, on: data)
        let r = result.report
        #expect(r.method == "exits" && r.samples == 37 && r.epochs == 3)
        #expect(r.steps == 9 && r.trainedSamples == 36 * 3)
        // Backbone: every child's forward cost once per sample (the teacher needs the whole network).
        let input = [1, 1, EngineFixture.size, EngineFixture.size]
        let rows = base.backbone.network.costTable(for: input)
        #expect(r.extractionFLOPs == rows.map(\.cost.forward).reduce(0, +) * 37)
        // Heads: per leaf, forward + dWeight, + dInput after the first trainable child.
        var headFLOPs = 0
        for exit in result.model.exits {
            var shape = [1] + exit.point.featureShape
            for (i, child) in (exit.head.children).enumerated() {
                let cost = child.layer.cost(for: shape)
                headFLOPs += cost.forward + (child.layer.hasTrainableParameters ? cost.backwardWeight : 0)
                    + (i > 0 ? cost.backwardInput : 0)
                shape = child.layer.outputShape(for: shape)
            }
        }
        #expect(r.trainingStepFLOPs == headFLOPs * 36 * 3)
        #expect(r.totalFLOPs == r.extractionFLOPs + r.trainingStepFLOPs)
        let json = try JSONEncoder().encode(r)
        #expect(try JSONDecoder().decode(CostReport.self, from: json) == r)
        #expect(String(decoding: json, as: UTF8.self).contains("\"totalFLOPs\""))
        #expect(r.featureStorage == "cached")
        let featureBytes = result.model.exits.map { 37 * Tensor.count(of: $0.point.featureShape) * 4 }.reduce(0, +)
        #expect(r.featureCacheBytes == featureBytes + 37 * 4 * 4)
        #expect(r.wallSeconds > 0)
        if let peak = r.peakMemoryDeltaBytes { #expect(peak >= 0) }

        // Without a loss needing the teacher, the backbone runs through the deepest point only.
        c.selfSupervision = false; c.distillation = false
        let supervisedOnly = try ExitPersonaliser(configuration: c).personalise(base, on: data)
        let deepest = result.model.exits.map(\.point.childIndex).max()!
        #expect(supervisedOnly.report.extractionFLOPs == rows[deepest].cumulativeForwardFLOPs * 37)
    }

    @Test func overTheMemoryBudgetTheBackboneIsRecomputed() throws {
        let data = EngineFixture.data(classPattern: [0, 1, 2, 3], count: 40, labelled: { $0 % 2 == 0 }, seed: 16)
        var c = EngineFixture.quick(epochs: 2)
        let cached = try ExitPersonaliser(configuration: c).personalise(base, on: data)
        c.memoryBudgetBytes = 1000
        let recomputed = try ExitPersonaliser(configuration: c).personalise(base, on: data)
        let r = recomputed.report
        #expect(r.featureStorage == "recomputed" && r.featureCacheBytes == 40 * 4 * 4)
        #expect(r.notes.contains { $0.contains("over budget") })
        let rows = base.backbone.network.costTable(for: [1, 1, EngineFixture.size, EngineFixture.size])
        let deepest = cached.model.exits.map(\.point.childIndex).max()!
        #expect(r.extractionFLOPs == rows.last!.cumulativeForwardFLOPs * 40
                + rows[deepest].cumulativeForwardFLOPs * r.trainedSamples)
        #expect(r.trainingStepFLOPs == cached.report.trainingStepFLOPs)
        // Same training, up to the summation order of batched versus per-batch features.
        for (a, b) in zip(cached.model.exits, recomputed.model.exits) {
            for (u, v) in zip(EngineFixture.state(a.head), EngineFixture.state(b.head)) {
                #expect(zip(u.scalars, v.scalars).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($0)) })
            }
        }
    }

    @Test func theSameSeedGivesBitIdenticalHeads() throws {
        let data = EngineFixture.data(classPattern: [0, 3], count: 30, labelled: { $0 % 4 == 0 }, seed: 18)
        var c = EngineFixture.quick(epochs: 2)
        c.fromScratch = true
        let a = try ExitPersonaliser(configuration: c).personalise(base, on: data)
        let b = try ExitPersonaliser(configuration: c).personalise(base, on: data)
        #expect(a.epochLosses == b.epochLosses)
        for (x, y) in zip(a.model.exits, b.model.exits) { #expect(EngineFixture.state(x.head) == EngineFixture.state(y.head)) }
        c.seed = 2
        let other = try ExitPersonaliser(configuration: c).personalise(base, on: data)
        #expect(EngineFixture.state(other.model.exits[0].head) != EngineFixture.state(a.model.exits[0].head))
    }

    /// The heads train side by side (`Parallel.forEachTask`): one worker or several, the
    /// same heads and losses to the bit.
    @Test func theHeadsTrainToTheSameBitsOnOneWorkerOrSeveral() throws {
        let data = EngineFixture.data(classPattern: [0, 1, 3], count: 24, labelled: { $0 % 3 == 0 }, seed: 19)
        let c = EngineFixture.quick(epochs: 2)
        #expect(base.exits.count >= 2)
        let saved = Parallel.workers
        defer { Parallel.workers = saved }
        var runs: [PersonalisationResult] = []
        for workers in [1, 2] {
            Parallel.workers = workers
            runs.append(try ExitPersonaliser(configuration: c).personalise(base, on: data))
        }
        for run in runs.dropFirst() {
            #expect(run.epochLosses == runs[0].epochLosses)
            for (x, y) in zip(run.model.exits, runs[0].model.exits) {
                #expect(EngineFixture.state(x.head) == EngineFixture.state(y.head))
            }
        }
    }

    @Test func badInputIsRefusedWithAnError() throws {
        let data = EngineFixture.data(classPattern: [0], count: 4, seed: 20)
        var c = PersonalisationConfig()
        c.exits = ["block7"]
        let error = try #require(throws: TrainingError.self) { try ExitPersonaliser(configuration: c).personalise(base, on: data) }
        #expect(error.message.contains("block7") && error.message.contains("block1, block2"))
        var wrongLabel = data
        wrongLabel.labels[0] = 9
        #expect(throws: TrainingError.self) { try ExitPersonaliser(configuration: PersonalisationConfig()).personalise(base, on: wrongLabel) }
        let wrongShape = UserSamples(images: Tensor(zeros: [2, 1, 8, 8]), labels: [0, 1])
        #expect(throws: TrainingError.self) { try ExitPersonaliser(configuration: PersonalisationConfig()).personalise(base, on: wrongShape) }
        c = PersonalisationConfig()
        c.distillationWeight = 2
        #expect(throws: TrainingError.self) { try ExitPersonaliser(configuration: c) }
    }

    @Test func adamAndALaterRoundTrainTheSameModelFurther() throws {
        let data = EngineFixture.data(classPattern: [1, 2], count: 32, labelled: { $0 % 2 == 0 }, seed: 22)
        var c = EngineFixture.quick(epochs: 3)
        c.optimizer = .adam; c.learningRate = 1e-3
        let personaliser = try ExitPersonaliser(configuration: c)
        let first = try personaliser.personalise(base, on: data)
        #expect(first.report.steps == 6 && first.epochLosses.allSatisfy { $0.isFinite })
        let afterFirst = first.model.exits.map { EngineFixture.state($0.head) }
        #expect(afterFirst != base.exits.map { EngineFixture.state($0.head) })
        // Only block2 this round: block1 keeps its first-round state.
        c.exits = ["block2"]
        let second = try ExitPersonaliser(configuration: c).train(first.model, on: data)
        #expect(second.model === first.model)
        #expect(EngineFixture.state(second.model.exits[0].head) == afterFirst[0])
        #expect(EngineFixture.state(second.model.exits[1].head) != afterFirst[1])
    }
}
