import Testing
@testable import NN
import Tensor

@Suite struct OptimizerTests {
    private func parameter(_ value: Float, gradient: Float) -> Parameter {
        let p = Parameter(name: "p", value: Tensor(shape: [1], scalars: [value]))
        p.gradient = Tensor(shape: [1], scalars: [gradient])
        return p
    }

    @Test func sgdMatchesPyTorchByHand() {
        // lr 0.1, momentum 0.9, weight decay 0.01, constant gradient 0.5, p0 = 1.
        let p = parameter(1, gradient: 0.5)
        let sgd = SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        sgd.step()   // g = 0.51, buf = 0.51, p = 0.949
        #expect(abs(p.value.scalars[0] - 0.949) < 1e-6)
        sgd.step()   // g = 0.50949, buf = 0.9 * 0.51 + 0.50949 = 0.96849, p = 0.852151
        #expect(abs(p.value.scalars[0] - 0.852151) < 1e-6)

        let q = parameter(1, gradient: 0.5)
        SGD(parameters: [q], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true).step()
        #expect(abs(q.value.scalars[0] - (1 - 0.1 * (0.51 + 0.9 * 0.51))) < 1e-6)

        let plain = parameter(2, gradient: -1)
        SGD(parameters: [plain], learningRate: 0.5).step()
        #expect(plain.value.scalars == [2.5])
    }

    @Test func adamAndAdamWByHand() {
        // First Adam step moves by lr * sign(g) (bias-corrected m / sqrt(v) = 1).
        let p = parameter(1, gradient: 0.5)
        Adam(parameters: [p], learningRate: 0.1).step()
        #expect(abs(p.value.scalars[0] - 0.9) < 1e-6)
        // AdamW: decay p by lr * wd first: 1 * (1 - 0.01) - 0.1.
        let q = parameter(1, gradient: 0.5)
        Adam.adamW(parameters: [q], learningRate: 0.1, weightDecay: 0.1).step()
        #expect(abs(q.value.scalars[0] - 0.89) < 1e-6)
        // Adam with L2: g = 0.5 + 0.1 * 1, still a unit step on the first iteration.
        let r = parameter(1, gradient: 0.5)
        let adam = Adam(parameters: [r], learningRate: 0.1, weightDecay: 0.1)
        adam.step()
        #expect(abs(r.value.scalars[0] - 0.9) < 1e-6)
        // Second step, g' = 0.5 + 0.1 * 0.9 = 0.59: m = 0.9 * 0.06 + 0.1 * 0.59, v likewise.
        adam.step()
        let m = 0.9 * 0.06 + 0.1 * 0.59, v = 0.999 * 0.001 * 0.36 + 0.001 * 0.59 * 0.59
        let expected = 0.9 - 0.1 * (m / (1 - 0.81)) / ((v / (1 - 0.999 * 0.999)).squareRoot() + 1e-8)
        #expect(abs(Double(r.value.scalars[0]) - expected) < 1e-5)
    }

    @Test func frozenParametersAreSkipped() {
        let p = parameter(1, gradient: 0.5), q = parameter(1, gradient: 0.5)
        q.isFrozen = true
        SGD(parameters: [p, q], learningRate: 0.1, momentum: 0.9).step()
        Adam(parameters: [p, q], learningRate: 0.1).step()
        #expect(p.value.scalars[0] != 1 && q.value.scalars == [1])
    }

    @Test func schedules() {
        let step = LearningRateSchedule.step(base: 0.1, every: 10, factor: 0.1)
        #expect(step.learningRate(at: 9) == 0.1 && abs(step.learningRate(at: 10) - 0.01) < 1e-9)
        let multi = LearningRateSchedule.multiStep(base: 1, milestones: [3, 5], factor: 0.5)
        #expect([0, 3, 4, 5, 9].map { multi.learningRate(at: $0) } == [1, 0.5, 0.5, 0.25, 0.25])
        let cosine = LearningRateSchedule.cosine(base: 1, steps: 10, floor: 0.1)
        #expect(cosine.learningRate(at: 0) == 1 && abs(cosine.learningRate(at: 5) - 0.55) < 1e-6)
        #expect(cosine.learningRate(at: 10) == 0.1 && cosine.learningRate(at: 50) == 0.1)
        let warm = LearningRateSchedule.warmup(steps: 4, then: .cosine(base: 0.2, steps: 8))
        #expect([0, 1, 3].map { warm.learningRate(at: $0) } == [0.05, 0.1, 0.2])
        #expect(warm.learningRate(at: 4) == 0.2 && abs(warm.learningRate(at: 8) - 0.1) < 1e-6)
        #expect(LearningRateSchedule.constant(0.3).learningRate(at: 1000) == 0.3)
    }
}
