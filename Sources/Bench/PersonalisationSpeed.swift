// One user's exit personalisation, timed (`persephone bench`, docs/benchmarks.md): the unit
// every experiment repeats most. ResNet-20 on 1x28x28 inputs with conv exit heads at block2,
// block4, block6 and block8 (one conv 3x3 + BN + ReLU of the point's width, global pool,
// linear), 500 random labelled samples, `PersonalisationConfig()`'s defaults (20 epochs of
// batch 32, SGD with momentum and a cosine schedule, supervised + self-supervised +
// distillation losses). Random weights: the time does not depend on them.
//
// Uses only the public calls `MultiExitModel.attachExit(at:kind:generator:)` and
// `ExitPersonaliser(configuration:).personalise(_:on:)`.
import Models
import Personalisation
import Tensor
import Training

/// Median wall time of one user's personalisation and the FLOPs it does.
public struct PersonalisationSpeed: Codable, Sendable {
    /// Median wall seconds of `ExitPersonaliser.personalise` (feature extraction included).
    public var seconds: Double
    /// The run's FLOPs as its cost report counts them (backbone passes + head training steps).
    public var flops: Int
    public var runs: Int
    public var samples: Int
    public var exits: [String]
    public var epochs: Int
    public var flopsPerSecond: Double { Double(flops) / seconds }
}

public enum PersonalisationSpeedBenchmark {
    /// The exit points whose heads are personalised.
    public static let points = ["block2", "block4", "block6", "block8"]

    /// Personalises the same model on the same data `runs` times (after no warm-up: each
    /// run builds its own heads and feature cache) and reports the median, in `clock` time
    /// (thread CPU time is meaningful with `Parallel.workers` 1 only).
    public static func run(runs: Int = 3, samples: Int = 500, clock: BenchmarkClock = .wall) throws -> PersonalisationSpeed {
        precondition(runs >= 1 && samples >= 2)
        var rng = SeededGenerator(seed: 22)
        let backbone = ResNet.make(ResNetConfiguration(), generator: &rng)
        let model = MultiExitModel(backbone: backbone, normalization: InputNormalization(mean: [0.5], std: [0.25]),
                                   dataset: DatasetIdentity(name: "bench", checksum: "none",
                                                            classNames: (0..<10).map { "class\($0)" }))
        for name in points {
            guard let point = backbone.exitPoint(named: name) else { preconditionFailure("ResNet-20 has no \(name)") }
            model.attachExit(at: point, kind: .conv(blocks: 1, width: point.featureShape[0]), generator: &rng)
        }
        let images = Tensor(shape: [samples, 1, 28, 28], scalars: (0..<(samples * 784)).map { _ in rng.nextUniform() })
        let data = UserSamples(images: images, labels: (0..<samples).map { _ in rng.nextInt(below: 10) })
        let configuration = PersonalisationConfig()
        let personaliser = try ExitPersonaliser(configuration: configuration)
        var times: [Double] = [], flops = 0
        for _ in 0..<runs {
            let start = ConvBenchmark.now(clock)
            let result = try personaliser.personalise(model, on: data)
            times.append(ConvBenchmark.now(clock) - start)
            flops = result.report.totalFLOPs
        }
        return PersonalisationSpeed(seconds: ConvBenchmark.median(times), flops: flops, runs: runs, samples: samples,
                                    exits: points, epochs: configuration.epochs)
    }
}
