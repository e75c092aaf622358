import Models
import NN
import Tensor
import Training

/// A backbone with a set of attached exit heads and the input normalisation, as the profiler
/// and the inference engine see it. It works for a `MultiExitModel` (its `exits`) and for a
/// per-user copy of the heads (`PersonalisedModel.heads`): the backbone is shared,
/// never copied.
///
/// Layout: `heads` in network order of their points, at most one per point; classifier
/// index c in 0..<heads.count is exit c, `heads.count` is the final classifier. Costs are
/// per sample (batch 1) forward FLOPs from the layers' own cost functions.
public struct InferenceNetwork {
    public let backbone: Backbone
    public let heads: [AttachedExit]
    public let normalization: InputNormalization
    /// Forward FLOPs of each backbone child for one sample, in child order.
    public let childFLOPs: [Int]
    /// Forward FLOPs of each head for one sample, parallel to `heads`.
    public let headFLOPs: [Int]

    /// Checks that every head sits at a point of `backbone`, in network order, one per point,
    /// takes that point's feature shape and produces `backbone.classes` logits, and that the
    /// normalisation has one mean and std per input channel.
    public init(backbone: Backbone, heads: [AttachedExit], normalization: InputNormalization) throws {
        guard normalization.mean.count == backbone.inputShape[0] else {
            throw OrchestratorError(subject: "normalization",
                                    message: "\(normalization.mean.count) channel means for a \(backbone.inputShape[0])-channel backbone",
                                    hint: "pass the normalisation stored with the model's checkpoint")
        }
        var lastChild = -1
        for (i, exit) in heads.enumerated() {
            guard backbone.exitPoint(named: exit.point.name) == exit.point else {
                throw OrchestratorError(subject: "heads[\(i)]", message: "point \(exit.point.name) is not a point of this \(backbone.architecture)",
                                        hint: "pass heads attached to this backbone (MultiExitModel.exits or PersonalisedModel.heads)")
            }
            guard exit.point.childIndex > lastChild else {
                throw OrchestratorError(subject: "heads[\(i)]", message: "point \(exit.point.name) is out of network order or repeated",
                                        hint: "pass at most one head per point, sorted by point")
            }
            lastChild = exit.point.childIndex
            let out = exit.head.outputShape(for: [1] + exit.point.featureShape)
            guard out == [1, backbone.classes] else {
                throw OrchestratorError(subject: "heads[\(i)]", message: "head at \(exit.point.name) gives shape \(out), expected [1, \(backbone.classes)]",
                                        hint: "build heads with ExitHead.make for this backbone's classes")
            }
        }
        self.backbone = backbone
        self.heads = heads
        self.normalization = normalization
        self.childFLOPs = backbone.network.costTable(for: [1] + backbone.inputShape).map(\.cost.forward)
        self.headFLOPs = heads.map { $0.head.cost(for: [1] + $0.point.featureShape).forward }
    }

    /// The network of a `MultiExitModel`, its offline heads included.
    public init(_ model: MultiExitModel) throws {
        try self.init(backbone: model.backbone, heads: model.exits, normalization: model.normalization)
    }

    /// Number of classifiers: the exits, then the final classifier.
    public var classifierCount: Int { heads.count + 1 }

    /// `block2`, ..., then `final`, in classifier order.
    public var classifierNames: [String] { heads.map(\.point.name) + ["final"] }

    /// Forward FLOPs of the backbone for one sample through child `index` (inclusive).
    public func backboneFLOPs(throughChild index: Int) -> Int { childFLOPs[0...index].reduce(0, +) }

    /// Forward FLOPs of the whole backbone for one sample.
    public var fullNetworkFLOPs: Int { childFLOPs.reduce(0, +) }

    /// Forward FLOPs of classifying one sample at exit `e` when it is run alone (the
    /// profiler's and the fixed-exit policy's cost): backbone through the point plus the head.
    public func cumulativeFLOPs(ofExit e: Int) -> Int {
        backboneFLOPs(throughChild: heads[e].point.childIndex) + headFLOPs[e]
    }

    /// Logits of every exit and of the final classifier for a normalised batch (N, C, H, W),
    /// in classifier order, each (N, classes). Runs every head (the profiler's pass).
    func allLogits(_ input: Tensor) -> [Tensor] {
        var x = input
        var logits: [Tensor] = []
        var next = 0
        for (i, child) in backbone.network.children.enumerated() {
            x = child.layer.forward(x, mode: .inference)
            while next < heads.count && heads[next].point.childIndex == i {
                logits.append(heads[next].head.forward(x, mode: .inference))
                next += 1
            }
        }
        return logits + [x]
    }

    /// A function giving the logits of classifier `c` alone for a normalised batch: the
    /// backbone prefix through the exit's point and its head, or the whole backbone for the
    /// final classifier. The prefix is built once, outside any timed call.
    func classifierForward(_ c: Int) -> (Tensor) -> Tensor {
        guard c < heads.count else {
            let network = backbone.network
            return { network.forward($0, mode: .inference) }
        }
        let prefix = backbone.prefix(through: heads[c].point), head = heads[c].head
        return { head.forward(prefix.forward($0, mode: .inference), mode: .inference) }
    }
}

/// Top-1 class and its softmax probability for each row of (N, K) logits. The arg max takes
/// the first of equal scores, so ties resolve the same way on every run.
func topOne(_ logits: Tensor) -> (classes: [Int], confidences: [Float]) {
    let n = logits.shape[0], k = logits.shape[1]
    let probabilities = Loss.softmax(logits).scalars
    var classes = [Int](repeating: 0, count: n), confidences = [Float](repeating: 0, count: n)
    for r in 0..<n {
        var best = 0
        for j in 1..<max(k, 1) where logits.scalars[r * k + j] > logits.scalars[r * k + best] { best = j }
        classes[r] = best
        confidences[r] = probabilities[r * k + best]
    }
    return (classes, confidences)
}

/// Median of a non-empty list (mean of the two middle values for an even count).
func medianValue(_ values: [Double]) -> Double {
    precondition(!values.isEmpty)
    let s = values.sorted(), m = s.count / 2
    return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
}
