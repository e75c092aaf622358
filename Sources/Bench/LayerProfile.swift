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

public enum LayerProfile {
    /// Times each top-level child of `network` at `batch` in a training step whose images
    /// need no gradient (the first child computes no dInput). With `.threadCPU` the kernels
    /// run on one worker (`Parallel.workers` is restored afterwards).
    public static func run(_ network: BenchmarkNetwork = .resnet20, batch: Int = 128, repeats: Int = 5,
                           clock: BenchmarkClock = .wall) -> [LayerTiming] {
        let savedWorkers = Parallel.workers
        if clock == .threadCPU { Parallel.workers = 1 }
        defer { Parallel.workers = savedWorkers }
        var rng = SeededGenerator(seed: 21)
        let model: Backbone
        switch network {
        case .resnet20: model = ResNet.make(ResNetConfiguration(), generator: &rng)
        case .mobilenetv2: model = MobileNetV2.make(MobileNetV2Configuration(), generator: &rng)
        }
        let children = model.network.children
        let x = NetworkBenchmark.images(batch, &rng)
        var forward = [[Double]](repeating: [], count: children.count)
        var backward = [[Double]](repeating: [], count: children.count)
        var shapes = [[Int]](repeating: [], count: children.count)
        var flops = [Int](repeating: 0, count: children.count)
        for r in 0..<(repeats + 1) {
            var h = x
            for (i, child) in children.enumerated() {
                flops[i] = child.layer.cost(for: h.shape).forward
                let t0 = ConvBenchmark.now(clock)
                h = child.layer.forward(h, mode: .training(inputGradient: i > 0))
                if r > 0 { forward[i].append((ConvBenchmark.now(clock) - t0) * 1e3) }
                shapes[i] = h.shape
            }
            var d: Tensor? = Tensor(repeating: 1.0 / Float(h.count), shape: h.shape)
            for i in stride(from: children.count - 1, through: 0, by: -1) {
                let t0 = ConvBenchmark.now(clock)
                d = children[i].layer.backward(d!)
                if r > 0 { backward[i].append((ConvBenchmark.now(clock) - t0) * 1e3) }
            }
            model.network.zeroGradients()
        }
        return children.indices.map { i in
            LayerTiming(name: children[i].name, outputShape: shapes[i], forwardFLOPs: flops[i],
                        forwardMilliseconds: ConvBenchmark.median(forward[i]),
                        backwardMilliseconds: ConvBenchmark.median(backward[i]))
        }
    }
}
