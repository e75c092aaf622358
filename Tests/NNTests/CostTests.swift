import Testing
@testable import NN
import Tensor

@Suite struct CostTests {
    @Test func resNet20CountsMatchTheArchitecture() {
        var rng = SeededGenerator(seed: 60)
        let net = resNet20(&rng)
        let shape = [1, 1, 28, 28]
        #expect(net.outputShape(for: shape) == [1, 10])
        // Convolution multiply-adds by hand: stem, 3 stages of 6 convs, two 1x1 projections, fc.
        let stem = 16 * 9 * 28 * 28
        let stage1 = 6 * 16 * 16 * 9 * 28 * 28
        let stage2 = 16 * 32 * 9 * 14 * 14 + 5 * 32 * 32 * 9 * 14 * 14 + 16 * 32 * 14 * 14
        let stage3 = 32 * 64 * 9 * 7 * 7 + 5 * 64 * 64 * 9 * 7 * 7 + 32 * 64 * 7 * 7
        let macs = stem + stage1 + stage2 + stage3 + 64 * 10
        var convAndLinear = 0
        func visit(_ layer: any Layer, _ inputShape: [Int]) -> [Int] {
            if let s = layer as? Sequential {
                return s.children.reduce(inputShape) { visit($1.layer, $0) }
            }
            if let b = layer as? ResidualBlock {
                _ = visit(b.main, inputShape); if let sc = b.shortcut { _ = visit(sc, inputShape) }
                return b.outputShape(for: inputShape)
            }
            if layer is Conv2d || layer is Linear { convAndLinear += layer.cost(for: inputShape).forward }
            return layer.outputShape(for: inputShape)
        }
        _ = visit(net, shape)
        #expect(convAndLinear == 2 * macs + 10)   // + the fc bias adds
        #expect(abs(Double(2 * macs) / 1e6 - 62) < 1)   // the "62 MFLOP per image"
        // Parameters: conv weights + BN (2 per channel) + fc.
        let convWeights = 16 * 9 + 6 * 16 * 16 * 9 + (16 * 32 * 9 + 5 * 32 * 32 * 9 + 16 * 32)
            + (32 * 64 * 9 + 5 * 64 * 64 * 9 + 32 * 64)
        let bnChannels = 16 + 6 * 16 + 6 * 32 + 32 + 6 * 64 + 64
        #expect(net.parameterCount == convWeights + 2 * bnChannels + 64 * 10 + 10)
        #expect(net.parameterCount == 272_186)
        // The whole network's cost is the sum over its children, and the table's totals run.
        let table = net.costTable(for: shape)
        #expect(table.map(\.name) == ["conv1", "bn1", "relu", "layer1", "layer2", "layer3", "pool", "fc"])
        #expect(table.last!.cumulativeForwardFLOPs == net.cost(for: shape).forward)
        #expect(table.last!.cumulativeParameters == net.parameterCount)
        #expect(net.prefix(4).cost(for: shape).forward == table[3].cumulativeForwardFLOPs)
        // Batch scales every count linearly.
        #expect(net.cost(for: [8, 1, 28, 28]).forward == 8 * net.cost(for: shape).forward)
    }

    @Test func trainingStepFLOPsFollowTheFreezingConvention() {
        var rng = SeededGenerator(seed: 61)
        let conv1 = Conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1, generator: &rng)
        let conv2 = Conv2d(inChannels: 4, outChannels: 4, kernelSize: 3, padding: 1, generator: &rng)
        let fc = Linear(inFeatures: 4, outFeatures: 2, generator: &rng)
        let net = Sequential([conv1, ReLU(), conv2, ReLU(), GlobalAvgPool(), fc])
        let s0 = [2, 1, 8, 8], s1 = [2, 4, 8, 8], s4 = [2, 4]
        let c1 = conv1.cost(for: s0), relu = ReLU().cost(for: s1), c2 = conv2.cost(for: s1)
        let pool = GlobalAvgPool().cost(for: s1), f = fc.cost(for: s4)
        let forward = c1.forward + 2 * relu.forward + c2.forward + pool.forward + f.forward
        #expect(net.cost(for: s0).forward == forward)
        // Everything trainable: the first layer needs no dInput (images), the rest full backward.
        let full = forward + c1.backwardWeight + 2 * relu.backwardInput + c2.backwardInput + c2.backwardWeight
            + pool.backwardInput + f.backwardInput + f.backwardWeight
        #expect(net.trainingStepFLOPs(for: s0, inputGradient: false) == full)
        // conv1 frozen: forward only up to conv2, which computes dWeight but no dInput.
        conv1.setFrozen(true)
        let head = forward + c2.backwardWeight + relu.backwardInput + pool.backwardInput + f.backwardInput + f.backwardWeight
        #expect(net.trainingStepFLOPs(for: s0, inputGradient: false) == head)
        // Only the classifier trains: forward everywhere plus its dWeight.
        conv2.setFrozen(true)
        #expect(net.trainingStepFLOPs(for: s0, inputGradient: false) == forward + f.backwardWeight)
        #expect(c1.forward == 2 * 2 * 4 * 9 * 64 && c1.backwardInput == c1.forward)
    }
}
