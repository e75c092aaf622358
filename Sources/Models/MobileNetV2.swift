import NN
import Tensor

/// A small MobileNetV2 (Sandler et al. 2018) for 28x28 and 32x32 images: a 3x3 stem,
/// inverted residual blocks (1x1 expansion by t, depthwise 3x3, linear 1x1 projection; an
/// identity shortcut when stride is 1 and width is unchanged), ReLU6, a 1x1 head
/// convolution, global average pooling and a linear classifier.
///
/// Small-image strides: the stem and the first two stages keep stride 1 (the ImageNet
/// model's stride-2 stem and 24-channel stage would shrink a 28x28 image to 1x1), so the
/// maps go 28 -> 14 -> 7 -> 4. Widths are scaled by `widthMultiplier` and rounded to
/// multiples of 8 as in torchvision's `_make_divisible`.
///
/// Child names follow torchvision's `mobilenet_v2` state_dict: `features.0` (stem: `.0`
/// conv, `.1` BN), `features.{i}` for the blocks (inside: `conv.0.0`/`conv.0.1` expansion
/// conv/BN, `conv.1.0`/`conv.1.1` depthwise conv/BN, `conv.2` projection conv, `conv.3` BN;
/// for t = 1 the expansion is absent and the indices shift down by one), `features.{last}`
/// (head conv/BN), `classifier.1` (linear; torchvision's `classifier.0` is dropout).
public struct MobileNetV2Configuration: Equatable, Sendable {
    /// (expansion t, output channels c, repeats n, first stride s) per stage.
    public var stages: [(t: Int, c: Int, n: Int, s: Int)]
    public var widthMultiplier: Double
    public var lastChannels: Int
    public var inChannels: Int
    public var imageSize: Int
    public var classes: Int

    public static let smallImageStages: [(t: Int, c: Int, n: Int, s: Int)] = [
        (1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ]

    public init(widthMultiplier: Double = 0.5, lastChannels: Int = 640, inChannels: Int = 1, imageSize: Int = 28,
                classes: Int = 10, stages: [(t: Int, c: Int, n: Int, s: Int)] = smallImageStages) {
        self.widthMultiplier = widthMultiplier; self.lastChannels = lastChannels
        self.inChannels = inChannels; self.imageSize = imageSize; self.classes = classes; self.stages = stages
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.widthMultiplier == b.widthMultiplier && a.lastChannels == b.lastChannels && a.inChannels == b.inChannels
            && a.imageSize == b.imageSize && a.classes == b.classes
            && a.stages.map { [$0.t, $0.c, $0.n, $0.s] } == b.stages.map { [$0.t, $0.c, $0.n, $0.s] }
    }

    /// torchvision's `_make_divisible(v, 8)`: round to the nearest multiple of 8, never
    /// dropping more than 10%.
    public static func divisible(_ v: Double, by d: Int = 8) -> Int {
        var n = max(d, Int(v + Double(d) / 2) / d * d)
        if Double(n) < 0.9 * v { n += d }
        return n
    }

    public var problem: String? {
        if !(widthMultiplier > 0 && widthMultiplier <= 4) { return "width multiplier must be in (0, 4], got \(widthMultiplier)" }
        if lastChannels < 1 || lastChannels > ModelLimits.maxChannels {
            return "last channels must be in 1...\(ModelLimits.maxChannels), got \(lastChannels)"
        }
        if inChannels != 1 && inChannels != 3 { return "input channels must be 1 or 3, got \(inChannels)" }
        if imageSize < 8 || imageSize > ModelLimits.maxImageSize { return "image size must be in 8...\(ModelLimits.maxImageSize), got \(imageSize)" }
        if classes < 2 || classes > ModelLimits.maxClasses { return "classes must be in 2...\(ModelLimits.maxClasses), got \(classes)" }
        if stages.isEmpty || stages.count > 16 || stages.contains(where: {
            $0.t < 1 || $0.t > 16 || $0.c < 1 || $0.c > ModelLimits.maxChannels || $0.n < 1 || $0.n > 16 || $0.s < 1 || $0.s > 2
        }) {
            return "need 1...16 stages, each with t in 1...16, c in 1...\(ModelLimits.maxChannels), n in 1...16 and stride 1 or 2"
        }
        return nil
    }
}

public enum MobileNetV2 {
    public static func make(_ c: MobileNetV2Configuration, generator: inout SeededGenerator) -> Backbone {
        if let problem = c.problem { preconditionFailure(problem) }
        var children: [(name: String, layer: any Layer)] = []
        var blockNames: [String] = []
        var width = MobileNetV2Configuration.divisible(32 * c.widthMultiplier)
        children.append(("features.0", Sequential([
            Conv2d(inChannels: c.inChannels, outChannels: width, kernelSize: 3, padding: 1, generator: &generator),
            BatchNorm2d(channels: width), ReLU6(),
        ] as [any Layer])))
        for stage in c.stages {
            let out = MobileNetV2Configuration.divisible(Double(stage.c) * c.widthMultiplier)
            for i in 0..<stage.n {
                let name = "features.\(children.count)"
                children.append((name, invertedResidual(from: width, to: out, stride: i == 0 ? stage.s : 1,
                                                        expansion: stage.t, generator: &generator)))
                blockNames.append(name)
                width = out
            }
        }
        let last = MobileNetV2Configuration.divisible(Double(c.lastChannels) * max(1, c.widthMultiplier))
        children.append(("features.\(children.count)", Sequential([
            Conv2d(inChannels: width, outChannels: last, kernelSize: 1, generator: &generator),
            BatchNorm2d(channels: last), ReLU6(),
        ] as [any Layer])))
        let classifierStart = children.count
        children.append(("avgpool", GlobalAvgPool()))
        children.append(("classifier.1", Linear(inFeatures: last, outFeatures: c.classes, generator: &generator)))
        return Backbone(
            architecture: "mobilenetv2",
            hyperparameters: ["width_multiplier": String(c.widthMultiplier), "last_channels": String(c.lastChannels),
                              "in_channels": String(c.inChannels), "image_size": String(c.imageSize),
                              "classes": String(c.classes),
                              "stages": c.stages.map { "\($0.t)-\($0.c)-\($0.n)-\($0.s)" }.joined(separator: ",")],
            inputShape: [c.inChannels, c.imageSize, c.imageSize], classes: c.classes,
            network: Sequential(children), blockChildNames: blockNames, classifierStart: classifierStart)
    }

    /// [1x1 expand + BN + ReLU6] + depthwise 3x3 + BN + ReLU6 + 1x1 project + BN (+ identity).
    static func invertedResidual(from inWidth: Int, to outWidth: Int, stride: Int, expansion: Int,
                                 generator: inout SeededGenerator) -> any Layer {
        let hidden = inWidth * expansion
        var parts: [(name: String, layer: any Layer)] = []
        if expansion != 1 {
            parts.append(("0", Sequential([
                Conv2d(inChannels: inWidth, outChannels: hidden, kernelSize: 1, generator: &generator),
                BatchNorm2d(channels: hidden), ReLU6(),
            ] as [any Layer])))
        }
        let k = parts.count
        parts.append((String(k), Sequential([
            Conv2d(inChannels: hidden, outChannels: hidden, kernelSize: 3, stride: stride, padding: 1, groups: hidden,
                   generator: &generator),
            BatchNorm2d(channels: hidden), ReLU6(),
        ] as [any Layer])))
        parts.append((String(k + 1), Conv2d(inChannels: hidden, outChannels: outWidth, kernelSize: 1, generator: &generator)))
        parts.append((String(k + 2), BatchNorm2d(channels: outWidth)))
        let body = Sequential([("conv", Sequential(parts))] as [(name: String, layer: any Layer)])
        if stride == 1 && inWidth == outWidth {
            return ResidualBlock(main: body, shortcut: nil, reLUAfterAdd: false)
        }
        return body
    }
}
