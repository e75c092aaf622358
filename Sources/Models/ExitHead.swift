import NN
import Tensor

/// The two early-exit classifier designs.
///
/// - `conv`: `blocks` x (conv 3x3 + BN + ReLU, `width` channels), global average pool,
///   linear: the head drawn in the PersEPhonEE paper. Children `conv1`, `bn1`, `relu1`,
///   (`conv2`, `bn2`, `relu2`,) `pool`, `fc`.
/// - `sdn`: the Shallow-Deep-Networks internal classifier (Kaya et al. 2019): mixed
///   max/avg pooling with a learned weight, kernel floor(size / 4) so the map pools to
///   about 4x4, flatten, linear. Children `pool`, `flatten`, `fc`. Maps smaller than
///   4x4 are not pooled.
public enum ExitHeadKind: Equatable, Hashable, Sendable {
    case conv(blocks: Int, width: Int)
    case sdn

    public var description: String {
        switch self {
        case let .conv(blocks, width): return "conv(blocks=\(blocks),width=\(width))"
        case .sdn: return "sdn"
        }
    }
}

public enum ExitHead {
    /// A head for features of shape (C, H, W) producing `classes` logits.
    public static func make(_ kind: ExitHeadKind, featureShape: [Int], classes: Int,
                            generator: inout SeededGenerator) -> Sequential {
        precondition(featureShape.count == 3, "exit head input must be (C, H, W), got \(featureShape)")
        let (c, h, w) = (featureShape[0], featureShape[1], featureShape[2])
        switch kind {
        case let .conv(blocks, width):
            precondition(blocks >= 1 && width >= 1, "conv head needs blocks >= 1 and width >= 1")
            var children: [(name: String, layer: any Layer)] = []
            var inWidth = c
            for b in 1...blocks {
                children.append(("conv\(b)", Conv2d(inChannels: inWidth, outChannels: width, kernelSize: 3,
                                                   padding: 1, generator: &generator)))
                children.append(("bn\(b)", BatchNorm2d(channels: width)))
                children.append(("relu\(b)", ReLU()))
                inWidth = width
            }
            children.append(("pool", GlobalAvgPool()))
            children.append(("fc", Linear(inFeatures: width, outFeatures: classes, generator: &generator)))
            return Sequential(children)
        case .sdn:
            var children: [(name: String, layer: any Layer)] = []
            var (oh, ow) = (h, w)
            if let k = MixedPool2d.sdnKernelSize(forMapSize: min(h, w)), k > 1 {
                children.append(("pool", MixedPool2d(kernelSize: k, generator: &generator)))
                (oh, ow) = ((h - k) / k + 1, (w - k) / k + 1)
            }
            children.append(("flatten", Flatten()))
            children.append(("fc", Linear(inFeatures: c * oh * ow, outFeatures: classes, generator: &generator)))
            return Sequential(children)
        }
    }
}
