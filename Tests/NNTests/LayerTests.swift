// Per layer: a hand-computed forward case and a finite-difference gradient check with
// respect to the input and every parameter, over odd shapes, strides and groups.
import Testing
@testable import NN
import Tensor

@Suite struct ConvolutionLayerTests {
    @Test func forwardByHand() {
        var rng = SeededGenerator(seed: 1)
        let conv = Conv2d(inChannels: 1, outChannels: 1, kernelSize: 2, bias: true, generator: &rng)
        conv.weight.value = Tensor(shape: [1, 1, 2, 2], scalars: [1, 0, 0, -1])
        conv.bias!.value = Tensor(shape: [1], scalars: [0.5])
        let x = Tensor(shape: [1, 1, 3, 3], scalars: (1...9).map(Float.init))
        // y[i, j] = x[i, j] - x[i + 1, j + 1] + 0.5 = -4 + 0.5
        #expect(conv.forward(x, mode: .inference).scalars == [-3.5, -3.5, -3.5, -3.5])

        let strided = Conv2d(inChannels: 1, outChannels: 1, kernelSize: 2, stride: 2, padding: 1, generator: &rng)
        strided.weight.value = Tensor(shape: [1, 1, 2, 2], scalars: [1, 0, 0, -1])
        // Windows start at (-1, -1), (-1, 1), (1, -1), (1, 1): only in-bounds taps count.
        #expect(strided.forward(x, mode: .inference).scalars == [-1, -3, -7, -4])
        #expect(strided.outputShape(for: [1, 1, 3, 3]) == [1, 1, 2, 2])
    }

    @Test func kaimingInitialisationScale() {
        var rng = SeededGenerator(seed: 2)
        let conv = Conv2d(inChannels: 16, outChannels: 32, kernelSize: 3, generator: &rng)
        let w = conv.weight.value.scalars
        let variance = w.reduce(0.0) { $0 + Double($1 * $1) } / Double(w.count)
        #expect(abs(variance - 2.0 / 144.0) < 0.1 * 2.0 / 144.0)
        #expect(conv.bias == nil && conv.namedParameters.map(\.name) == ["weight"])
    }

    @Test(arguments: [
        // (C, K, kernel, stride, padding, groups, bias)
        (3, 4, (3, 2), (2, 1), (1, 0), 1, true),
        (4, 6, (3, 3), (1, 2), (1, 1), 2, false),
        (3, 3, (3, 3), (2, 2), (1, 1), 3, true),      // depthwise
        (2, 5, (1, 1), (1, 1), (0, 0), 1, false),     // pointwise
    ])
    func gradients(c: Int, k: Int, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), groups: Int, bias: Bool) {
        var rng = SeededGenerator(seed: 3)
        let conv = Conv2d(inChannels: c, outChannels: k, kernelSize: kernel, stride: stride, padding: padding,
                          groups: groups, bias: bias, generator: &rng)
        expectGradientsMatch(conv, input: randomTensor([2, c, 7, 5], &rng))
    }
}

@Suite struct BatchNormLayerTests {
    @Test func trainingForwardAndRunningStatisticsByHand() {
        let bn = BatchNorm2d(channels: 1)
        let x = Tensor(shape: [2, 1, 1, 2], scalars: [1, 2, 3, 4])
        let y = bn.forward(x, mode: .training)
        // mean 2.5, biased variance 1.25
        let inv = 1 / (1.25 + 1e-5).squareRoot()
        expectClose(y, Tensor(shape: [2, 1, 1, 2], scalars: [-1.5, -0.5, 0.5, 1.5].map { Float($0 * inv) }))
        // running = 0.9 * initial + 0.1 * batch, with the unbiased variance 5/3.
        #expect(abs(bn.runningMean.value.scalars[0] - 0.25) < 1e-6)
        #expect(abs(bn.runningVar.value.scalars[0] - Float(0.9 + 0.1 * 5.0 / 3.0)) < 1e-6)
        #expect(bn.batchesTracked.value.scalars == [1])
    }

    @Test func inferenceUsesRunningStatistics() {
        let bn = BatchNorm2d(channels: 2, eps: 0)
        bn.runningMean.value = Tensor(shape: [2], scalars: [1, -1])
        bn.runningVar.value = Tensor(shape: [2], scalars: [4, 0.25])
        bn.weight.value = Tensor(shape: [2], scalars: [2, 1])
        bn.bias.value = Tensor(shape: [2], scalars: [0, 3])
        let x = Tensor(shape: [1, 2, 1, 2], scalars: [3, 5, 0, -2])
        // channel 0: (x - 1) / 2 * 2; channel 1: (x + 1) / 0.5 + 3
        #expect(bn.forward(x, mode: .inference).scalars == [2, 4, 5, 1])
        #expect(bn.runningMean.value.scalars == [1, -1])
    }

    @Test func gradientsInTrainingMode() {
        var rng = SeededGenerator(seed: 4)
        let bn = BatchNorm2d(channels: 3)
        bn.weight.value = Tensor(shape: [3], scalars: [1.5, -0.7, 0.9])
        bn.bias.value = Tensor(shape: [3], scalars: [0.2, -0.1, 0.4])
        expectGradientsMatch(bn, input: randomTensor([3, 3, 5, 3], &rng))
    }

    @Test func frozenBatchNormKeepsRunningStatisticsAndPassesGradient() {
        var rng = SeededGenerator(seed: 5)
        let bn = BatchNorm2d(channels: 2)
        bn.runningMean.value = Tensor(shape: [2], scalars: [0.3, -0.2])
        bn.runningVar.value = Tensor(shape: [2], scalars: [2, 0.5])
        bn.setFrozen(true)
        let x = randomTensor([2, 2, 3, 3], &rng)
        let y = bn.forward(x, mode: .training)
        #expect(y == bn.forward(x, mode: .inference))
        #expect(bn.runningMean.value.scalars == [0.3, -0.2] && bn.batchesTracked.value.scalars == [0])
        expectGradientsMatch(bn, input: x)
        #expect(bn.weight.gradient.scalars == [0, 0] && bn.bias.gradient.scalars == [0, 0])
    }
}

@Suite struct ActivationLayerTests {
    @Test func forwardByHand() {
        let x = Tensor(shape: [1, 5], scalars: [-2, -0.5, 0.5, 3, 7])
        #expect(ReLU().forward(x, mode: .inference).scalars == [0, 0, 0.5, 3, 7])
        #expect(ReLU6().forward(x, mode: .inference).scalars == [0, 0, 0.5, 3, 6])
        let relu6 = ReLU6()
        _ = relu6.forward(x, mode: .training)
        #expect(relu6.backwardToInput(Tensor(repeating: 1, shape: [1, 5])).scalars == [0, 0, 1, 1, 0])
    }

    @Test func gradients() {
        var rng = SeededGenerator(seed: 6)
        expectGradientsMatch(ReLU(), input: awayFromZero([2, 3, 5, 3], &rng))
        // Scaled so some inputs lie beyond 6; none within 0.1 of 0 or 6.
        var x = awayFromZero([2, 3, 5, 3], &rng)
        for i in 0..<x.count { x.scalars[i] *= 8; if abs(x.scalars[i] - 6) < 0.1 { x.scalars[i] += 0.3 } }
        expectGradientsMatch(ReLU6(), input: x)
    }
}

@Suite struct PoolingLayerTests {
    @Test func forwardByHand() {
        let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init))
        #expect(MaxPool2d(kernelSize: 2).forward(x, mode: .inference).scalars == [5, 7, 13, 15])
        #expect(AvgPool2d(kernelSize: 2).forward(x, mode: .inference).scalars == [2.5, 4.5, 10.5, 12.5])
        // Padding counts in the average's divisor (count_include_pad): corner = (0+1+4+5) / 9.
        let padded = AvgPool2d(kernelSize: 3, stride: 2, padding: 1).forward(x, mode: .inference)
        #expect(padded.shape == [1, 1, 2, 2] && abs(padded.scalars[0] - 10.0 / 9.0) < 1e-6)
        #expect(GlobalAvgPool().forward(x, mode: .inference) == Tensor(shape: [1, 1], scalars: [7.5]))
    }

    @Test func mixedPoolByHand() {
        var rng = SeededGenerator(seed: 7)
        let pool = MixedPool2d(kernelSize: 2, generator: &rng)
        #expect(pool.alpha.value.scalars[0] >= 0 && pool.alpha.value.scalars[0] < 1)
        pool.alpha.value = Tensor(shape: [1], scalars: [0.25])
        let x = Tensor(shape: [1, 1, 4, 4], scalars: (0..<16).map(Float.init))
        // 0.25 * max + 0.75 * avg
        #expect(pool.forward(x, mode: .inference).scalars == [3.125, 5.125, 11.125, 13.125])
        #expect(MixedPool2d.sdnKernelSize(forMapSize: 28) == 7 && MixedPool2d.sdnKernelSize(forMapSize: 3) == nil)
        #expect(pool.namedParameters.map(\.name) == ["alpha"])
    }

    @Test func gradients() {
        var rng = SeededGenerator(seed: 8)
        expectGradientsMatch(MaxPool2d(kernelSize: 3, stride: 2, padding: 1), input: distinctValues([2, 3, 7, 6], &rng))
        expectGradientsMatch(MaxPool2d(kernelSize: 2), input: distinctValues([1, 2, 5, 5], &rng))
        expectGradientsMatch(AvgPool2d(kernelSize: 3, stride: 2, padding: 1), input: randomTensor([2, 3, 7, 6], &rng))
        expectGradientsMatch(GlobalAvgPool(), input: randomTensor([2, 3, 5, 3], &rng))
        expectGradientsMatch(MixedPool2d(kernelSize: 2, generator: &rng), input: distinctValues([2, 3, 5, 4], &rng))
        expectGradientsMatch(MixedPool2d(kernelSize: 3, stride: 2, generator: &rng), input: distinctValues([1, 2, 7, 7], &rng))
    }
}

@Suite struct LinearLayerTests {
    @Test func forwardByHand() {
        var rng = SeededGenerator(seed: 9)
        let fc = Linear(inFeatures: 3, outFeatures: 2, generator: &rng)
        fc.weight.value = Tensor(shape: [2, 3], scalars: [1, 2, 3, -1, 0, 1])
        fc.bias!.value = Tensor(shape: [2], scalars: [0.5, -0.5])
        let x = Tensor(shape: [2, 3], scalars: [1, 1, 1, 2, 0, -1])
        #expect(fc.forward(x, mode: .inference).scalars == [6.5, -0.5, -0.5, -3.5])
        let bound = 1 / Float(3).squareRoot()
        let fresh = Linear(inFeatures: 3, outFeatures: 4, generator: &rng)
        #expect(fresh.parameters.allSatisfy { $0.value.scalars.allSatisfy { abs($0) <= bound } })
    }

    @Test func gradients() {
        var rng = SeededGenerator(seed: 10)
        expectGradientsMatch(Linear(inFeatures: 7, outFeatures: 5, generator: &rng), input: randomTensor([3, 7], &rng))
        expectGradientsMatch(Linear(inFeatures: 4, outFeatures: 3, bias: false, generator: &rng), input: randomTensor([5, 4], &rng))
    }

    @Test func flattenIsAView() {
        var rng = SeededGenerator(seed: 11)
        let x = randomTensor([2, 3, 2, 2], &rng)
        let flatten = Flatten()
        let y = flatten.forward(x, mode: .training)
        #expect(y.shape == [2, 12] && y.scalars == x.scalars)
        #expect(flatten.backwardToInput(y) == x)
        expectGradientsMatch(Sequential([Flatten(), Linear(inFeatures: 12, outFeatures: 2, generator: &rng)]), input: x)
    }
}

@Suite struct DropoutLayerTests {
    @Test func masksAndScales() {
        let dropout = Dropout(probability: 0.25, generator: SeededGenerator(seed: 12))
        let x = Tensor(repeating: 1, shape: [4, 1000])
        #expect(dropout.forward(x, mode: .inference) == x)
        let y = dropout.forward(x, mode: .training)
        let kept = y.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 4.0 / 3.0) < 1e-6 })
        #expect(abs(Double(kept.count) / 4000 - 0.75) < 0.03)
        // Backward applies the same mask.
        #expect(dropout.backwardToInput(x) == y)
        // A second generator with the same seed draws the same mask.
        #expect(Dropout(probability: 0.25, generator: SeededGenerator(seed: 12)).forward(x, mode: .training) == y)
    }
}

@Suite struct ResidualBlockTests {
    @Test func forwardByHand() {
        // relu(relu(x) + x): [-1, 2] -> [relu(0 - 1), relu(2 + 2)] = [0, 4]
        let block = ResidualBlock(main: Sequential([ReLU()]))
        let x = Tensor(shape: [1, 2], scalars: [-1, 2])
        #expect(block.forward(x, mode: .training).scalars == [0, 4])
        // d/dx: the first output is clamped; the second is 1 (main) + 1 (identity).
        #expect(block.backwardToInput(Tensor(repeating: 1, shape: [1, 2])).scalars == [0, 2])
        let noReLU = ResidualBlock(main: Sequential([ReLU()]), reLUAfterAdd: false)
        #expect(noReLU.forward(x, mode: .inference).scalars == [-1, 4])
    }

    @Test func basicBlockGradients() {
        var rng = SeededGenerator(seed: 13)
        // Projection shortcut (stride 2, 3 -> 4 channels) and identity shortcut.
        expectGradientsMatch(basicBlock(3, 4, stride: 2, &rng), input: randomTensor([2, 3, 5, 5], &rng), eps: 1e-3, skipKinks: true)
        expectGradientsMatch(basicBlock(3, 3, stride: 1, &rng), input: randomTensor([2, 3, 4, 3], &rng), eps: 1e-3, skipKinks: true)
    }

    @Test func parameterNamesFollowPyTorch() {
        var rng = SeededGenerator(seed: 14)
        let net = Sequential([(name: "layer2", layer: Sequential([basicBlock(16, 32, stride: 2, &rng)]))])
        let names = Checkpoint.tensorNames([(prefix: "", layer: net)])
        #expect(names.prefix(3) == ["layer2.0.conv1.weight", "layer2.0.bn1.weight", "layer2.0.bn1.bias"])
        #expect(names.contains("layer2.0.bn1.running_mean") && names.contains("layer2.0.conv2.weight"))
        #expect(names.contains("layer2.0.downsample.0.weight") && names.contains("layer2.0.downsample.1.running_var"))
        #expect(names.contains("layer2.0.bn2.num_batches_tracked"))
    }
}

@Suite struct NetworkGradientTests {
    @Test func tinyCNNGradients() {
        var rng = SeededGenerator(seed: 15)
        let net = Sequential([
            // No conv bias: a bias before batch norm has an exactly zero gradient, which a
            // relative-error check cannot judge.
            Conv2d(inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, padding: 1, generator: &rng),
            BatchNorm2d(channels: 3), ReLU(), AvgPool2d(kernelSize: 2), Flatten(),
            Linear(inFeatures: 3 * 2 * 2, outFeatures: 4, generator: &rng),
        ])
        expectGradientsMatch(net, input: randomTensor([3, 2, 9, 8], &rng), eps: 3e-4, skipKinks: true)
    }
}
