import Testing
@testable import NN
import Tensor

@Suite struct TrainingTests {
    /// Trains `net` on a fixed batch with SGD and returns the losses per step.
    private func train(_ net: Sequential, steps: Int, x: Tensor, labels: [Int], learningRate: Float) -> [Float] {
        let sgd = SGD(parameters: net.parameters, learningRate: learningRate, momentum: 0.9, weightDecay: 1e-4)
        var losses: [Float] = []
        for _ in 0..<steps {
            net.zeroGradients()
            let logits = net.forward(x, mode: .training(inputGradient: false))
            let loss = Loss.softmaxCrossEntropy(logits: logits, labels: labels)
            losses.append(loss.loss)
            _ = net.backward(loss.dLogits)
            sgd.step()
        }
        return losses
    }

    @Test func tinyCNNOverfitsATinyBatch() {
        var rng = SeededGenerator(seed: 40)
        let net = tinyCNN(classes: 4, &rng)
        let x = randomTensor([8, 1, 8, 8], &rng)
        let labels = [0, 1, 2, 3, 0, 1, 2, 3]
        let losses = train(net, steps: 60, x: x, labels: labels, learningRate: 0.1)
        #expect(losses.last! * 10 < losses.first!, "loss \(losses.first!) -> \(losses.last!)")
    }

    @Test func seededRunsAreBitIdentical() {
        func run() -> [Tensor] {
            var rng = SeededGenerator(seed: 41)
            let net = Sequential([
                (name: "body", layer: tinyCNN(classes: 4, &rng)),
                (name: "drop", layer: Dropout(probability: 0.2, generator: rng.derived(1))),
            ])
            let x = randomTensor([6, 1, 8, 8], &rng)
            _ = train(net, steps: 5, x: x, labels: [0, 1, 2, 3, 0, 1], learningRate: 0.05)
            return net.parameters.map(\.value) + net.namedBuffers.map(\.buffer.value)
        }
        let a = run(), b = run()
        #expect(a.map(\.scalars).elementsEqual(b.map(\.scalars)) { $0.map(\.bitPattern) == $1.map(\.bitPattern) })
    }

    @Test func headOnFrozenBackboneTrains() {
        var rng = SeededGenerator(seed: 42)
        let backbone = tinyCNN(classes: 4, &rng)
        backbone.setFrozen(true)
        let head = Linear(inFeatures: 4, outFeatures: 4, generator: &rng)
        let net = Sequential([(name: "backbone", layer: backbone), (name: "head", layer: head)])
        let before = backbone.parameters.map(\.value)
        let x = randomTensor([8, 1, 8, 8], &rng)
        let losses = train(net, steps: 40, x: x, labels: [0, 1, 2, 3, 3, 2, 1, 0], learningRate: 0.2)
        #expect(losses.last! < losses.first!)
        #expect(backbone.parameters.map(\.value) == before)
    }
}
