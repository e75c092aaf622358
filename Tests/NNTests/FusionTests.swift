// Batch norm + ReLU / ReLU6 fused (`Sequential` runs a batch norm directly followed by an
// activation as one kernel each way): the fused kernels and the fused layer pair give the
// same bits as the unfused kernels and layers, and the pair's gradients pass the
// finite-difference check.
import Testing
@testable import NN
@testable import Tensor

/// A batch norm with random gamma (times `gammaScale`), beta and running statistics.
func randomBatchNorm(_ channels: Int, _ rng: inout SeededGenerator, gammaScale: Float) -> BatchNorm2d {
    let bn = BatchNorm2d(channels: channels)
    for ch in 0..<channels {
        bn.weight.value.scalars[ch] = rng.nextNormal() * gammaScale
        bn.bias.value.scalars[ch] = rng.nextNormal()
        bn.runningMean.value.scalars[ch] = rng.nextNormal()
        bn.runningVar.value.scalars[ch] = rng.nextUniform() + 0.5
    }
    return bn
}

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
            // A residual block's join in the batch norm's pass: add, then the activation.
            let residual = Tensor(shape: shape, scalars: (0..<x.count).map { _ in rng.nextNormal() * 2 })
            let (joined, joinedStats) = batchNormForwardTraining(x, gamma: gamma, beta: beta, eps: 1e-5,
                                                                 activationCap: cap, adding: residual)
            #expect(bits(joined) == bits(clampedReLUForward(addForward(y, residual, relu: false), cap: cap)))
            #expect(joinedStats.mean == stats.mean && joinedStats.invStd == stats.invStd)
            if cap == .infinity {
                #expect(bits(joined) == bits(addForward(y, residual, relu: true)), "the join's ReLU")
                #expect(bits(batchNormForwardTraining(x, gamma: gamma, beta: beta, eps: 1e-5, adding: residual).output)
                        == bits(addForward(y, residual, relu: false)), "the join without an activation")
            }
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

    func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

    /// A basic block in a training pass (its join in the last batch norm's pass) against its
    /// layers run one by one: the same output, input gradient and parameter gradients, bit
    /// for bit, with a projection and with an identity shortcut.
    @Test(arguments: [false, true])
    func aResidualBlockInTrainingGivesTheBitsOfItsLayersOneByOne(projection: Bool) {
        var rng = SeededGenerator(seed: 67)
        let c = 8, out = projection ? 12 : 8, stride = projection ? 2 : 1
        let main = Sequential([
            ("conv1", Conv2d(inChannels: c, outChannels: out, kernelSize: 3, stride: stride, padding: 1, generator: &rng)),
            ("bn1", randomBatchNorm(out, &rng, gammaScale: 2)), ("relu", ReLU()),
            ("conv2", Conv2d(inChannels: out, outChannels: out, kernelSize: 3, padding: 1, generator: &rng)),
            ("bn2", randomBatchNorm(out, &rng, gammaScale: 2)),
        ] as [(name: String, layer: any Layer)])
        var shortcut: Sequential?
        if projection {
            shortcut = Sequential([("0", Conv2d(inChannels: c, outChannels: out, kernelSize: 1, stride: 2, generator: &rng)),
                                   ("1", randomBatchNorm(out, &rng, gammaScale: 2))] as [(name: String, layer: any Layer)])
        }
        let block = ResidualBlock(main: main, shortcut: shortcut)
        let x = randomTensor([6, c, 16, 16], &rng, scale: 2)
        let dy = randomTensor(block.outputShape(for: x.shape), &rng)
        let mode = Mode.training(inputGradient: true)
        // One by one: every child forward, the join, then back in reverse order.
        let layers = main.children.map(\.layer), shortcutLayers = shortcut?.children.map(\.layer) ?? []
        var a = x
        for layer in layers { a = layer.forward(a, mode: mode) }
        var b = x
        for layer in shortcutLayers { b = layer.forward(b, mode: mode) }
        let y = addForward(a, b, relu: true)
        let dSum = clampedReLUBackward(dOutput: dy, output: y)
        var da: Tensor = dSum
        for layer in layers.reversed() { da = layer.backward(da)! }
        var db: Tensor = dSum
        for layer in shortcutLayers.reversed() { db = layer.backward(db)! }
        let dx = addForward(da, db, relu: false)
        let gradients = block.parameters.map { bits($0.gradient) }
        block.zeroGradients()
        #expect(bits(block.forward(x, mode: mode)) == bits(y))
        #expect(bits(block.backward(dy)!) == bits(dx))
        #expect(block.parameters.map { bits($0.gradient) } == gradients)
    }

    /// Two identical networks (same weights): one a `Sequential` that fuses, one whose
    /// children are run one by one.
    static func pair(_ activation: () -> any Layer, channels: Int, frozenBatchNorm: Bool) -> (BatchNorm2d, any Layer) {
        var rng = SeededGenerator(seed: 61)
        let bn = randomBatchNorm(channels, &rng, gammaScale: 3)
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

/// Conv, batch norm (, activation or residual join) in an inference forward: the batch norm
/// and what follows it run in the convolution's epilogue (`ConvolutionEpilogue`), with the
/// bits of the separate kernels and layers, for every convolution algorithm.
@Suite struct ConvolutionEpilogueTests {
    static func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

    static let cases: [(Conv2dGeometry, Conv2dAlgorithm)] = {
        let dense = Conv2dGeometry(batch: 5, inChannels: 8, height: 18, width: 17, outChannels: 6,
                                   kernelSize: (3, 3), padding: (1, 1))
        let strided = Conv2dGeometry(batch: 3, inChannels: 4, height: 9, width: 9, outChannels: 6,
                                     kernelSize: (3, 3), stride: (2, 2), padding: (1, 1))
        let depthwise = Conv2dGeometry(batch: 3, inChannels: 6, height: 8, width: 7, outChannels: 6,
                                       kernelSize: (3, 3), padding: (1, 1), groups: 6)
        return [(dense, .automatic), (dense, .im2colGemm(imagesPerChunk: 1)), (dense, .im2colGemm(imagesPerChunk: 2)),
                (dense, .winograd(imagesPerChunk: 2)), (dense, .winograd4x4(imagesPerChunk: 2)),
                (strided, .automatic), (depthwise, .depthwise3x3), (depthwise, .direct)]
    }()

    @Test(arguments: 0..<cases.count)
    func theEpilogueGivesTheBitsOfTheSeparateKernels(_ index: Int) {
        let (g, algorithm) = Self.cases[index]
        var rng = SeededGenerator(seed: 64)
        let x = randomTensor(g.inputShape, &rng, scale: 2), w = randomTensor(g.weightShape, &rng)
        let k = g.outChannels
        let scale = (0..<k).map { _ in rng.nextNormal() * 2 }, shift = (0..<k).map { _ in rng.nextNormal() }
        let residual = randomTensor(g.outputShape, &rng, scale: 2)
        for bias in [nil, randomTensor([k], &rng)] {
            let y = conv2dForward(input: x, weight: w, bias: bias, geometry: g, algorithm: algorithm)
            func fused(_ e: ConvolutionEpilogue) -> [UInt32] {
                Self.bits(conv2dForward(input: x, weight: w, bias: bias, geometry: g, algorithm: algorithm, epilogue: e))
            }
            let affine = channelAffine(y, scale: scale, shift: shift)
            #expect(fused(ConvolutionEpilogue(scale: scale, shift: shift)) == Self.bits(affine))
            for cap in [Float.infinity, 6] {
                #expect(fused(ConvolutionEpilogue(scale: scale, shift: shift, activationCap: cap))
                        == Self.bits(clampedReLUForward(affine, cap: cap)), "cap \(cap)")
            }
            for relu in [false, true] {
                #expect(fused(ConvolutionEpilogue(scale: scale, shift: shift, residual: residual, reLUAfterResidual: relu))
                        == Self.bits(addForward(affine, residual, relu: relu)), "residual, relu \(relu)")
            }
        }
    }

    static func batchNorm(_ channels: Int, _ rng: inout SeededGenerator) -> BatchNorm2d {
        randomBatchNorm(channels, &rng, gammaScale: 2)
    }

    /// A basic block (conv-bn-relu-conv-bn, then add and ReLU) with a projection or an
    /// identity shortcut, in inference, against its layers run one by one.
    @Test(arguments: [false, true])
    func aResidualBlockInInferenceGivesTheBitsOfItsLayersOneByOne(projection: Bool) {
        var rng = SeededGenerator(seed: 65)
        let c = 8, out = projection ? 12 : 8, stride = projection ? 2 : 1
        let conv1 = Conv2d(inChannels: c, outChannels: out, kernelSize: 3, stride: stride, padding: 1, generator: &rng)
        let bn1 = Self.batchNorm(out, &rng), relu = ReLU()
        let conv2 = Conv2d(inChannels: out, outChannels: out, kernelSize: 3, padding: 1, generator: &rng)
        let bn2 = Self.batchNorm(out, &rng)
        let main = Sequential([("conv1", conv1), ("bn1", bn1), ("relu", relu), ("conv2", conv2), ("bn2", bn2)]
                              as [(name: String, layer: any Layer)])
        var shortcut: Sequential?
        if projection {
            let conv = Conv2d(inChannels: c, outChannels: out, kernelSize: 1, stride: 2, generator: &rng)
            shortcut = Sequential([("0", conv), ("1", Self.batchNorm(out, &rng))] as [(name: String, layer: any Layer)])
        }
        let block = ResidualBlock(main: main, shortcut: shortcut)
        let x = randomTensor([6, c, 16, 16], &rng, scale: 2)
        var a = x
        for child in main.children { a = child.layer.forward(a, mode: .inference) }
        var b = x
        for child in shortcut?.children ?? [] { b = child.layer.forward(b, mode: .inference) }
        let expected = addForward(a, b, relu: true)
        #expect(Self.bits(block.forward(x, mode: .inference)) == Self.bits(expected))
        // As the frozen prefix of a training pass (an exit head's backbone): the same.
        block.setFrozen(true)
        #expect(Self.bits(block.forward(x, mode: .training(inputGradient: false))) == Self.bits(expected))
    }

    /// A frozen conv-bn-relu before a trainable conv-bn: the frozen three run as one
    /// kernel, the trainable batch norm after the boundary keeps its batch statistics.
    @Test func theFusionStopsAtTheFrozenPrefix() {
        var rng = SeededGenerator(seed: 66)
        let conv1 = Conv2d(inChannels: 3, outChannels: 5, kernelSize: 3, padding: 1, generator: &rng)
        let bn1 = Self.batchNorm(5, &rng), relu = ReLU()
        let conv2 = Conv2d(inChannels: 5, outChannels: 4, kernelSize: 3, padding: 1, generator: &rng)
        let bn2 = Self.batchNorm(4, &rng)
        for layer in [conv1, bn1] as [any Layer] { layer.setFrozen(true) }
        conv2.setFrozen(true)
        let net = Sequential([("conv1", conv1), ("bn1", bn1), ("relu", relu), ("conv2", conv2), ("bn2", bn2)]
                             as [(name: String, layer: any Layer)])
        let x = randomTensor([4, 3, 10, 10], &rng)
        var h = x
        for layer in [conv1, bn1, relu, conv2] as [any Layer] { h = layer.forward(h, mode: .inference) }
        let (expected, _) = batchNormForwardTraining(h, gamma: bn2.weight.value.scalars, beta: bn2.bias.value.scalars,
                                                     eps: bn2.eps)
        #expect(Self.bits(net.forward(x, mode: .training(inputGradient: false))) == Self.bits(expected))
        #expect(net.backward(randomTensor(expected.shape, &rng)) == nil)
        #expect(bn2.weight.gradient.scalars.contains { $0 != 0 })
    }
}
