@testable import Models
import NN
import Personalisation
import Tensor
import Testing
import Training

/// Tiny networks and synthetic data shared by the profiler, orchestrator, policy, inference
/// and schedule tests: ResNet-8 with widths 4/8/8 on 12x12 gray images, 3 classes, a conv
/// head at every block (3 exits), and random images in [0, 1].
enum ExitNetFixture {
    static let classes = 3
    static let imageSize = 12

    static var configuration: ResNetConfiguration {
        ResNetConfiguration(depth: 8, widths: [4, 8, 8], inChannels: 1, imageSize: imageSize, classes: classes)
    }

    static let normalization = InputNormalization(mean: [0.5], std: [0.25])

    /// A model with an exit head of `kind` at each of ResNet-8's three blocks (at the first
    /// `exits` of them: the same heads as the full model's, drawn in the same order).
    static func model(backbone: Backbone? = nil, kind: ExitHeadKind = .conv(blocks: 1, width: 4), seed: UInt64 = 1,
                      exits: Int = 3) -> MultiExitModel {
        var g = SeededGenerator(seed: seed)
        let backbone = backbone ?? ResNet.make(configuration, generator: &g)
        let model = MultiExitModel(backbone: backbone, normalization: normalization,
                                   dataset: DatasetIdentity(name: "synthetic", checksum: "none", classNames: ["a", "b", "c"]))
        for point in backbone.exitPoints.prefix(exits) { model.attachExit(at: point, kind: kind, generator: &g) }
        return model
    }

    /// `count` random images in [0, 1] with random labels; sample i is labelled when
    /// `labelled(i)` (all by default).
    static func samples(count: Int, seed: UInt64 = 7, labelled: (Int) -> Bool = { _ in true }) throws -> UserSamples {
        var g = SeededGenerator(seed: seed)
        let images = Tensor(shape: [count, 1, imageSize, imageSize],
                            scalars: (0..<(count * imageSize * imageSize)).map { _ in g.nextUniform() })
        let labels = (0..<count).map { _ in g.nextInt(below: classes) }
        return UserSamples(images: images, labels: labels.enumerated().map { labelled($0.offset) ? $0.element : nil })
    }

    /// Normalised batch of every sample, as the profiler and engine build it.
    static func batch(_ samples: UserSamples) -> Tensor {
        Batches.make(from: samples.images, indices: Array(0..<samples.count)[...], normalization: normalization)
    }

    /// ResNet-8 rebuilt with a `ForwardProbe` after every child (same layers and weights, same exit
    /// points), so a test can see which children ran on how many rows.
    static func probedBackbone(seed: UInt64 = 1) -> (backbone: Backbone, probes: [ForwardProbe]) {
        var g = SeededGenerator(seed: seed)
        let plain = ResNet.make(configuration, generator: &g)
        var children: [(name: String, layer: any Layer)] = []
        var probes: [ForwardProbe] = []
        for child in plain.network.children {
            children.append(child)
            let probe = ForwardProbe()
            probes.append(probe)
            children.append((name: "probe.\(child.name)", layer: probe))
        }
        let backbone = Backbone(architecture: "resnet8-probed", hyperparameters: [:], inputShape: plain.inputShape,
                                classes: plain.classes, network: Sequential(children),
                                blockChildNames: plain.exitPoints.map(\.childName), classifierStart: 2 * plain.classifierStart)
        return (backbone, probes)
    }
}

/// An identity layer that counts the rows it has seen: proof that a child did or did not run.
final class ForwardProbe: Layer {
    private(set) var rows = 0
    private(set) var calls = 0

    func forward(_ input: Tensor, mode: Mode) -> Tensor {
        rows += input.shape[0]
        calls += 1
        return input
    }

    func reset() { rows = 0; calls = 0 }

    func backward(_ dOutput: Tensor) -> Tensor? { dOutput }
    func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
}

@Suite("Inference fixtures")
struct InferenceFixturesTests {
    @Test("the probed backbone computes what the plain one does, at the same points and cost")
    func probedBackboneMatchesPlain() {
        var g = SeededGenerator(seed: 1)
        let plain = ResNet.make(ExitNetFixture.configuration, generator: &g)
        let (probed, probes) = ExitNetFixture.probedBackbone(seed: 1)
        #expect(probed.exitPoints.map(\.name) == plain.exitPoints.map(\.name))
        #expect(probed.exitPoints.map(\.featureShape) == plain.exitPoints.map(\.featureShape))
        #expect(probed.forwardFLOPs == plain.forwardFLOPs)
        let x = Tensor(shape: [2, 1, 12, 12], scalars: (0..<288).map { Float($0 % 17) / 17 })
        #expect(probed.network.forward(x, mode: .inference) == plain.network.forward(x, mode: .inference))
        #expect(probes.allSatisfy { $0.rows == 2 && $0.calls == 1 })
    }
}
