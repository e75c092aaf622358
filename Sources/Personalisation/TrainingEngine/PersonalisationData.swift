import Datasets
import Tensor
import Training

/// One user's training samples as the on-device engine sees them.
///
/// `images` is (N, C, H, W) with values in [0, 1], *not* normalised: the engine normalises
/// with the model's own `InputNormalization` before the backbone (so did pretraining).
/// `labels[i]` is sample i's class; it is read only when `isLabelled[i]`, so unlabelled
/// samples may carry any value (the simulated users keep the true class there, unused).
public struct PersonalisationData: Sendable {
    public var images: Tensor
    public var labels: [Int]
    public var isLabelled: [Bool]

    public init(images: Tensor, labels: [Int], isLabelled: [Bool]) {
        precondition(images.rank == 4 && images.shape[0] == labels.count && labels.count == isLabelled.count,
                     "images \(images.shape), \(labels.count) labels and \(isLabelled.count) flags must agree")
        self.images = images; self.labels = labels; self.isLabelled = isLabelled
    }

    /// The samples of `split` at `indices` (positions in the split), with their flags.
    public init(split: DatasetSplit, indices: [Int], isLabelled: [Bool]) {
        precondition(indices.count == isLabelled.count, "\(indices.count) indices for \(isLabelled.count) flags")
        self.init(images: gatherRows(split.images, indices[...]), labels: indices.map { split.labels[$0] },
                  isLabelled: isLabelled)
    }

    /// A user's pool (a prefix of its training samples) from the train split.
    public init(split: DatasetSplit, pool: UserPool) {
        self.init(split: split, indices: pool.indices, isLabelled: pool.isLabelled)
    }

    /// Every sample labelled: a user's validation or test samples for scoring.
    public init(split: DatasetSplit, indices: [Int]) {
        self.init(split: split, indices: indices, isLabelled: [Bool](repeating: true, count: indices.count))
    }

    public var count: Int { labels.count }
    public var labelledCount: Int { isLabelled.filter { $0 }.count }

    /// Why these samples cannot train `model`'s heads, or nil.
    func problem(for model: MultiExitModel) -> String? {
        if count == 0 { return "the user has no training samples" }
        let shape = Array(images.shape.dropFirst())
        if shape != model.backbone.inputShape {
            return "images are \(shape) (C, H, W), the backbone expects \(model.backbone.inputShape)"
        }
        let k = model.backbone.classes
        if let i = labels.indices.first(where: { isLabelled[$0] && !(0..<k).contains(labels[$0]) }) {
            return "sample \(i) is labelled \(labels[i]), the model has classes 0..<\(k)"
        }
        return nil
    }
}

/// Rows `indices` of a (N, ...) tensor as a new (indices.count, ...) tensor.
func gatherRows(_ tensor: Tensor, _ indices: ArraySlice<Int>) -> Tensor {
    let n = tensor.shape[0]
    let row = n == 0 ? 0 : tensor.count / n
    var out: [Float] = []
    out.reserveCapacity(indices.count * row)
    for i in indices {
        precondition(i >= 0 && i < n, "row \(i) of \(n)")
        out.append(contentsOf: tensor.scalars[(i * row)..<((i + 1) * row)])
    }
    return Tensor(shape: [indices.count] + Array(tensor.shape.dropFirst()), scalars: out)
}

/// Index of the largest entry in each row of a (rows, columns) buffer (first on ties).
func rowArgmax(_ scores: [Float], rows: Int, columns: Int) -> [Int] {
    (0..<rows).map { r in
        var best = 0
        for c in 1..<columns where scores[r * columns + c] > scores[r * columns + best] { best = c }
        return best
    }
}
