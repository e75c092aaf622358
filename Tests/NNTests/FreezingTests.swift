import Testing
@testable import NN
import Tensor

/// A parameter-free layer that records whether backward reached it.
final class Probe: Layer {
    var forwardModes: [Mode] = []
    var backwardCalls = 0

    func forward(_ input: Tensor, mode: Mode) -> Tensor { forwardModes.append(mode); return input }
    func backward(_ dOutput: Tensor) -> Tensor? { backwardCalls += 1; return dOutput }
    func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
}

@Suite struct FreezingTests {
    /// probe - backbone (conv, bn, relu) - head (conv, bn, relu, pool, fc)
    private func network(_ rng: inout SeededGenerator) -> (Sequential, Sequential, Sequential, Probe) {
        let probe = Probe()
        let backbone = Sequential([
            (name: "conv", layer: Conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1, generator: &rng)),
            (name: "bn", layer: BatchNorm2d(channels: 4)), (name: "relu", layer: ReLU()),
        ])
        let head = Sequential([
            (name: "conv", layer: Conv2d(inChannels: 4, outChannels: 4, kernelSize: 3, padding: 1, generator: &rng)),
            (name: "bn", layer: BatchNorm2d(channels: 4)), (name: "relu", layer: ReLU()),
            (name: "pool", layer: GlobalAvgPool()),
            (name: "fc", layer: Linear(inFeatures: 4, outFeatures: 3, generator: &rng)),
        ])
        let net = Sequential([(name: "probe", layer: probe), (name: "backbone", layer: backbone), (name: "head", layer: head)])
        return (net, backbone, head, probe)
    }

    @Test func frozenPrefixGetsNoGradientAndNoBackward() {
        var rng = SeededGenerator(seed: 30)
        let (net, backbone, head, probe) = network(&rng)
        backbone.setFrozen(true)
        let bn = backbone["bn"] as! BatchNorm2d
        let frozenConv = backbone["conv"] as! Conv2d
        let headConv = head["conv"] as! Conv2d
        let statsBefore = bn.runningMean.value
        let x = randomTensor([3, 1, 6, 6], &rng)

        let logits = net.forward(x, mode: .training(inputGradient: false))
        // The frozen prefix ran as inference: no activations kept, BN statistics untouched.
        #expect(probe.forwardModes == [.inference])
        #expect(frozenConv.cachedInput == nil)
        #expect(bn.runningMean.value == statsBefore)
        let loss = Loss.softmaxCrossEntropy(logits: logits, labels: [0, 1, 2])
        #expect(net.backward(loss.dLogits) == nil)
        // Backward stopped at the head: nothing before it was visited or given gradients.
        #expect(probe.backwardCalls == 0)
        #expect(backbone.parameters.allSatisfy { $0.gradient.scalars.allSatisfy { $0 == 0 } })
        #expect(head.parameters.allSatisfy { $0.gradient.scalars.contains { $0 != 0 } })
        #expect(headConv.cachedInput == nil)   // released by backward
    }

    @Test func frozenPrefixOutputMatchesInference() {
        var rng = SeededGenerator(seed: 31)
        let (net, backbone, head, _) = network(&rng)
        backbone.setFrozen(true)
        head.setFrozen(true)
        let x = randomTensor([2, 1, 5, 5], &rng)
        // Everything frozen: a training pass is exactly inference and backward does nothing.
        let trained = net.forward(x, mode: .training(inputGradient: false))
        #expect(net.backward(Tensor(zeros: [2, 3])) == nil)
        #expect(trained == net.forward(x, mode: .inference))
    }

    @Test func unfrozenNetworkBackpropagatesEverywhere() {
        var rng = SeededGenerator(seed: 32)
        let (net, backbone, _, probe) = network(&rng)
        let x = randomTensor([3, 1, 6, 6], &rng)
        let logits = net.forward(x, mode: .training(inputGradient: false))
        #expect(probe.forwardModes == [.inference])   // parameter-free leading layer: still a prefix
        _ = net.backward(Loss.softmaxCrossEntropy(logits: logits, labels: [0, 1, 2]).dLogits)
        #expect(probe.backwardCalls == 0)
        #expect(backbone.parameters.allSatisfy { $0.gradient.scalars.contains { $0 != 0 } })
        // With an input gradient requested the whole network is walked back.
        net.zeroGradients()
        let again = net.forward(x, mode: .training)
        #expect(net.backward(Loss.softmaxCrossEntropy(logits: again, labels: [0, 1, 2]).dLogits)?.shape == x.shape)
        #expect(probe.backwardCalls == 1)
    }

    @Test func frozenLayerInsideTrainablePartPassesGradientOnly() {
        var rng = SeededGenerator(seed: 33)
        let first = Linear(inFeatures: 3, outFeatures: 4, generator: &rng)
        let middle = Linear(inFeatures: 4, outFeatures: 4, generator: &rng)
        let last = Linear(inFeatures: 4, outFeatures: 2, generator: &rng)
        middle.setFrozen(true)
        let net = Sequential([first, middle, last])
        let y = net.forward(randomTensor([2, 3], &rng), mode: .training(inputGradient: false))
        _ = net.backward(Tensor(repeating: 1, shape: y.shape))
        #expect(middle.parameters.allSatisfy { $0.gradient.scalars.allSatisfy { $0 == 0 } })
        #expect(first.weight.gradient.scalars.contains { $0 != 0 })
    }
}
