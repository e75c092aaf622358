import Models
import Tensor

/// Training-time augmentation: random crop with zero padding, then horizontal flip
/// (the standard CIFAR recipe, He et al. 2016). Both keep a class's identity for
/// Fashion-MNIST and CIFAR; `none` is for data where they do not (digits, text).
public struct Augmentation: Codable, Equatable, Sendable {
    /// Pixels of zero padding on each side before cropping back to the original size
    /// (0: no crop). Zero is black in [0, 1] space, padded before normalisation.
    public var cropPadding: Int
    /// Mirror left-right with probability 1/2.
    public var horizontalFlip: Bool

    public init(cropPadding: Int = 4, horizontalFlip: Bool = true) {
        precondition(cropPadding >= 0)
        self.cropPadding = cropPadding; self.horizontalFlip = horizontalFlip
    }

    public static let none = Augmentation(cropPadding: 0, horizontalFlip: false)
}

/// Assembling mini-batches from a split held in memory.
public enum Batches {
    /// The samples `indices` of `images` (N, C, H, W, values in [0, 1]) as one normalised
    /// batch (B, C, H, W): (x - mean[c]) / std[c], after augmentation when given. Per
    /// sample, draws in this order from `generator`: crop row offset, crop column offset
    /// (each uniform in 0...2p), flip (uniform < 1/2); nothing is drawn for a disabled step.
    public static func make(from images: Tensor, indices: ArraySlice<Int>, normalization: InputNormalization,
                            augmentation: Augmentation = .none, generator: inout SeededGenerator) -> Tensor {
        let (c, h, w) = (images.shape[1], images.shape[2], images.shape[3])
        let plane = h * w, imageSize = c * plane
        let source = images.scalars
        let scale = normalization.std.map { 1 / $0 }
        let shift = zip(normalization.mean, scale).map { -$0 * $1 }
        var out = [Float](repeating: 0, count: indices.count * imageSize)
        let p = augmentation.cropPadding
        for (b, index) in indices.enumerated() {
            let dy = p > 0 ? generator.nextInt(below: 2 * p + 1) - p : 0
            let dx = p > 0 ? generator.nextInt(below: 2 * p + 1) - p : 0
            let flip = augmentation.horizontalFlip && generator.nextUniform() < 0.5
            let src = index * imageSize, dst = b * imageSize
            for ch in 0..<c {
                // Padding pixels are 0 before normalisation, so shift afterwards.
                let (a, s) = (scale[ch], shift[ch])
                for y in 0..<h {
                    let sy = y + dy
                    let row = dst + ch * plane + y * w
                    guard sy >= 0 && sy < h else {
                        for x in 0..<w { out[row + x] = s }
                        continue
                    }
                    let srcRow = src + ch * plane + sy * w
                    for x in 0..<w {
                        let sx = (flip ? w - 1 - x : x) + dx
                        out[row + x] = (sx >= 0 && sx < w) ? source[srcRow + sx] * a + s : s
                    }
                }
            }
        }
        return Tensor(shape: [indices.count, c, h, w], scalars: out)
    }

    /// The samples `indices` normalised, without augmentation (evaluation).
    public static func make(from images: Tensor, indices: ArraySlice<Int>, normalization: InputNormalization) -> Tensor {
        // With augmentation off nothing is drawn, so any generator will do.
        var unused = SeededGenerator(seed: 0)
        return make(from: images, indices: indices, normalization: normalization, augmentation: .none, generator: &unused)
    }

    /// Sample order of one epoch: a Fisher-Yates shuffle of 0..<count.
    public static func shuffledOrder(count: Int, generator: inout SeededGenerator) -> [Int] {
        var order = Array(0..<count)
        generator.shuffle(&order)
        return order
    }

    /// Start..<end of each mini-batch over `count` samples. A last batch of a single
    /// sample is dropped when training (batch norm needs two samples for a variance).
    public static func ranges(count: Int, batchSize: Int, training: Bool) -> [Range<Int>] {
        precondition(batchSize > 0)
        var out: [Range<Int>] = []
        var start = 0
        while start < count {
            let end = min(start + batchSize, count)
            if !(training && end - start < 2) { out.append(start..<end) }
            start = end
        }
        return out
    }
}
