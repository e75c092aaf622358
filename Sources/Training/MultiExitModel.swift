import Models
import NN
import Tensor

/// Per-channel input normalisation: a network sees (x - mean[c]) / std[c] for images x in
/// [0, 1]. Taken from the training split at pretraining and stored in the checkpoint, so
/// every later use normalises exactly as training did.
public struct InputNormalization: Equatable, Sendable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && std.allSatisfy { $0 > 0 }, "normalisation needs one positive std per mean")
        self.mean = mean; self.std = std
    }

    /// The split's own statistics (a constant channel gets std 1 so nothing divides by 0).
    public init(statisticsOf mean: [Double], _ std: [Double]) {
        self.init(mean: mean.map { Float($0) }, std: std.map { $0 > 1e-12 ? Float($0) : 1 })
    }
}

/// An exit head attached at a backbone point. `head` maps features (N, C, H, W) at the
/// point to (N, classes) logits.
public struct AttachedExit {
    public let point: ExitPoint
    public let kind: ExitHeadKind
    public let head: Sequential
}

/// Classifier outputs of one multi-exit forward pass: the logits of each exit in network
/// order, then the final classifier's.
public struct MultiExitOutput {
    /// (N, classes) per attached exit, in `MultiExitModel.exits` order.
    public var exitLogits: [Tensor]
    /// (N, classes).
    public var finalLogits: Tensor
}

/// A backbone, its attached exit heads and everything needed to use it on new data: the
/// input normalisation, the dataset it was trained on, and how it was trained. This is
/// what a model checkpoint holds (see `ModelCheckpoint`, docs/checkpoints-models.md).
public final class MultiExitModel {
    public let backbone: Backbone
    /// In network order of their points, at most one per point.
    public private(set) var exits: [AttachedExit] = []
    public var normalization: InputNormalization
    public var dataset: DatasetIdentity
    public var pretraining: PretrainingRecord?
    public var exitTraining: ExitTrainingRecord?

    public init(backbone: Backbone, normalization: InputNormalization, dataset: DatasetIdentity,
                pretraining: PretrainingRecord? = nil, exitTraining: ExitTrainingRecord? = nil) {
        precondition(normalization.mean.count == backbone.inputShape[0], "one mean and std per input channel")
        self.backbone = backbone; self.normalization = normalization; self.dataset = dataset
        self.pretraining = pretraining; self.exitTraining = exitTraining
    }

    /// Creates a fresh head of `kind` at `point` (replacing one already there) and returns it.
    @discardableResult
    public func attachExit(at point: ExitPoint, kind: ExitHeadKind, generator: inout SeededGenerator) -> AttachedExit {
        precondition(backbone.exitPoint(named: point.name) == point, "\(point.name) is not a point of this backbone")
        let head = ExitHead.make(kind, featureShape: point.featureShape, classes: backbone.classes, generator: &generator)
        let exit = AttachedExit(point: point, kind: kind, head: head)
        exits.removeAll { $0.point == point }
        exits.append(exit)
        exits.sort { $0.point.childIndex < $1.point.childIndex }
        return exit
    }

    /// The modules a checkpoint stores, with their tensor-name prefixes: the backbone at the
    /// root, each head under `exits.<point>`.
    public var checkpointModules: [(prefix: String, layer: any Layer)] {
        [(prefix: "", layer: backbone.network)] + exits.map { (prefix: "exits.\($0.point.name)", layer: $0.head) }
    }

    /// Forward FLOPs for one sample of the backbone through `exit`'s point plus its head:
    /// the cost of classifying a sample at that exit.
    public func cumulativeFLOPs(of exit: AttachedExit) -> Int {
        backbone.forwardFLOPs(through: exit.point) + exit.head.cost(for: [1] + exit.point.featureShape).forward
    }

    /// Inference through the backbone child by child, running each head on the features at
    /// its point. `input` is (N, C, H, W), already normalised.
    public func forward(_ input: Tensor) -> MultiExitOutput {
        var x = input
        var exitLogits: [Tensor] = []
        var next = 0
        for (i, child) in backbone.network.children.enumerated() {
            x = child.layer.forward(x, mode: .inference)
            while next < exits.count && exits[next].point.childIndex == i {
                exitLogits.append(exits[next].head.forward(x, mode: .inference))
                next += 1
            }
        }
        return MultiExitOutput(exitLogits: exitLogits, finalLogits: x)
    }
}
