import Models
import NN
@testable import Personalisation
import Tensor
import Testing
import Training

/// The feature cache, as part of the serialized engine suite (it shares the base model).
extension PersonalisationEngineTests {
    @Test func theFeatureCacheEqualsADirectForward() throws {
        let data = EngineFixture.data(classPattern: [0, 1, 2, 3], count: 21, seed: 30)
        let points = base.exits.map(\.point)
        let cache = FeatureCache(backbone: base.backbone, normalization: base.normalization, images: data.images,
                                 points: points.reversed(), keepFinalLogits: true, memoryBudgetBytes: 1 << 30, batchSize: 8)
        #expect(cache.storage == .cached && cache.points == points && cache.count == 21)
        let indices = [20, 3, 3, 0, 11][...]
        let x = Batches.make(from: data.images, indices: indices, normalization: base.normalization)
        let cached = cache.features(for: indices)
        for (p, point) in points.enumerated() {
            let direct = base.backbone.prefix(through: point).forward(x, mode: .inference)
            #expect(cached[p].shape == direct.shape)
            #expect(zip(cached[p].scalars, direct.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
            #expect(cache.features(at: point, for: indices) == cached[p])
        }
        let logits = base.backbone.network.forward(x, mode: .inference)
        let kept = gatherRows(cache.finalLogits!, indices)
        #expect(zip(kept.scalars, logits.scalars).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        let full = base.backbone.network.cost(for: [1, 1, 12, 12]).forward
        #expect(cache.backboneFLOPs == full * 21)

        // Over budget: same features, recomputed per call, FLOPs counted per recomputation.
        let small = FeatureCache(backbone: base.backbone, normalization: base.normalization, images: data.images,
                                 points: points, keepFinalLogits: true, memoryBudgetBytes: 100, batchSize: 8)
        #expect(small.storage == .recomputed && small.heldBytes == 21 * 4 * 4 && small.estimatedBytes == cache.estimatedBytes)
        #expect(small.finalLogits == cache.finalLogits)
        let again = small.features(for: indices)
        for p in points.indices {
            #expect(zip(again[p].scalars, cached[p].scalars).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
        }
        #expect(small.recomputedSamples == 5)
        #expect(small.backboneFLOPs == full * 21 + small.recomputationFLOPsPerSample * 5)
        #expect(small.recomputationFLOPsPerSample == base.backbone.forwardFLOPs(through: points.last!))

        // Without the teacher the passes stop at the deepest point.
        let partial = FeatureCache(backbone: base.backbone, normalization: base.normalization, images: data.images,
                                   points: [points[0]], keepFinalLogits: false, memoryBudgetBytes: 1 << 30)
        #expect(partial.finalLogits == nil)
        #expect(partial.backboneFLOPs == base.backbone.forwardFLOPs(through: points[0]) * 21)
    }
}

@Suite struct FeatureCacheShelfTests {
    /// A kept cache gives exactly what a fresh one gives: heads, losses and cost report.
    @Test func aKeptCacheTrainsTheSameHeadsAsAFreshOne() throws {
        let data = EngineFixture.data(classPattern: [0, 1, 2], count: 48, labelled: { $0 % 2 == 0 }, seed: 21)
        let shelf = FeatureCacheShelf()
        var sup = EngineFixture.quick(epochs: 2)
        try sup.setLossMix("sup+distill")
        var other = sup
        other.seed = 9
        let fresh = try ExitPersonaliser(configuration: other).personalise(EngineFixture.base, on: data)
        _ = try ExitPersonaliser(configuration: sup, shelf: (shelf, "user-a")).personalise(EngineFixture.base, on: data)
        let kept = try ExitPersonaliser(configuration: other, shelf: (shelf, "user-a")).personalise(EngineFixture.base, on: data)
        #expect(kept.epochLosses == fresh.epochLosses)
        #expect(kept.report.totalFLOPs == fresh.report.totalFLOPs && kept.report.featureCacheBytes == fresh.report.featureCacheBytes)
        for (a, b) in zip(kept.model.exits, fresh.model.exits) {
            #expect(a.head.parameters.map(\.value.scalars) == b.head.parameters.map(\.value.scalars))
        }
        // Another teacher setting is another cache (the logits are kept only when a loss needs them).
        var noTeacher = sup
        try noTeacher.setLossMix("sup")
        let alone = try ExitPersonaliser(configuration: noTeacher).personalise(EngineFixture.base, on: data)
        let shelved = try ExitPersonaliser(configuration: noTeacher, shelf: (shelf, "user-a")).personalise(EngineFixture.base, on: data)
        #expect(shelved.epochLosses == alone.epochLosses && shelved.report.totalFLOPs == alone.report.totalFLOPs)
    }
}
