import Models
import NN
import Personalisation
import Tensor
import Testing
import Training

/// In-memory data and a tiny pretrained model for the engine's tests: 12x12 gray images
/// of four translation-invariant classes (horizontal bar, vertical bar, 4x4 square,
/// hollow 6x6 frame, each at a random place on a noisy background), and ResNet-8 with
/// widths 4/8/8 pretrained on them for a few epochs, with conv heads at block1 and block2.
enum EngineFixture {
    static let size = 12
    static let classes = 4

    static func image(class k: Int, generator g: inout SeededGenerator) -> [Float] {
        var pixels = (0..<(size * size)).map { _ in Float(g.nextInt(below: 60)) / 255 }
        let a = 2 + g.nextInt(below: size - 7), b = 2 + g.nextInt(below: size - 7)
        for y in 0..<size {
            for x in 0..<size {
                let on: Bool
                switch k {
                case 0: on = y >= a && y < a + 2 && x >= 1 && x < size - 1
                case 1: on = x >= a && x < a + 2 && y >= 1 && y < size - 1
                case 2: on = y >= a && y < a + 4 && x >= b && x < b + 4
                default: on = (y == a || y == a + 5) && x >= b && x < b + 6 || (x == b || x == b + 5) && y >= a && y < a + 6
                }
                if on { pixels[y * size + x] = Float(200 + g.nextInt(below: 56)) / 255 }
            }
        }
        return pixels
    }

    /// `count` images whose classes cycle through `classPattern` (repeat a class to skew).
    static func data(classPattern: [Int], count: Int, labelled: (Int) -> Bool = { _ in true }, seed: UInt64) -> UserSamples {
        var g = SeededGenerator(seed: seed)
        var pixels: [Float] = [], labels: [Int] = []
        for i in 0..<count {
            let k = classPattern[i % classPattern.count]
            pixels += image(class: k, generator: &g)
            labels.append(k)
        }
        return UserSamples(images: Tensor(shape: [count, 1, size, size], scalars: pixels),
                           labels: labels.enumerated().map { labelled($0.offset) ? $0.element : nil })
    }

    /// The shared base model. Tests that use it run serialized (layers keep per-pass state).
    nonisolated(unsafe) static let base: MultiExitModel = makeBase(epochs: 12)

    /// ResNet-8 (4/8/8) pretrained for `epochs` on 96 balanced images, fresh conv heads at
    /// block1 and block2 (the "offline" heads: untrained, so personalisation has work to do).
    static func makeBase(epochs: Int) -> MultiExitModel {
        var g = SeededGenerator(seed: 5)
        let backbone = ResNet.make(ResNetConfiguration(depth: 8, widths: [4, 8, 8], inChannels: 1, imageSize: size,
                                                       classes: classes), generator: &g)
        let train = data(classPattern: [0, 1, 2, 3], count: 96, seed: 7)
        let mean = train.images.scalars.reduce(0, +) / Float(train.images.count)
        let variance = train.images.scalars.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(train.images.count)
        let model = MultiExitModel(backbone: backbone, normalization: InputNormalization(mean: [mean], std: [variance.squareRoot()]),
                                   dataset: DatasetIdentity(name: "engine-fixture", checksum: "none",
                                                            classNames: ["h", "v", "square", "frame"]))
        let optimizer = SGD(parameters: backbone.network.parameters, learningRate: 0.05, momentum: 0.9)
        for epoch in 0..<epochs {
            var eg = SeededGenerator(seed: 9).derived(UInt64(epoch))
            let order = Batches.shuffledOrder(count: train.count, generator: &eg)
            for range in Batches.ranges(count: train.count, batchSize: 16, training: true) {
                let x = Batches.make(from: train.images, indices: order[range], normalization: model.normalization)
                let logits = backbone.network.forward(x, mode: .training(inputGradient: false))
                let loss = Loss.softmaxCrossEntropy(logits: logits, labels: order[range].map { train.labels[$0]! })
                _ = backbone.network.backward(loss.dLogits)
                optimizer.step()
                backbone.network.zeroGradients()
            }
        }
        for name in ["block1", "block2"] {
            let p = backbone.exitPoint(named: name)!
            model.attachExit(at: p, kind: .conv(blocks: 1, width: p.featureShape[0]), generator: &g)
        }
        return model
    }

    /// Parameters and buffers of a layer, for bit-exact comparisons.
    static func state(_ layer: any Layer) -> [Tensor] {
        layer.namedParameters.map(\.parameter.value) + layer.namedBuffers.map(\.buffer.value)
    }

    /// A configuration for fast tests: few epochs, small batches, no weight decay.
    static func quick(epochs: Int = 4) -> PersonalisationConfig {
        var c = PersonalisationConfig()
        c.epochs = epochs; c.batchSize = 16; c.learningRate = 0.05; c.weightDecay = 0
        return c
    }
}
