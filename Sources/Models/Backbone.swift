import NN
import Tensor

/// Upper bounds on architecture parameters, far above any network this harness trains,
/// so that a forged checkpoint header cannot make a rebuild allocate without limit.
public enum ModelLimits {
    /// He et al. 2016's deepest CIFAR ResNet is ResNet-1202.
    public static let maxResNetDepth = 1202
    public static let maxChannels = 1024
    public static let maxImageSize = 1024
    public static let maxClasses = 100_000
}

/// A place in a backbone where an early exit can be attached: the output of one block.
public struct ExitPoint: Equatable, Hashable, Sendable {
    /// Stable name used in checkpoints and specs: `block1`, `block2`, ... in network order.
    public var name: String
    /// The backbone child this point follows (its output feeds the exit head).
    public var childName: String
    /// Index of that child in `Backbone.network.children`.
    public var childIndex: Int
    /// Feature shape at this point for one sample, (C, H, W).
    public var featureShape: [Int]
}

/// A classification CNN laid out as one flat `Sequential` whose child names follow the
/// PyTorch `state_dict` of the equivalent torchvision module (`conv1`, `bn1`, `layer1.0`,
/// ..., `fc` for ResNet; `features.0`, ..., `classifier.1` for MobileNetV2), so parameter
/// names come out as `layer2.0.downsample.0.weight` and a checkpoint maps 1:1 onto
/// PyTorch. Input is NCHW with `inputShape` = (C, H, W); output is (N, classes) logits.
public final class Backbone {
    /// Short architecture name, e.g. `resnet20` or `mobilenetv2`.
    public let architecture: String
    /// Architecture hyperparameters as strings (travel in checkpoint metadata).
    public let hyperparameters: [String: String]
    public let inputShape: [Int]
    public let classes: Int
    public let network: Sequential
    /// Every block boundary, in order.
    public let exitPoints: [ExitPoint]
    /// Index of the first child of the final classifier (global pool, flatten, linear).
    public let classifierStart: Int

    init(architecture: String, hyperparameters: [String: String], inputShape: [Int], classes: Int,
         network: Sequential, blockChildNames: [String], classifierStart: Int) {
        self.architecture = architecture
        self.hyperparameters = hyperparameters
        self.inputShape = inputShape
        self.classes = classes
        self.network = network
        self.classifierStart = classifierStart
        var points: [ExitPoint] = []
        var shape = [1] + inputShape
        for (i, child) in network.children.enumerated() {
            shape = child.layer.outputShape(for: shape)
            if blockChildNames.contains(child.name) {
                points.append(ExitPoint(name: "block\(points.count + 1)", childName: child.name,
                                        childIndex: i, featureShape: Array(shape.dropFirst())))
            }
        }
        precondition(points.count == blockChildNames.count, "block names \(blockChildNames) not all found")
        self.exitPoints = points
    }

    public func exitPoint(named name: String) -> ExitPoint? { exitPoints.first { $0.name == name } }

    /// The children up to and including `point`'s block, sharing this backbone's layers.
    public func prefix(through point: ExitPoint) -> Sequential { network.prefix(point.childIndex + 1) }

    /// Forward FLOPs for one sample up to and including `point`'s block.
    public func forwardFLOPs(through point: ExitPoint) -> Int {
        prefix(through: point).cost(for: [1] + inputShape).forward
    }

    /// Forward FLOPs of the whole network for one sample.
    public var forwardFLOPs: Int { network.cost(for: [1] + inputShape).forward }
}
