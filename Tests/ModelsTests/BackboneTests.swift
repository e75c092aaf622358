import Testing
import NN
import Tensor
@testable import Models

@Suite struct BackboneTests {
    @Test func resnet20ShapesCountsAndNames() {
        var g = SeededGenerator(seed: 1)
        let net = ResNet.make(ResNetConfiguration(), generator: &g)
        #expect(net.architecture == "resnet20")
        #expect(net.network.outputShape(for: [2, 1, 28, 28]) == [2, 10])
        // stem 144 + 32; stage 1: 3 x (2 x 2304 + 64); stage 2: 4608 + 9216 + 128 + (512 + 64)
        // + 2 x (2 x 9216 + 128); stage 3: 18432 + 36864 + 256 + (2048 + 128) + 2 x (2 x 36864 + 256);
        // fc 650.
        #expect(net.network.parameterCount == 272_186)
        // 62 MFLOP forward per 1x28x28 image (a multiply-add is 2 FLOPs).
        #expect((61_000_000...63_000_000).contains(net.forwardFLOPs))
        #expect(net.exitPoints.map(\.name) == (1...9).map { "block\($0)" })
        #expect(net.exitPoints.map(\.childName) == ["layer1.0", "layer1.1", "layer1.2", "layer2.0", "layer2.1",
                                                    "layer2.2", "layer3.0", "layer3.1", "layer3.2"])
        #expect(net.exitPoints[2].featureShape == [16, 28, 28])
        #expect(net.exitPoints[5].featureShape == [32, 14, 14])
        #expect(net.exitPoints[8].featureShape == [64, 7, 7])
        let names = Set(net.network.namedParameters.map(\.name))
        for name in ["conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight", "layer1.2.bn2.bias",
                     "layer2.0.downsample.0.weight", "layer2.0.downsample.1.weight", "layer3.2.conv2.weight",
                     "fc.weight", "fc.bias"] {
            #expect(names.contains(name), "missing \(name)")
        }
        #expect(!names.contains("layer1.0.downsample.0.weight"))
        let buffers = Set(net.network.namedBuffers.map(\.name))
        #expect(buffers.contains("layer3.0.downsample.1.running_var"))
    }

    @Test(arguments: [8, 32, 56]) func resnetDepths(depth: Int) {
        var g = SeededGenerator(seed: 2)
        let net = ResNet.make(ResNetConfiguration(depth: depth, inChannels: 3, imageSize: 32, classes: 100), generator: &g)
        #expect(net.exitPoints.count == (depth - 2) / 2)
        #expect(net.network.outputShape(for: [1, 3, 32, 32]) == [1, 100])
        #expect(ResNetConfiguration(depth: depth + 1).problem != nil)
    }

    @Test func mobileNetV2SmallShapesAndNames() {
        var g = SeededGenerator(seed: 3)
        let net = MobileNetV2.make(MobileNetV2Configuration(), generator: &g)
        #expect(net.network.outputShape(for: [2, 1, 28, 28]) == [2, 10])
        #expect(net.exitPoints.count == 17)
        #expect(net.exitPoints.last!.featureShape == [160, 4, 4])
        let names = Set(net.network.namedParameters.map(\.name))
        for name in ["features.0.0.weight", "features.0.1.bias", "features.1.conv.0.0.weight",
                     "features.1.conv.1.weight", "features.2.conv.0.0.weight", "features.2.conv.1.0.weight",
                     "features.2.conv.2.weight", "features.2.conv.3.running_mean", "features.18.0.weight",
                     "classifier.1.weight"] where !name.hasSuffix("running_mean") {
            #expect(names.contains(name), "missing \(name)")
        }
        #expect(MobileNetV2Configuration.divisible(12) == 16)
        #expect(MobileNetV2Configuration.divisible(48) == 48)
    }

    @Test func exitHeadsMapFeaturesToLogits() {
        var g = SeededGenerator(seed: 4)
        for shape in [[16, 28, 28], [32, 14, 14], [64, 7, 7], [160, 4, 4], [8, 3, 3]] {
            for kind in [ExitHeadKind.conv(blocks: 1, width: 32), .conv(blocks: 2, width: 16), .sdn] {
                let head = ExitHead.make(kind, featureShape: shape, classes: 10, generator: &g)
                #expect(head.outputShape(for: [3] + shape) == [3, 10], "\(kind) on \(shape)")
            }
        }
        let sdn = ExitHead.make(.sdn, featureShape: [16, 28, 28], classes: 10, generator: &g)
        #expect(sdn.namedParameters.map(\.name) == ["pool.alpha", "fc.weight", "fc.bias"])
        #expect(sdn.namedParameters[1].parameter.value.shape == [10, 16 * 4 * 4])
    }
}
