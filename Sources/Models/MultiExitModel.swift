import NN
import Tensor

/// An exit head attached at a backbone point. `head` maps features (N, C, H, W) at the
/// point to (N, classes) logits.
public struct AttachedExit {
    public let point: ExitPoint
    public let kind: ExitHeadKind
    public let head: Sequential
    /// Forward FLOPs of the head alone for one sample.
    public let headFLOPs: Int
}

/// Classifier outputs of one multi-exit forward pass: the logits of each exit in network
/// order, then the final classifier's.
public struct MultiExitOutput {
    /// (N, classes) per attached exit, in `MultiExitModel.exits` order.
    public var exitLogits: [Tensor]
    /// (N, classes).
    public var finalLogits: Tensor

    /// Every classifier's logits in classifier order: the exits, then the final classifier.
    public var classifierLogits: [Tensor] { exitLogits + [finalLogits] }
}

/// A backbone, its attached exit heads and everything needed to use it on new data: the
/// input normalisation, the dataset it was trained on, and how it was trained. This is
/// what a model checkpoint holds (`ModelCheckpoint`, docs/checkpoints-models.md), what the
/// personaliser returns for a user (`init(copyingExitsOf:)`: the user's own heads on the
/// shared backbone) and what the profiler, orchestrator and inference engine run.
///
/// Classifier layout: index c in 0..<exits.count is exit c, `exits.count` is the final
/// classifier. Costs are per sample (batch 1) forward FLOPs from the layers' own cost
/// functions. Inputs of every forward are normalised images (N, C, H, W).
public final class MultiExitModel {
    public let backbone: Backbone
    /// In network order of their points, at most one per point, each producing
    /// `backbone.classes` logits (`attachExit` keeps this so).
    public private(set) var exits: [AttachedExit] = []
    public var normalization: InputNormalization
    public var dataset: DatasetIdentity
    /// How the model was trained, one JSON record per stage keyed by the checkpoint
    /// metadata's name for it (`pretraining`, `exit_training`); the training module reads
    /// and writes them typed.
    public var trainingRecords: [String: String]
    /// Forward FLOPs of each backbone child for one sample, in child order.
    public let childFLOPs: [Int]

    public init(backbone: Backbone, normalization: InputNormalization, dataset: DatasetIdentity,
                trainingRecords: [String: String] = [:]) {
        precondition(normalization.mean.count == backbone.inputShape[0], "one mean and std per input channel")
        self.backbone = backbone; self.normalization = normalization; self.dataset = dataset
        self.trainingRecords = trainingRecords
        childFLOPs = backbone.network.costTable(for: [1] + backbone.inputShape).map(\.cost.forward)
    }

    /// A per-user copy of `base`'s exit heads on `base`'s backbone (shared, never copied):
    /// each head at the same point and of the same kind, with its own parameters and
    /// batch-norm buffers, so personalising one user never touches the base or another
    /// user. A head copies the offline head's values or, when `fromScratch`, keeps its
    /// fresh draw from `generator`; it is drawn in both cases, so the generator advances
    /// the same way whichever is chosen.
    public convenience init(copyingExitsOf base: MultiExitModel, fromScratch: Bool = false,
                            generator: inout SeededGenerator) {
        self.init(backbone: base.backbone, normalization: base.normalization, dataset: base.dataset,
                  trainingRecords: base.trainingRecords)
        for exit in base.exits {
            let copy = attachExit(at: exit.point, kind: exit.kind, generator: &generator)
            if !fromScratch { copyState(from: exit.head, to: copy.head) }
        }
    }

    /// Creates a fresh head of `kind` at `point` (replacing one already there) and returns it.
    @discardableResult
    public func attachExit(at point: ExitPoint, kind: ExitHeadKind, generator: inout SeededGenerator) -> AttachedExit {
        precondition(backbone.exitPoint(named: point.name) == point, "\(point.name) is not a point of this backbone")
        let head = ExitHead.make(kind, featureShape: point.featureShape, classes: backbone.classes, generator: &generator)
        let exit = AttachedExit(point: point, kind: kind, head: head,
                                headFLOPs: head.cost(for: [1] + point.featureShape).forward)
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

    /// Number of classifiers: the exits, then the final classifier.
    public var classifierCount: Int { exits.count + 1 }

    /// `block2`, ..., then `final`, in classifier order.
    public var classifierNames: [String] { exits.map(\.point.name) + ["final"] }

    /// Forward FLOPs of the backbone for one sample through child `index` (inclusive).
    public func backboneFLOPs(throughChild index: Int) -> Int { childFLOPs[0...index].reduce(0, +) }

    /// Forward FLOPs of the whole backbone for one sample.
    public var fullNetworkFLOPs: Int { childFLOPs.reduce(0, +) }

    /// Forward FLOPs for one sample of the backbone through `exit`'s point plus its head:
    /// the cost of classifying a sample at that exit when it is run alone.
    public func cumulativeFLOPs(of exit: AttachedExit) -> Int {
        backboneFLOPs(throughChild: exit.point.childIndex) + exit.headFLOPs
    }

    /// The same for exit `e`.
    public func cumulativeFLOPs(ofExit e: Int) -> Int { cumulativeFLOPs(of: exits[e]) }

    /// Inference through the backbone child by child, running each head on the features at
    /// its point.
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

    /// A function giving the logits of classifier `c` alone: the backbone prefix through the
    /// exit's point and its head, or the whole backbone for the final classifier. The prefix
    /// is built once, outside any timed call.
    public func classifierForward(_ c: Int) -> (Tensor) -> Tensor {
        guard c < exits.count else {
            let network = backbone.network
            return { network.forward($0, mode: .inference) }
        }
        let prefix = backbone.prefix(through: exits[c].point), head = exits[c].head
        return { head.forward(prefix.forward($0, mode: .inference), mode: .inference) }
    }
}

/// Copies parameter values and buffers of `source` into `destination`, which must have
/// the same structure (same names, same shapes, same order).
public func copyState(from source: any Layer, to destination: any Layer) {
    let (sp, dp) = (source.namedParameters, destination.namedParameters)
    precondition(sp.map(\.name) == dp.map(\.name), "parameter names differ: \(sp.map(\.name)) vs \(dp.map(\.name))")
    for (s, d) in zip(sp, dp) {
        precondition(s.parameter.value.shape == d.parameter.value.shape, "\(s.name): shapes differ")
        d.parameter.value = s.parameter.value
    }
    let (sb, db) = (source.namedBuffers, destination.namedBuffers)
    precondition(sb.map(\.name) == db.map(\.name), "buffer names differ: \(sb.map(\.name)) vs \(db.map(\.name))")
    for (s, d) in zip(sb, db) {
        precondition(s.buffer.value.shape == d.buffer.value.shape, "\(s.name): shapes differ")
        d.buffer.value = s.buffer.value
    }
}
