import Testing
import NN
import Tensor
@testable import Models

/// The multi-exit model on a small ResNet-8: exit order, costs, the classifiers alone
/// against the multi-exit pass, and the per-user copy of the heads.
@Suite struct MultiExitModelTests {
    static func model(seed: UInt64 = 1) -> MultiExitModel {
        var g = SeededGenerator(seed: seed)
        let backbone = ResNet.make(ResNetConfiguration(depth: 8, widths: [4, 8, 8], inChannels: 1, imageSize: 12, classes: 3),
                                   generator: &g)
        let model = MultiExitModel(backbone: backbone, normalization: InputNormalization(mean: [0.5], std: [0.25]),
                                   dataset: DatasetIdentity(name: "synthetic", checksum: "none", classNames: ["a", "b", "c"]))
        // Attached out of order: kept in network order, one per point.
        for point in backbone.exitPoints.reversed() { model.attachExit(at: point, kind: .sdn, generator: &g) }
        model.attachExit(at: backbone.exitPoints[1], kind: .conv(blocks: 1, width: 4), generator: &g)
        return model
    }

    static func batch(_ n: Int, seed: UInt64 = 3) -> Tensor {
        var g = SeededGenerator(seed: seed)
        return Tensor(shape: [n, 1, 12, 12], scalars: (0..<(n * 144)).map { _ in g.nextUniform() })
    }

    @Test func exitsStayInNetworkOrderAndCostsComeFromTheLayers() {
        let model = Self.model()
        #expect(model.exits.map(\.point.name) == ["block1", "block2", "block3"])
        #expect(model.exits[1].kind == .conv(blocks: 1, width: 4))
        #expect(model.classifierNames == ["block1", "block2", "block3", "final"] && model.classifierCount == 4)
        #expect(model.fullNetworkFLOPs == model.backbone.forwardFLOPs)
        for (e, exit) in model.exits.enumerated() {
            let expected = model.backbone.forwardFLOPs(through: exit.point) + exit.head.cost(for: [1] + exit.point.featureShape).forward
            #expect(model.cumulativeFLOPs(of: exit) == expected && model.cumulativeFLOPs(ofExit: e) == expected)
        }
    }

    @Test func eachClassifierAloneGivesTheMultiExitPassLogits() {
        let model = Self.model()
        let x = Self.batch(5)
        let all = model.forward(x).classifierLogits
        #expect(all.count == 4 && all.allSatisfy { $0.shape == [5, 3] })
        for c in 0..<model.classifierCount { #expect(model.classifierForward(c)(x) == all[c]) }
    }

    @Test func aPerUserCopySharesTheBackboneAndOwnsItsHeads() {
        let base = Self.model()
        // Running statistics off their initial values, so the copy must carry the buffers too.
        for (_, b) in base.exits[1].head.namedBuffers { b.value.scalars = b.value.scalars.map { $0 + 0.5 } }
        var g = SeededGenerator(seed: 9)
        let user = MultiExitModel(copyingExitsOf: base, generator: &g)
        #expect(user.backbone === base.backbone && user.exits.map(\.point) == base.exits.map(\.point))
        #expect(zip(user.exits, base.exits).allSatisfy { $0.head !== $1.head })
        let x = Self.batch(4)
        #expect(user.forward(x).classifierLogits == base.forward(x).classifierLogits)
        user.exits[0].head.parameters[0].value.scalars[0] += 1
        #expect(user.forward(x).exitLogits[0] != base.forward(x).exitLogits[0])
        var g2 = SeededGenerator(seed: 9)
        let fresh = MultiExitModel(copyingExitsOf: base, fromScratch: true, generator: &g2)
        #expect(fresh.exits.map(\.kind) == base.exits.map(\.kind))
        #expect(fresh.forward(x).exitLogits[1] != base.forward(x).exitLogits[1])
        // Both draw every head, so the generator ends in the same state either way.
        #expect(g.next() == g2.next())
    }
}
