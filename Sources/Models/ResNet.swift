import NN
import Tensor

/// The CIFAR ResNet family (He et al. 2016, section 4.2): a 3x3 stem convolution, three
/// stages of n basic blocks each (depth = 6n + 2), stage widths 16/32/64 by default,
/// stride 2 at the start of stages 2 and 3, global average pooling and a linear classifier.
/// Where stride or width changes, the shortcut is a projection (1x1 conv + BN, torchvision's
/// `downsample`), so every block has the same shape of checkpoint entries as torchvision.
///
/// Child names: `conv1`, `bn1`, `relu`, `layer{s}.{i}` (s = 1...3), `avgpool`, `flatten`, `fc`;
/// inside a block `conv1`, `bn1`, `relu`, `conv2`, `bn2`, `downsample.0`, `downsample.1`.
public struct ResNetConfiguration: Equatable, Sendable {
    /// 6n + 2: 8, 20, 32, 56, ...
    public var depth: Int
    public var widths: [Int]
    public var inChannels: Int
    public var imageSize: Int
    public var classes: Int

    public init(depth: Int = 20, widths: [Int] = [16, 32, 64], inChannels: Int = 1, imageSize: Int = 28,
                classes: Int = 10) {
        self.depth = depth; self.widths = widths; self.inChannels = inChannels
        self.imageSize = imageSize; self.classes = classes
    }

    public var blocksPerStage: Int { (depth - 2) / 6 }

    /// Why the configuration cannot be built, or nil.
    public var problem: String? {
        if depth < 8 || (depth - 2) % 6 != 0 { return "ResNet depth must be 6n+2 with n >= 1 (8, 20, 32, 56, ...), got \(depth)" }
        if depth > ModelLimits.maxResNetDepth { return "ResNet depth \(depth) is above \(ModelLimits.maxResNetDepth), the deepest CIFAR ResNet" }
        if widths.count != 3 || widths.contains(where: { $0 < 1 || $0 > ModelLimits.maxChannels }) {
            return "ResNet needs 3 stage widths in 1...\(ModelLimits.maxChannels), got \(widths)"
        }
        if inChannels != 1 && inChannels != 3 { return "input channels must be 1 or 3, got \(inChannels)" }
        if imageSize < 8 { return "image size \(imageSize) is too small for 2 stride-2 stages" }
        if imageSize > ModelLimits.maxImageSize { return "image size \(imageSize) is above \(ModelLimits.maxImageSize)" }
        if classes < 2 || classes > ModelLimits.maxClasses { return "classes must be in 2...\(ModelLimits.maxClasses), got \(classes)" }
        return nil
    }
}

public enum ResNet {
    /// Builds the network with weights drawn from `generator` (Kaiming normal convolutions,
    /// BN weight 1 bias 0, PyTorch-default linear init).
    public static func make(_ c: ResNetConfiguration, generator: inout SeededGenerator) -> Backbone {
        if let problem = c.problem { preconditionFailure(problem) }
        var children: [(name: String, layer: any Layer)] = [
            ("conv1", Conv2d(inChannels: c.inChannels, outChannels: c.widths[0], kernelSize: 3, padding: 1,
                             generator: &generator)),
            ("bn1", BatchNorm2d(channels: c.widths[0])),
            ("relu", ReLU()),
        ]
        var blockNames: [String] = []
        var width = c.widths[0]
        for (s, stageWidth) in c.widths.enumerated() {
            for i in 0..<c.blocksPerStage {
                let stride = (s > 0 && i == 0) ? 2 : 1
                let name = "layer\(s + 1).\(i)"
                children.append((name, basicBlock(from: width, to: stageWidth, stride: stride, generator: &generator)))
                blockNames.append(name)
                width = stageWidth
            }
        }
        let classifierStart = children.count
        children += [
            ("avgpool", GlobalAvgPool()),
            ("fc", Linear(inFeatures: width, outFeatures: c.classes, generator: &generator)),
        ]
        return Backbone(
            architecture: "resnet\(c.depth)",
            hyperparameters: ["depth": String(c.depth), "widths": c.widths.map(String.init).joined(separator: ","),
                              "in_channels": String(c.inChannels), "image_size": String(c.imageSize),
                              "classes": String(c.classes)],
            inputShape: [c.inChannels, c.imageSize, c.imageSize], classes: c.classes,
            network: Sequential(children), blockChildNames: blockNames, classifierStart: classifierStart)
    }

    /// conv3x3(stride) - BN - ReLU - conv3x3 - BN, plus shortcut, add, ReLU.
    static func basicBlock(from inWidth: Int, to outWidth: Int, stride: Int,
                           generator: inout SeededGenerator) -> ResidualBlock {
        let main = Sequential([
            ("conv1", Conv2d(inChannels: inWidth, outChannels: outWidth, kernelSize: 3, stride: stride, padding: 1,
                             generator: &generator)),
            ("bn1", BatchNorm2d(channels: outWidth)),
            ("relu", ReLU()),
            ("conv2", Conv2d(inChannels: outWidth, outChannels: outWidth, kernelSize: 3, padding: 1,
                             generator: &generator)),
            ("bn2", BatchNorm2d(channels: outWidth)),
        ] as [(name: String, layer: any Layer)])
        var shortcut: Sequential?
        if stride != 1 || inWidth != outWidth {
            shortcut = Sequential([
                Conv2d(inChannels: inWidth, outChannels: outWidth, kernelSize: 1, stride: stride, generator: &generator),
                BatchNorm2d(channels: outWidth),
            ] as [any Layer])
        }
        return ResidualBlock(main: main, shortcut: shortcut, shortcutName: "downsample", reLUAfterAdd: true)
    }
}
