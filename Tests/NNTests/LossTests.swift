import Foundation
import Testing
@testable import NN
import Tensor

@Suite struct LossTests {
    @Test func crossEntropyByHand() {
        let r = Loss.softmaxCrossEntropy(logits: Tensor(shape: [1, 2], scalars: [0, 0]), labels: [0])
        #expect(abs(r.loss - Float(log(2.0))) < 1e-6)
        #expect(r.dLogits.scalars == [-0.5, 0.5])
        // Weighted: a weight-0 sample contributes nothing, whatever its label (-1 = unlabelled).
        let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, 5, -1, 0])
        let masked = Loss.softmaxCrossEntropy(logits: logits, labels: [2, -1], weights: [2, 0])
        let alone = Loss.softmaxCrossEntropy(logits: Tensor(shape: [1, 3], scalars: [1, 2, 3]), labels: [2])
        #expect(abs(masked.loss - alone.loss) < 1e-6)
        #expect(Array(masked.dLogits.scalars.suffix(3)) == [0, 0, 0])
        let expected = -log(exp(3.0) / (exp(1.0) + exp(2.0) + exp(3.0)))
        #expect(abs(Double(alone.loss) - expected) < 1e-6)
    }

    @Test func allMaskedBatchIsZeroNotNaN() {
        let logits = Tensor(shape: [3, 4], scalars: (0..<12).map(Float.init))
        let r = Loss.softmaxCrossEntropy(logits: logits, labels: [-1, -1, -1], weights: [0, 0, 0])
        #expect(r.loss == 0 && r.dLogits.scalars.allSatisfy { $0 == 0 })
        let soft = Loss.distillation(logits: logits, teacherLogits: logits, temperature: 3, weights: [0, 0, 0])
        #expect(soft.loss == 0 && soft.dLogits.scalars.allSatisfy { $0 == 0 })
    }

    @Test func stableForHugeLogits() {
        let logits = Tensor(shape: [2, 3], scalars: [1000, 0, -1000, 88, 89, 90])
        let r = Loss.softmaxCrossEntropy(logits: logits, labels: [1, 2])
        #expect(r.loss.isFinite && r.dLogits.scalars.allSatisfy(\.isFinite))
        #expect(abs(r.loss - (1000 + Float(-log(exp(2.0) / (1 + exp(1.0) + exp(2.0))))) / 2) < 1e-3)
    }

    @Test func softTargetsByHand() {
        // p = softmax([0, 0] / 2) = [0.5, 0.5]; loss = T^2 * ln 2; gradient T * (p - q).
        let r = Loss.softTargetCrossEntropy(logits: Tensor(shape: [1, 2], scalars: [0, 0]),
                                            targets: Tensor(shape: [1, 2], scalars: [0.25, 0.75]), temperature: 2)
        #expect(abs(r.loss - 4 * Float(log(2.0))) < 1e-5)
        #expect(r.dLogits.scalars == [0.5, -0.5])
        // Distilling from itself: gradient zero at any T.
        let z = Tensor(shape: [2, 3], scalars: [0.3, -1, 2, 1, 1, 0])
        let selfDistilled = Loss.distillation(logits: z, teacherLogits: z, temperature: 4)
        #expect(selfDistilled.dLogits.scalars.allSatisfy { abs($0) < 1e-6 })
    }

    /// Finite differences in Double of the loss against its analytic dLogits.
    private func checkGradient(_ f: (Tensor) -> LossResult, logits: Tensor) {
        let analytic = f(logits).dLogits
        var z = logits
        let eps: Float = 1e-2
        var diff = 0.0, norm = 0.0
        for i in 0..<z.count {
            let original = z.scalars[i]
            z.scalars[i] = original + eps; let plus = Double(f(z).loss)
            z.scalars[i] = original - eps; let minus = Double(f(z).loss)
            z.scalars[i] = original
            let numeric = (plus - minus) / Double(2 * eps)
            diff += (numeric - Double(analytic.scalars[i])) * (numeric - Double(analytic.scalars[i]))
            norm += numeric * numeric
        }
        #expect(diff.squareRoot() / max(norm.squareRoot(), 1e-3) < 1e-2)
    }

    @Test func gradients() {
        var rng = SeededGenerator(seed: 20)
        let logits = randomTensor([5, 7], &rng)
        let labels = [3, 0, 6, 2, 2], weights: [Float] = [1, 0, 0.5, 2, 1]
        checkGradient({ Loss.softmaxCrossEntropy(logits: $0, labels: labels, weights: weights) }, logits: logits)
        checkGradient({ Loss.softmaxCrossEntropy(logits: $0, labels: labels) }, logits: logits)
        let teacher = randomTensor([5, 7], &rng, scale: 2)
        for t: Float in [1, 3] {
            checkGradient({ Loss.distillation(logits: $0, teacherLogits: teacher, temperature: t, weights: weights) }, logits: logits)
        }
        let targets = Loss.softmax(randomTensor([5, 7], &rng))
        checkGradient({ Loss.softTargetCrossEntropy(logits: $0, targets: targets, temperature: 2) }, logits: logits)
    }
}
