import Foundation
import Models
import NN
import Tensor
import Training

/// The frozen backbone's outputs for one user's samples, computed once and reused by every
/// epoch of head training: the features at each exit point and, when a loss needs the
/// teacher, the final classifier's logits.
///
/// Layouts: `features(for:)` returns one (B, C, H, W) tensor per point (in `points` order,
/// network order), `finalLogits` is (N, K); row i is sample i of the data it was built on.
///
/// The backbone runs child by child in inference mode (batch-norm running statistics,
/// nothing cached for backward), in batches of `batchSize`, up to the deepest point, or to
/// the end when the final logits are kept. When the features would take more than the
/// memory budget, they are not kept: `storage` is `.recomputed`, the final logits are
/// still computed once (one full pass without keeping features), and every
/// `features(for:)` call runs the backbone again through the deepest point for that batch.
/// No augmentation is ever applied: a cached feature is one fixed view of its sample.
public final class FeatureCache {
    public enum Storage: String, Codable, Sendable {
        /// Features held in memory, computed once.
        case cached
        /// Over budget: features recomputed per batch.
        case recomputed
    }

    /// Distinct points, network order.
    public let points: [ExitPoint]
    public let count: Int
    public let storage: Storage
    /// Float32 bytes the features at `points` and the kept logits take for all samples.
    public let estimatedBytes: Int
    /// Bytes this cache holds: `estimatedBytes` when cached, the logits alone when recomputing.
    public let heldBytes: Int
    /// (N, K) final-classifier logits, when built with `keepFinalLogits`.
    public let finalLogits: Tensor?
    /// FLOPs of the backbone passes run so far (building, plus recomputation).
    public private(set) var backboneFLOPs: Int
    /// Samples whose features were recomputed after building (recomputed storage only).
    public private(set) var recomputedSamples = 0

    private let backbone: Backbone
    private let normalization: InputNormalization
    private let images: Tensor
    private let deepest: Int
    /// Per point, (N, C, H, W) flattened; empty when recomputing.
    private var stored: [[Float]]

    /// Runs `backbone` over `images` ((N, C, H, W) in [0, 1], normalised here with
    /// `normalization`) and keeps the features at `points` and, when `keepFinalLogits`, the
    /// final logits, unless the features exceed `memoryBudgetBytes`.
    public init(backbone: Backbone, normalization: InputNormalization, images: Tensor, points: [ExitPoint],
                keepFinalLogits: Bool, memoryBudgetBytes: Int, batchSize: Int = 256) {
        precondition(!points.isEmpty, "a feature cache needs at least one point")
        precondition(Array(images.shape.dropFirst()) == backbone.inputShape,
                     "images \(images.shape) do not fit the backbone's input \(backbone.inputShape)")
        let points = Array(Set(points)).sorted { $0.childIndex < $1.childIndex }
        let n = images.shape[0]
        let k = backbone.classes
        self.points = points; count = n
        self.backbone = backbone; self.normalization = normalization; self.images = images
        deepest = points.last!.childIndex
        let featureScalars = points.reduce(0) { $0 + Tensor.count(of: $1.featureShape) }
        let logitBytes = keepFinalLogits ? n * k * 4 : 0
        estimatedBytes = n * featureScalars * 4 + logitBytes
        storage = estimatedBytes <= memoryBudgetBytes ? .cached : .recomputed
        heldBytes = storage == .cached ? estimatedBytes : logitBytes

        let keep = storage == .cached
        let last = keepFinalLogits ? backbone.network.children.count - 1 : (keep ? deepest : -1)
        stored = points.map { _ in [] }
        if keep { for p in points.indices { stored[p].reserveCapacity(n * Tensor.count(of: points[p].featureShape)) } }
        var logits: [Float] = []
        logits.reserveCapacity(n * k)
        let order = Array(0..<n)
        if last >= 0 {
            for range in Batches.ranges(count: n, batchSize: batchSize, training: false) {
                var x = Batches.make(from: images, indices: order[range], normalization: normalization)
                var p = 0
                for i in 0...last {
                    x = backbone.network.children[i].layer.forward(x, mode: .inference)
                    while keep && p < points.count && points[p].childIndex == i {
                        stored[p].append(contentsOf: x.scalars)
                        p += 1
                    }
                }
                if keepFinalLogits { logits.append(contentsOf: x.scalars) }
            }
        }
        finalLogits = keepFinalLogits ? Tensor(shape: [n, k], scalars: logits) : nil
        backboneFLOPs = last >= 0 ? backbone.network.prefix(last + 1).cost(for: [1] + backbone.inputShape).forward * n : 0
    }

    /// Forward FLOPs per sample of the backbone through the deepest point: what a
    /// recomputation costs.
    public var recomputationFLOPsPerSample: Int {
        backbone.network.prefix(deepest + 1).cost(for: [1] + backbone.inputShape).forward
    }

    /// The features of samples `indices`, one (B, C, H, W) tensor per point.
    public func features(for indices: ArraySlice<Int>) -> [Tensor] {
        switch storage {
        case .cached:
            return points.indices.map { storedFeatures(point: $0, for: indices) }
        case .recomputed:
            var x = Batches.make(from: images, indices: indices, normalization: normalization)
            var out: [Tensor] = []
            var p = 0
            for i in 0...deepest {
                x = backbone.network.children[i].layer.forward(x, mode: .inference)
                while p < points.count && points[p].childIndex == i { out.append(x); p += 1 }
            }
            recomputedSamples += indices.count
            backboneFLOPs += recomputationFLOPsPerSample * indices.count
            return out
        }
    }

    /// Point `p`'s features of samples `indices`, copied out of the cache (`storage` must be
    /// `.cached`). Safe to call from several threads at once.
    public func storedFeatures(point p: Int, for indices: ArraySlice<Int>) -> Tensor {
        precondition(storage == .cached, "storedFeatures of a cache that recomputes its features")
        let shape = points[p].featureShape
        let row = Tensor.count(of: shape)
        var out: [Float] = []
        out.reserveCapacity(indices.count * row)
        for i in indices { out.append(contentsOf: stored[p][(i * row)..<((i + 1) * row)]) }
        return Tensor(shape: [indices.count] + shape, scalars: out)
    }

    /// The features at one point for samples `indices`.
    public func features(at point: ExitPoint, for indices: ArraySlice<Int>) -> Tensor {
        guard let p = points.firstIndex(of: point) else { preconditionFailure("\(point.name) is not cached") }
        return features(for: indices)[p]
    }
}

/// Feature caches kept between personalisations of the same samples on the same frozen
/// backbone (one user's exits under several loss mixes or labelled fractions): the
/// backbone pass is what they share, and it is deterministic, so a kept cache gives the
/// same features, logits and FLOP count as a new one. Only in-memory caches are kept, at
/// most `capacityBytes` of them (oldest dropped first); a caller names the samples and
/// the backbone in `key`. Thread-safe: a second request for a key being built waits.
public final class FeatureCacheShelf: @unchecked Sendable {
    public let capacityBytes: Int
    private let lock = NSCondition()
    private var kept: [(key: String, cache: FeatureCache)] = []
    private var building: Set<String> = []

    /// 1 GiB: about twenty users' caches of ResNet-20 at four exits and 500 samples.
    public init(capacityBytes: Int = 1 << 30) { self.capacityBytes = capacityBytes }

    public func cache(_ key: String, make: () -> FeatureCache) -> FeatureCache {
        lock.lock()
        while building.contains(key) { lock.wait() }
        if let hit = kept.first(where: { $0.key == key }) {
            lock.unlock()
            return hit.cache
        }
        building.insert(key)
        lock.unlock()
        let cache = make()
        lock.lock()
        building.remove(key)
        if cache.storage == .cached && cache.heldBytes <= capacityBytes {
            kept.append((key, cache))
            while kept.reduce(0, { $0 + $1.cache.heldBytes }) > capacityBytes { kept.removeFirst() }
        }
        lock.broadcast()
        lock.unlock()
        return cache
    }
}
