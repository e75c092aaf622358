import Datasets
import Tensor
import Training

/// Samples to profile or run a model on: positions in a split held in memory, with the
/// label where the user has one.
///
/// `images` is the whole split, (N, C, H, W) Float32 in [0, 1] (not normalised: the profiler
/// and the inference engine normalise with the network's `InputNormalization`, exactly as
/// `Batches.make` does for evaluation). `indices[i]` is a position in `images`;
/// `labels[i]` is that sample's class, or nil when the user has no label for it.
public struct InferenceSamples {
    public var images: Tensor
    public var indices: [Int]
    public var labels: [Int?]

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
        self.images = images; self.indices = indices; self.labels = labels
    }

    /// The user's validation share of the train split, labelled where `validationLabelled` says.
    public init(validationOf user: SimulatedUser, in train: DatasetSplit) throws {
        try self.init(images: train.images, indices: user.validation,
                      labels: zip(user.validation, user.validationLabelled).map { $1 ? Self.label(train, $0) : nil })
    }

    /// The user's test set (indices into the test split), every sample labelled.
    public init(testOf user: SimulatedUser, in test: DatasetSplit) throws {
        try self.init(images: test.images, indices: user.test, labels: user.test.map { Self.label(test, $0) })
    }

    private static func label(_ split: DatasetSplit, _ i: Int) -> Int? { i >= 0 && i < split.count ? split.labels[i] : nil }

    public var count: Int { indices.count }
    /// How many samples carry a label.
    public var labelledCount: Int { labels.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// Samples `range` normalised as one batch (B, C, H, W).
    func batch(_ range: Range<Int>, normalization: InputNormalization) -> Tensor {
        Batches.make(from: images, indices: indices[range], normalization: normalization)
    }
}
