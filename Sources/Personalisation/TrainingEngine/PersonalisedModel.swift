import Models
import NN
import Tensor
import Training

/// A per-user copy of a `MultiExitModel`'s exit heads (the backbone is shared, never
/// copied). Created from a `MultiExitModel` whose heads are the offline-trained ones.
///
/// `heads[i]` sits at the same point, with the same kind, as `base.exits[i]` (network
/// order), but owns its own parameters and batch-norm buffers, so personalising one user
/// never touches the base model or another user. Inputs of `forward` are normalised
/// images (N, C, H, W), as `MultiExitModel.forward` takes them.
public final class PersonalisedModel {
    /// Shared backbone (+ offline heads). Never written by the personalisation engine.
    public let base: MultiExitModel
    /// This user's copies, same points and kinds as `base.exits`.
    public let heads: [AttachedExit]
    /// This user's heads on the shared backbone as a `MultiExitModel` (same backbone
    /// object, normalisation and dataset as `base`; `exits` are `heads`), for every API
    /// that takes one: `Evaluation.evaluate`, `ModelCheckpoint.save`.
    public let multiExitModel: MultiExitModel

    /// Copies every head of `base`: parameter values and batch-norm buffers of the offline
    /// head, or, when `fromScratch`, a fresh head of the same kind drawn from `generator`.
    /// A head is built (drawing from `generator`) in both cases, so the generator advances
    /// the same way whichever is chosen.
    public init(copying base: MultiExitModel, fromScratch: Bool = false, generator: inout SeededGenerator) {
        self.base = base
        let own = MultiExitModel(backbone: base.backbone, normalization: base.normalization, dataset: base.dataset,
                                 pretraining: base.pretraining, exitTraining: base.exitTraining)
        for exit in base.exits {
            let copy = own.attachExit(at: exit.point, kind: exit.kind, generator: &generator)
            if !fromScratch { copyState(from: exit.head, to: copy.head) }
        }
        multiExitModel = own
        heads = own.exits
    }

    public var backbone: Backbone { base.backbone }
    public var normalization: InputNormalization { base.normalization }

    /// The head at the point named `name`, if any.
    public func head(at name: String) -> AttachedExit? { heads.first { $0.point.name == name } }

    /// Logits of every head and of the final classifier for a batch (inference mode),
    /// like `MultiExitModel.forward`. `input` is (N, C, H, W), already normalised.
    public func forward(_ input: Tensor) -> MultiExitOutput { multiExitModel.forward(input) }

    /// Forward FLOPs for one sample classified at `exit`: backbone through its point plus
    /// the head.
    public func cumulativeFLOPs(of exit: AttachedExit) -> Int {
        backbone.forwardFLOPs(through: exit.point) + exit.head.cost(for: [1] + exit.point.featureShape).forward
    }
}

/// Copies parameter values and buffers of `source` into `destination`, which must have
/// the same structure (same names, same shapes, same order).
func copyState(from source: any Layer, to destination: any Layer) {
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
