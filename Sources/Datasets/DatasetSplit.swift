import Tensor

/// One split of a dataset in memory, ready for training.
///
/// `images` is N×C×H×W Float32, each value the PNG byte / 255, so in [0, 1]; samples are in
/// the tree's sample order (by class in label order, then file name). `labels[i]` is the
/// class index of image i, `superclassLabels[i]` its superclass index when dataset.json
/// has groups. `mean` and `std` are the split's per-channel statistics of those [0, 1]
/// values (population std), for normalisation.
public struct DatasetSplit: Sendable {
    public var name: String
    /// N×C×H×W in [0, 1].
    public var images: Tensor
    public var labels: [Int]
    public var superclassLabels: [Int]?
    public var mean: [Double]
    public var std: [Double]
    /// In label order.
    public var classNames: [String]
    /// In superclass-label order.
    public var superclassNames: [String]?

    public var count: Int { labels.count }

    /// A split held in memory (for tests and generated data): `images` N×C×H×W in [0, 1];
    /// mean and std are computed here, per channel, in Double and in sample order.
    public init(name: String, images: Tensor, labels: [Int], classNames: [String],
                superclassLabels: [Int]? = nil, superclassNames: [String]? = nil) {
        precondition(images.rank == 4 && images.shape[0] == labels.count,
                     "images \(images.shape) for \(labels.count) labels")
        precondition(labels.allSatisfy { (0..<classNames.count).contains($0) }, "a label outside 0..<\(classNames.count)")
        let (n, c) = (images.shape[0], images.shape[1]), plane = images.shape[2] * images.shape[3]
        var mean = [Double](repeating: 0, count: c), std = [Double](repeating: 0, count: c)
        for ch in 0..<c {
            var sum = 0.0, sumSquares = 0.0
            for i in 0..<n {
                for v in images.scalars[((i * c + ch) * plane)..<((i * c + ch + 1) * plane)] {
                    sum += Double(v); sumSquares += Double(v) * Double(v)
                }
            }
            let count = Double(max(1, n * plane))
            mean[ch] = sum / count
            std[ch] = max(0, sumSquares / count - mean[ch] * mean[ch]).squareRoot()
        }
        self.name = name
        self.images = images
        self.labels = labels
        self.superclassLabels = superclassLabels
        self.mean = mean
        self.std = std
        self.classNames = classNames
        self.superclassNames = superclassNames
    }

    /// Builds the Float32 view of a decoded split described by `manifest`.
    public init(name: String, decoded: DecodedSplit, manifest: DatasetManifest) {
        let raw = decoded.images
        // A table of the 256 possible values gives exactly b / 255 without a division per pixel.
        let scale = (0..<256).map { Float($0) / 255 }
        self.name = name
        self.images = Tensor(shape: [raw.count, raw.channels, raw.height, raw.width],
                             scalars: raw.pixels.map { scale[Int($0)] })
        self.labels = raw.labels
        self.superclassLabels = manifest.superclassOfClass.map { map in raw.labels.map { map[$0] } }
        self.mean = decoded.mean
        self.std = decoded.std
        self.classNames = manifest.classes.map(\.name)
        self.superclassNames = manifest.superclasses?.map(\.name)
    }
}
