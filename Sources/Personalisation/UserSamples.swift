import Datasets
import Models
import Tensor
import Training

/// One user's samples, as every box of the method takes them: the training engine trains
/// on them, the profiler scores on them, the inference engine runs them.
///
/// `images` is (N, C, H, W) Float32 in [0, 1], one row per sample, *not* normalised: each
/// box normalises with the model's own `InputNormalization` (as pretraining did) when it
/// batches them. `labels[i]` is sample i's class, or nil when the user has no label for it.
public struct UserSamples: Sendable {
    public var images: Tensor
    public var labels: [Int?]

    /// Samples whose rows are `images`.
    public init(images: Tensor, labels: [Int?]) {
        precondition(images.rank == 4 && images.shape[0] == labels.count,
                     "images \(images.shape) and \(labels.count) labels must agree")
        self.images = images; self.labels = labels
    }

    /// The rows of `images` (a whole split, (N, C, H, W)) at `indices`, with their labels.
    public init(images: Tensor, indices: [Int], labels: [Int?]) throws {
        guard images.rank == 4 else {
            throw OrchestratorError(subject: "images", message: "shape \(images.shape) is not (N, C, H, W)",
                                    hint: "pass DatasetSplit.images")
        }
        guard indices.count == labels.count else {
            throw OrchestratorError(subject: "labels", message: "\(labels.count) labels for \(indices.count) samples",
                                    hint: "give one label (or nil) per index")
        }
        if let bad = indices.first(where: { $0 < 0 || $0 >= images.shape[0] }) {
            throw OrchestratorError(subject: "indices", message: "sample \(bad) is outside the split of \(images.shape[0]) images",
                                    hint: "indices of a user of this split's UserSplit, into the same split")
        }
        self.init(images: gatherRows(images, indices[...]), labels: labels)
    }

    /// The samples of `split` at `indices` (positions in the split), labelled where
    /// `isLabelled` says.
    public init(split: DatasetSplit, indices: [Int], isLabelled: [Bool]) throws {
        precondition(indices.count == isLabelled.count, "\(indices.count) indices for \(isLabelled.count) flags")
        try self.init(images: split.images, indices: indices,
                      labels: zip(indices, isLabelled).map { $1 ? Self.label(split, $0) : nil })
    }

    /// The user's training samples (indices into the train split), labelled where flagged.
    public init(trainOf user: SimulatedUser, in train: DatasetSplit) throws {
        try self.init(split: train, indices: user.train, isLabelled: user.trainLabelled)
    }

    /// A user's pool (a prefix of its training samples) from the train split.
    public init(split: DatasetSplit, pool: UserPool) throws {
        try self.init(split: split, indices: pool.indices, isLabelled: pool.isLabelled)
    }

    /// The user's validation share of the train split, labelled where `validationLabelled` says.
    public init(validationOf user: SimulatedUser, in train: DatasetSplit) throws {
        try self.init(split: train, indices: user.validation, isLabelled: user.validationLabelled)
    }

    /// The user's test set (indices into the test split), every sample labelled.
    public init(testOf user: SimulatedUser, in test: DatasetSplit) throws {
        try self.init(split: test, indices: user.test, isLabelled: user.test.map { _ in true })
    }

    private static func label(_ split: DatasetSplit, _ i: Int) -> Int? { i >= 0 && i < split.count ? split.labels[i] : nil }

    public var count: Int { labels.count }
    /// How many samples carry a label.
    public var labelledCount: Int { labels.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// Samples `range` normalised as one batch (B, C, H, W).
    func batch(_ range: Range<Int>, normalization: InputNormalization) -> Tensor {
        Batches.make(from: images, indices: Array(range)[...], normalization: normalization)
    }

    /// Why these samples cannot train `model`'s heads, or nil.
    func problem(for model: MultiExitModel) -> String? {
        if count == 0 { return "the user has no training samples" }
        let shape = Array(images.shape.dropFirst())
        if shape != model.backbone.inputShape {
            return "images are \(shape) (C, H, W), the backbone expects \(model.backbone.inputShape)"
        }
        let k = model.backbone.classes
        if let i = labels.indices.first(where: { labels[$0].map { !(0..<k).contains($0) } ?? false }) {
            return "sample \(i) is labelled \(labels[i]!), the model has classes 0..<\(k)"
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
