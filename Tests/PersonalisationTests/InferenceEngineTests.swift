import Models
import NN
@testable import Personalisation
import Tensor
import Testing
import Training

@Suite("Inference engine")
struct InferenceEngineTests {
    /// A probed ResNet-8 with a conv head at every block, a probe after each head's last
    /// child, and 12 labelled samples.
    private func setUp() throws -> (model: MultiExitModel, probes: [ForwardProbe], headProbes: [ForwardProbe], samples: UserSamples) {
        let (backbone, probes) = ExitNetFixture.probedBackbone()
        let model = ExitNetFixture.model(backbone: backbone)
        let headProbes = model.exits.map { exit -> ForwardProbe in
            let p = ForwardProbe()
            exit.head.append(p, name: "probe")
            return p
        }
        return (model, probes, headProbes, try ExitNetFixture.samples(count: 12))
    }

    /// Independent cost of classifying at exit e when `enabled` heads run on the way: the
    /// backbone prefix from `Backbone.forwardFLOPs(through:)` plus the heads' own costs.
    private func expectedFLOPs(_ model: MultiExitModel, exit e: Int?, enabled: [Bool]) -> Int {
        let heads = model.exits.enumerated().filter { i, _ in enabled[i] && (e == nil || i <= e!) }
            .reduce(0) { $0 + $1.element.head.cost(for: [1] + $1.element.point.featureShape).forward }
        let backbone = e.map { model.backbone.forwardFLOPs(through: model.exits[$0].point) } ?? model.backbone.forwardFLOPs
        return backbone + heads
    }

    /// Index of the probe just after (before) layer child `childIndex` of the probed backbone
    /// (children alternate layer, probe: layer k is child 2k, its probe child 2k + 1).
    private func probeAfter(_ childIndex: Int) -> Int { childIndex / 2 }
    private func probeBefore(_ childIndex: Int) -> Int { childIndex / 2 - 1 }

    @Test("thresholds of 0: every sample leaves at the first enabled exit; later children never run")
    func zeroThresholdsLeaveAtFirstEnabledExit() throws {
        let (model, probes, headProbes, samples) = try setUp()
        // Exit 0 disabled, so the first enabled exit is exit 1 (block2).
        let engine = try InferenceEngine(network: model, policy: .earlyExit(thresholds: [nil, 0, 0]))
        let report = try engine.run(samples, mode: .batchOne(warmUp: 0))
        #expect(report.records.allSatisfy { $0.exit == 1 && $0.classifier == "block2" })
        #expect(report.summary.exitHistogram == [0, 12, 0, 0])
        let expected = expectedFLOPs(model, exit: 1, enabled: [false, true, true])
        #expect(expected == model.cumulativeFLOPs(of: model.exits[1]))
        #expect(report.records.allSatisfy { $0.flops == expected })
        #expect(report.records.allSatisfy { ($0.latency ?? -1) > 0 })
        #expect(headProbes.map(\.rows) == [0, 12, 0])
        let point = model.exits[1].point.childIndex
        for (k, probe) in probes.enumerated() {
            #expect(probe.rows == (2 * k + 1 < point ? 12 : 0), "probe at child \(2 * k + 1)")
        }
        #expect(probes[probeBefore(point)].rows == 12)
        #expect(probes[probeAfter(point)].rows == 0)
    }

    @Test("thresholds above 1: every sample reaches the final classifier at full cost plus every head")
    func highThresholdsReachFinal() throws {
        let (model, probes, headProbes, samples) = try setUp()
        let engine = try InferenceEngine(network: model, policy: .earlyExit(thresholds: [1.5, 1.5, 1.5]))
        let report = try engine.run(samples, mode: .batched(size: 5))
        #expect(report.records.allSatisfy { $0.exit == nil && $0.classifier == "final" && $0.latency == nil })
        let expected = expectedFLOPs(model, exit: nil, enabled: [true, true, true])
        #expect(report.records.allSatisfy { $0.flops == expected })
        #expect(report.summary.meanFLOPs == Double(expected))
        #expect(headProbes.map(\.rows) == [12, 12, 12])
        #expect(probes.allSatisfy { $0.rows == 12 })
        // Predictions are the full network's.
        let logits = model.forward(ExitNetFixture.batch(samples)).finalLogits
        #expect(report.records.map(\.predicted) == topOne(logits).classes)
    }

    @Test("mixed thresholds: exits, predictions and FLOPs match a replay of the full forward pass; batch and batch-1 agree")
    func mixedThresholdsMatchReplay() throws {
        let (model, probes, headProbes, samples) = try setUp()
        let out = model.forward(ExitNetFixture.batch(samples))
        let tops = (out.exitLogits + [out.finalLogits]).map(topOne)
        // Thresholds halfway between the 6th and 7th confidences at exits 0 and 2; exit 1
        // disabled. Halfway, not at a confidence: batch-1 inference may pick another convolution
        // algorithm than the batch of 12 and so differ in the last bits.
        func midway(_ c: [Float]) -> Float { let s = c.sorted(); return (s[5] + s[6]) / 2 }
        let t0 = midway(tops[0].confidences), t2 = midway(tops[2].confidences)
        let policy = ExitPolicy.earlyExit(thresholds: [t0, nil, t2])
        let engine = try InferenceEngine(network: model, policy: policy)
        let single = try engine.run(samples, mode: .batchOne(warmUp: 1))
        for probe in probes + headProbes { probe.reset() }
        let batched = try engine.run(samples, mode: .batched(size: 5))

        var expectedExits: [Int?] = []
        for i in 0..<samples.count {
            let exit: Int? = tops[0].confidences[i] >= t0 ? 0 : (tops[2].confidences[i] >= t2 ? 2 : nil)
            expectedExits.append(exit)
            let r = single.records[i]
            #expect(r.exit == exit)
            #expect(r.predicted == tops[exit ?? 3].classes[i])
            #expect(r.correct == (r.predicted == samples.labels[i]))
            #expect(r.flops == expectedFLOPs(model, exit: exit, enabled: [true, false, true]))
            #expect(r.flops == policy.flops(taken: exit ?? 3, network: model))
        }
        let leftAt0 = expectedExits.filter { $0 == 0 }.count, leftAt2 = expectedExits.filter { $0 == 2 }.count
        #expect(leftAt0 >= 6 && leftAt0 < 12)
        #expect(batched.records.map(\.exit) == single.records.map(\.exit))
        #expect(batched.records.map(\.predicted) == single.records.map(\.predicted))
        #expect(batched.records.map(\.flops) == single.records.map(\.flops))
        // In the batched run the batch shrank: children after block1 saw only the rows that stayed.
        #expect(headProbes.map(\.rows) == [12, 0, 12 - leftAt0])
        let p0 = model.exits[0].point.childIndex, p2 = model.exits[2].point.childIndex
        #expect(probes[probeBefore(p0)].rows == 12)
        #expect(probes[probeAfter(p0)].rows == 12 - leftAt0)
        #expect(probes[probeBefore(p2)].rows == 12 - leftAt0)
        #expect(probes[probeAfter(p2)].rows == 12 - leftAt0 - leftAt2)
        #expect(probes.last!.rows == 12 - leftAt0 - leftAt2)
        let s = single.summary
        #expect(s.exitHistogram == [leftAt0, 0, leftAt2, 12 - leftAt0 - leftAt2])
        #expect(abs(s.meanFLOPs - Double(single.records.map(\.flops).reduce(0, +)) / 12) < 1e-9)
        #expect(s.accuracy == Double(single.records.filter { $0.correct! }.count) / 12)
        #expect(s.meanLatency != nil && batched.summary.meanLatency == nil)
    }

    @Test("fixed exit: every sample leaves at that exit; no other head and no later child runs")
    func fixedExitTruncates() throws {
        let (model, probes, headProbes, samples) = try setUp()
        let engine = try InferenceEngine(network: model, policy: .fixedExit(1))
        let report = try engine.run(samples, mode: .batched(size: 7))
        #expect(report.records.allSatisfy { $0.exit == 1 && $0.flops == model.cumulativeFLOPs(of: model.exits[1]) })
        #expect(headProbes.map(\.rows) == [0, 12, 0])
        #expect(probes[probeBefore(model.exits[1].point.childIndex)].rows == 12)
        #expect(probes[probeAfter(model.exits[1].point.childIndex)].rows == 0)
        let logits = model.forward(ExitNetFixture.batch(samples)).exitLogits[1]
        #expect(report.records.map(\.predicted) == topOne(logits).classes)
    }

    @Test("full-network comparison: a policy that exits early spends fewer FLOPs; speed-ups are the measured ratios")
    func speedUpFromMeasuredNumbers() throws {
        let (model, _, _, samples) = try setUp()
        let (run, full, speedUp) = try InferenceEngine.compareWithFullNetwork(model, policy: .fixedExit(0), samples: samples,
                                                                               mode: .batchOne(warmUp: 1))
        #expect(full.records.allSatisfy { $0.exit == nil && $0.flops == model.backbone.forwardFLOPs })
        #expect(speedUp.flopsReduction == full.summary.meanFLOPs / run.summary.meanFLOPs)
        #expect(speedUp.flopsReduction > 1)
        #expect(speedUp.latencySpeedUp == full.summary.meanLatency! / run.summary.meanLatency!)
        #expect(speedUp.equalAccuracy == (run.summary.accuracy! >= full.summary.accuracy! - 0.01 - 1e-9))
    }

    @Test("bad arguments are refused with a hint")
    func refusesBadArguments() throws {
        let model = ExitNetFixture.model()
        #expect(throws: OrchestratorError.self) { try InferenceEngine(network: model, policy: .earlyExit(thresholds: [0.5])) }
        #expect(throws: OrchestratorError.self) { try InferenceEngine(network: model, policy: .earlyExit(thresholds: [0.5, -1, nil])) }
        #expect(throws: OrchestratorError.self) { try InferenceEngine(network: model, policy: .fixedExit(3)) }
        let images = Tensor(zeros: [2, 1, 12, 12])
        #expect(throws: OrchestratorError.self) { try UserSamples(images: images, indices: [0, 2], labels: [nil, nil]) }
        #expect(throws: OrchestratorError.self) { try UserSamples(images: images, indices: [0], labels: []) }
        let samples = try ExitNetFixture.samples(count: 2)
        let engine = try InferenceEngine(network: model, policy: .fullNetwork)
        #expect(throws: OrchestratorError.self) { try engine.run(samples, mode: .batched(size: 0)) }
    }
}
