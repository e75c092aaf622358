import Models
@testable import Personalisation
import Tensor
import Testing
import Training

@Suite("Profiler")
struct ProfilerTests {
    /// Top-1 predictions of every classifier (exits, then final) from the model's own forward pass.
    private func predictions(_ model: MultiExitModel, _ samples: UserSamples) -> [[Int]] {
        let out = model.forward(ExitNetFixture.batch(samples))
        return (out.exitLogits + [out.finalLogits]).map { topOne($0).classes }
    }

    @Test("basis rule: labels when at least k labelled validation samples, else agreement with the final classifier")
    func basisRule() throws {
        let model = ExitNetFixture.model()
        let options = ProfilerOptions(basis: .labelsWhenAtLeast(20), latency: nil, batchSize: 7)
        // 25 of 30 labelled: scored on the 25 labels.
        let many = try ExitNetFixture.samples(count: 30) { $0 % 6 != 5 }
        let p = try Profiler.profile(model, validation: many, options: options)
        #expect(p.basis == .labels(count: 25))
        let preds = predictions(model, many)
        for (c, profile) in p.classifiers.enumerated() {
            let correct = zip(preds[c], many.labels).filter { $1 != nil && $0 == $1 }.count
            #expect(profile.correct == correct && profile.scored == 25)
        }
        // 10 of 30 labelled: agreement with the final classifier on all 30; the final scores 1.
        let few = try ExitNetFixture.samples(count: 30) { $0 % 3 == 0 }
        let q = try Profiler.profile(model, validation: few, options: options)
        #expect(q.basis == .agreementWithFinal(count: 30))
        #expect(q.final.accuracy == 1)
        let fewPreds = predictions(model, few)
        for e in 0..<3 {
            #expect(q.exits[e].correct == zip(fewPreds[e], fewPreds[3]).filter { $0 == $1 }.count)
        }
        // Mixed: labels where present, agreement elsewhere.
        let r = try Profiler.profile(model, validation: few,
                                     options: ProfilerOptions(basis: .mixed, latency: nil))
        #expect(r.basis == .mixed(labelled: 10, agreement: 20))
        #expect(r.scores.targets == zip(few.labels, fewPreds[3]).map { $0 ?? $1 })
        #expect(Profiler.basisAndTargets(labels: [1, 2], finalPredictions: [0, 0], rule: .mixed).0 == .labels(count: 2))
        #expect(Profiler.basisAndTargets(labels: [nil, nil], finalPredictions: [0, 1], rule: .mixed).0 == .agreementWithFinal(count: 2))
        // Exactly k labels is enough.
        #expect(Profiler.basisAndTargets(labels: [1, nil, 2], finalPredictions: [0, 0, 0], rule: .labelsWhenAtLeast(2)).0 == .labels(count: 2))
        #expect(Profiler.basisAndTargets(labels: [1, nil, nil], finalPredictions: [0, 0, 0], rule: .labelsWhenAtLeast(2)).0 == .agreementWithFinal(count: 3))
    }

    @Test("FLOPs are the backbone prefix plus the head from cost functions; stored outputs match the forward pass")
    func flopsAndScores() throws {
        let model = ExitNetFixture.model(kind: .sdn)
        let samples = try ExitNetFixture.samples(count: 9)
        let p = try Profiler.profile(model, validation: samples, options: ProfilerOptions(latency: nil, batchSize: 4))
        #expect(p.exits.map(\.flops) == model.exits.map { model.cumulativeFLOPs(of: $0) })
        #expect(p.exits.map(\.name) == ["block1", "block2", "block3"] && p.exits.map(\.exit) == [0, 1, 2])
        #expect(p.final.flops == model.backbone.forwardFLOPs && p.final.exit == nil && p.final.name == "final")
        #expect(p.exits[0].flops < p.exits[1].flops && p.exits[1].flops < p.exits[2].flops)
        #expect(p.scores.predictions == predictions(model, samples))
        #expect(p.scores.confidences.allSatisfy { $0.allSatisfy { $0 >= 1.0 / 3 - 1e-6 && $0 <= 1 } })
        #expect(p.exits.allSatisfy { $0.latency == nil })
    }

    @Test("latency: median of the timed runs at batch 1, per classifier")
    func latency() throws {
        let model = ExitNetFixture.model()
        let samples = try ExitNetFixture.samples(count: 4)
        let p = try Profiler.profile(model, validation: samples,
                                     options: ProfilerOptions(latency: LatencyOptions(warmUp: 1, repeats: 5)))
        for c in p.classifiers {
            let l = try #require(c.latency)
            #expect(l.runs == 5 && l.minimum > 0 && l.minimum <= l.median && l.median <= l.maximum)
        }
        // What is timed is classifier c alone, and it computes classifier c's logits.
        let x = ExitNetFixture.batch(samples)
        let all = model.forward(x).classifierLogits
        for c in 0..<model.classifierCount { #expect(model.classifierForward(c)(x) == all[c]) }
    }

    @Test("bad inputs are refused")
    func refusesBadInputs() throws {
        let model = ExitNetFixture.model()
        let empty = try UserSamples(images: Tensor(zeros: [1, 1, 12, 12]), indices: [], labels: [])
        #expect(throws: OrchestratorError.self) { try Profiler.profile(model, validation: empty) }
        let samples = try ExitNetFixture.samples(count: 3)
        #expect(throws: OrchestratorError.self) {
            try Profiler.profile(model, validation: samples, options: ProfilerOptions(basis: .labelsWhenAtLeast(0)))
        }
        #expect(throws: OrchestratorError.self) {
            try Profiler.profile(model, validation: samples, options: ProfilerOptions(latency: LatencyOptions(warmUp: 0, repeats: 0)))
        }
    }
}
