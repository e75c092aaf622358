/// Labelled images held in memory, as parsed from a source format or decoded from a tree.
///
/// Layout: `pixels` is N×C×H×W, one byte per sample value, images in order, each image
/// channel-major (all of channel 0's rows, then channel 1's, ...), rows top to bottom.
/// `labels[i]` is image i's class index; `coarseLabels[i]` its superclass index when
/// the source has one (CIFAR-100).
public struct LabelledImages: Equatable, Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    /// N×C×H×W bytes.
    public var pixels: [UInt8]
    public var labels: [Int]
    public var coarseLabels: [Int]?

    public init(channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int],
                coarseLabels: [Int]? = nil) {
        precondition(pixels.count == labels.count * channels * height * width,
                     "\(pixels.count) pixel bytes for \(labels.count) images of \(channels)x\(height)x\(width)")
        precondition(coarseLabels == nil || coarseLabels!.count == labels.count,
                     "coarse labels do not match labels")
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
        self.coarseLabels = coarseLabels
    }

    public var count: Int { labels.count }
    /// Bytes per image, C·H·W.
    public var imageSize: Int { channels * height * width }

    /// Image `index` as C×H×W bytes.
    public func image(_ index: Int) -> ArraySlice<UInt8> {
        pixels[index * imageSize ..< (index + 1) * imageSize]
    }

    /// Image `index` interleaved as H×W×C bytes, the layout PNG rows use.
    public func interleavedImage(_ index: Int) -> [UInt8] {
        let chw = image(index)
        if channels == 1 { return Array(chw) }
        let plane = height * width
        let base = chw.startIndex
        var hwc = [UInt8](repeating: 0, count: imageSize)
        for p in 0..<plane {
            for c in 0..<channels { hwc[p * channels + c] = chw[base + c * plane + p] }
        }
        return hwc
    }

    /// Appends `other`'s images; both must have the same image shape and label kinds.
    public mutating func append(_ other: LabelledImages) {
        precondition((channels, height, width) == (other.channels, other.height, other.width),
                     "image shapes differ")
        precondition((coarseLabels == nil) == (other.coarseLabels == nil), "label kinds differ")
        pixels += other.pixels
        labels += other.labels
        if let more = other.coarseLabels { coarseLabels! += more }
    }
}
