// Batch norm + ReLU / ReLU6 fused (`Sequential` runs a batch norm directly followed by an
// activation as one kernel each way): the fused kernels and the fused layer pair give the
// same bits as the unfused kernels and layers, and the pair's gradients pass the
// finite-difference check.
import Testing
@testable import NN
@testable import Tensor

@Suite struct FusionTests {
    static let shapes: [[Int]] = [[2, 3, 5, 7], [5, 16, 13, 11], [1, 1, 1, 3]]

    @Test(arguments: shapes)
    func fusedBatchNormKernelsEqualTheSeparateKernels(shape: [Int]) {
        var rng = SeededGenerator(seed: 60)
        let c = shape[1]
        // Scaled so that ReLU6 clips at both ends.
        let x = Tensor(shape: shape, scalars: (0..<Tensor.count(of: shape)).map { _ in rng.nextNormal() * 3 + 1.5 })
        let dy = Tensor(shape: shape, scalars: (0..<x.count).map { _ in rng.nextNormal() })
        let gamma = (0..<c).map { _ in rng.nextNormal() * 4 }, beta = (0..<c).map { _ in rng.nextNormal() * 2 }
        for cap in [Float.infinity, 6] {
            let (y, stats) = batchNormForwardTraining(x, gamma: gamma, beta: beta, eps: 1e-5)
            let activated = clampedReLUForward(y, cap: cap)
            let (fused, fusedStats) = batchNormForwardTraining(x, gamma: gamma, beta: beta, eps: 1e-5, activationCap: cap)
            #expect(fused == activated, "forward cap \(cap)")
            #expect(fusedStats.mean == stats.mean && fusedStats.invStd == stats.invStd)
            let masked = clampedReLUBackward(dOutput: dy, output: activated, cap: cap)
            let separate = batchNormBackwardTraining(dOutput: masked, input: x, statistics: stats, gamma: gamma)
            let together = batchNormBackwardTraining(dOutput: dy, input: x, statistics: stats, gamma: gamma,
                                                     activation: (output: fused, cap: cap))
            #expect(together.dInput == separate.dInput && together.dGamma == separate.dGamma
                    && together.dBeta == separate.dBeta, "backward cap \(cap)")
            // Running statistics (inference, frozen batch norm): the channel affine map.
            let affine = clampedReLUForward(channelAffine(x, scale: gamma, shift: beta), cap: cap)
            #expect(channelAffine(x, scale: gamma, shift: beta, activationCap: cap) == affine)
            #expect(channelAffine(dy, scale: gamma, shift: nil, mask: (output: affine, cap: cap))
                    == channelAffine(clampedReLUBackward(dOutput: dy, output: affine, cap: cap), scale: gamma, shift: nil))
        }
    }

    /// Two identical networks (same weights): one a `Sequential` that fuses, one whose
    /// children are run one by one.
    static func pair(_ activation: () -> any Layer, channels: Int, frozenBatchNorm: Bool) -> (BatchNorm2d, any Layer) {
        var rng = SeededGenerator(seed: 61)
        let bn = BatchNorm2d(channels: channels)
        for ch in 0..<channels {
            bn.weight.value.scalars[ch] = rng.nextNormal() * 3
            bn.bias.value.scalars[ch] = rng.nextNormal()
            bn.runningMean.value.scalars[ch] = rng.nextNormal()
            bn.runningVar.value.scalars[ch] = rng.nextUniform() + 0.5
        }
        bn.setFrozen(frozenBatchNorm)
        return (bn, activation())
    }

    @Test(arguments: [false, true], [false, true])
    func fusedPairEqualsTheLayersOneByOne(relu6: Bool, frozenBatchNorm: Bool) {
        let make: () -> any Layer = { relu6 ? ReLU6() : ReLU() }
        let (bnA, actA) = Self.pair(make, channels: 4, frozenBatchNorm: frozenBatchNorm)
        let (bnB, actB) = Self.pair(make, channels: 4, frozenBatchNorm: frozenBatchNorm)
        let fused = Sequential([("bn", bnA), ("act", actA)] as [(name: String, layer: any Layer)])
        #expect(fused.fusedActivationIndices == [1])
        var rng = SeededGenerator(seed: 62)
        let x = Tensor(shape: [3, 4, 5, 6], scalars: (0..<360).map { _ in rng.nextNormal() * 3 })
        let dy = Tensor(shape: [3, 4, 5, 6], scalars: (0..<360).map { _ in rng.nextNormal() })
        for step in 0..<2 {
            let y = fused.forward(x, mode: .training)
            let expected = actB.forward(bnB.forward(x, mode: .training), mode: .training)
            #expect(y == expected, "forward step \(step)")
            let dx = fused.backward(dy)
            let expectedDx = bnB.backward(actB.backward(dy)!)
            #expect(dx == expectedDx, "backward step \(step)")
            #expect(bnA.weight.gradient == bnB.weight.gradient && bnA.bias.gradient == bnB.bias.gradient)
            #expect(bnA.runningMean.value == bnB.runningMean.value && bnA.runningVar.value == bnB.runningVar.value)
        }
        #expect(fused.forward(x, mode: .inference) == actB.forward(bnB.forward(x, mode: .inference), mode: .inference))
    }

    @Test(arguments: [false, true])
    func fusedPairGradientsMatchFiniteDifferences(relu6: Bool) {
        var rng = SeededGenerator(seed: 63)
        let net = Sequential([("conv", Conv2d(inChannels: 2, outChannels: 3, kernelSize: 3, padding: 1, generator: &rng)),
                              ("bn", BatchNorm2d(channels: 3)), ("act", relu6 ? ReLU6() : ReLU())]
                             as [(name: String, layer: any Layer)])
        let x = Tensor(shape: [2, 2, 5, 4], scalars: (0..<80).map { _ in rng.nextNormal() })
        #expect(net.fusedActivationIndices == [2])
        expectGradientsMatch(net, input: x, eps: 1e-3, skipKinks: true)
    }
}
