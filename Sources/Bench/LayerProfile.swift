// Per-layer timing of one training step of ResNet-20 or MobileNetV2-small (`persephone
// bench --layers [--net mobilenetv2]`): where the step's time goes, child by child of the
// network, forward and backward. Medians over repeats after a warm-up; wall clock, or
// thread CPU time on one worker.
import Models
import NN
import Tensor

public struct LayerTiming: Codable, Sendable {
    public var name: String
    public var outputShape: [Int]
    public var forwardFLOPs: Int
    public var forwardMilliseconds: Double
    public var backwardMilliseconds: Double
}

/// What `LayerProfile.run` times.
public enum ProfiledStep: String, Codable, Sendable, CaseIterable {
    /// One training step: every child's forward (training mode) and backward.
    case train
    /// One exit-head training step: the backbone frozen through the end of stage 1 (its
    /// children in inference mode, forward only) and a conv(blocks=1, width=32) head, whose
    /// children are timed in training mode, forward and backward (as `persephone bench`'s
    /// exit figure; ResNet-20 only).
    case exit
    /// One inference forward (the batch-1 latency figure at `batch` 1).
    case inference
}

public enum LayerProfile {
    /// Times each top-level child of `network` at `batch` in `step` (a training step's
    /// images need no gradient, so the first child computes no dInput) on `workers` kernel
    /// workers (one with `.threadCPU`; `Parallel.workers` is restored afterwards). Children
    /// run one by one, so a top-level batch norm and the ReLU after it are timed apart
    /// (inside residual blocks and heads, `Sequential` runs them fused).
    public static func run(_ network: BenchmarkNetwork = .resnet20, batch: Int = 128, repeats: Int = 5,
                           workers: Int = Parallel.workers, clock: BenchmarkClock = .wall,
                           step: ProfiledStep = .train) -> [LayerTiming] {
        precondition(workers >= 1 && (clock == .wall || workers == 1), "thread CPU time measures one worker")
        let savedWorkers = Parallel.workers
        Parallel.workers = workers
        defer { Parallel.workers = savedWorkers }
        var rng = SeededGenerator(seed: 21)
        let model: Backbone
        switch network {
        case .resnet20: model = ResNet.make(ResNetConfiguration(), generator: &rng)
        case .mobilenetv2: model = MobileNetV2.make(MobileNetV2Configuration(), generator: &rng)
        }
        var children = model.network.children
        /// Children before this index run forward only, in inference mode.
        var trainedFrom = 0
        switch step {
        case .train: break
        case .inference: trainedFrom = children.count
        case .exit:
            precondition(network == .resnet20, "the exit-head profile is of ResNet-20")
            let point = model.exitPoints[ResNetConfiguration().blocksPerStage - 1]
            model.network.setFrozen(true)
            let head = ExitHead.make(.conv(blocks: 1, width: 32), featureShape: point.featureShape, classes: 10,
                                     generator: &rng)
            children = Array(children.prefix(point.childIndex + 1))
            trainedFrom = children.count
            children += head.children.map { (name: "head." + $0.name, layer: $0.layer) }
        }
        let x = NetworkBenchmark.images(batch, &rng)
        var forward = [[Double]](repeating: [], count: children.count)
        var backward = [[Double]](repeating: [], count: children.count)
        var shapes = [[Int]](repeating: [], count: children.count)
        var flops = [Int](repeating: 0, count: children.count)
        for r in 0..<(repeats + 1) {
            var h = x
            for (i, child) in children.enumerated() {
                flops[i] = child.layer.cost(for: h.shape).forward
                let mode: Mode = i < trainedFrom ? .inference : .training(inputGradient: i > trainedFrom)
                let t0 = ConvBenchmark.now(clock)
                h = child.layer.forward(h, mode: mode)
                if r > 0 { forward[i].append((ConvBenchmark.now(clock) - t0) * 1e3) }
                shapes[i] = h.shape
            }
            var d: Tensor? = Tensor(repeating: 1.0 / Float(h.count), shape: h.shape)
            for i in stride(from: children.count - 1, through: trainedFrom, by: -1) {
                let t0 = ConvBenchmark.now(clock)
                d = children[i].layer.backward(d!)
                if r > 0 { backward[i].append((ConvBenchmark.now(clock) - t0) * 1e3) }
            }
            for child in children { child.layer.zeroGradients() }
        }
        return children.indices.map { i in
            LayerTiming(name: children[i].name, outputShape: shapes[i], forwardFLOPs: flops[i],
                        forwardMilliseconds: ConvBenchmark.median(forward[i]),
                        backwardMilliseconds: backward[i].isEmpty ? 0 : ConvBenchmark.median(backward[i]))
        }
    }
}
