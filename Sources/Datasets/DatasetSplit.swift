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
