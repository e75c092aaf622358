import Foundation

/// A split decoded to bytes: what the loader builds from PNGs and what the cache stores.
///
/// `images.pixels` is N×C×H×W bytes in sample order (class, then file name); `mean` and
/// `std` are per channel, over all of the split's pixels scaled to [0, 1], population
/// standard deviation (divided by the number of values, not one less). `fingerprint`
/// identifies the tree state it was decoded from (`DatasetTree.fingerprint`).
public struct DecodedSplit: Equatable, Sendable {
    public var fingerprint: UInt64
    public var images: LabelledImages
    public var mean: [Double]
    public var std: [Double]

    public init(fingerprint: UInt64, images: LabelledImages) {
        self.fingerprint = fingerprint
        self.images = images
        (mean, std) = DecodedSplit.statistics(images)
    }

    init(fingerprint: UInt64, images: LabelledImages, mean: [Double], std: [Double]) {
        self.fingerprint = fingerprint
        self.images = images
        self.mean = mean
        self.std = std
    }

    /// Per-channel mean and standard deviation of the pixel values / 255. Counted through
    /// per-channel histograms of the byte values, whose sums are exact integers, so the
    /// result does not depend on the order or chunking of the work.
    static func statistics(_ images: LabelledImages) -> (mean: [Double], std: [Double]) {
        let (c, plane, size) = (images.channels, images.height * images.width, images.imageSize)
        let n = images.count
        guard n > 0 else { return ([Double](repeating: 0, count: c), [Double](repeating: 0, count: c)) }
        // Chunks of 1024 images: per-chunk histograms (c × 256 counts) summed afterwards.
        // The transform cannot throw, so `try!` cannot trap.
        let histograms = try! parallelMap(count: (n + 1023) / 1024, chunkSize: 1) { chunk -> [Int] in
            var counts = [Int](repeating: 0, count: c * 256)
            for i in (chunk * 1024) ..< min(n, (chunk + 1) * 1024) {
                for channel in 0..<c {
                    let start = i * size + channel * plane
                    for b in images.pixels[start ..< start + plane] { counts[channel * 256 + Int(b)] += 1 }
                }
            }
            return counts
        }
        var mean = [Double](), std = [Double]()
        for channel in 0..<c {
            var sum = 0, squares = 0
            for value in 0..<256 {
                let count = histograms.reduce(0) { $0 + $1[channel * 256 + value] }
                sum += count * value
                squares += count * value * value
            }
            let values = Double(n * plane)
            let m = Double(sum) / values / 255
            let meanSquare = Double(squares) / values / (255 * 255)
            mean.append(m)
            std.append(max(0, meanSquare - m * m).squareRoot())
        }
        return (mean, std)
    }
}
