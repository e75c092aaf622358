// Convolution and GEMM throughput on this machine (docs/benchmarks.md): sgemm at 1024³
// and every convolution shape of CIFAR ResNet-20 on 1×28×28 inputs (or every depthwise
// shape of the small MobileNetV2), forward and both backward passes. Figures are medians
// over repeats after one warm-up call.
import Dispatch
import Models
import Tensor
#if canImport(Glibc)
import Glibc
#endif

/// What a benchmark times.
public enum BenchmarkClock: String, Codable, Sendable {
    /// Elapsed time: the figure that matters, but inflated by other processes on the cores.
    case wall
    /// CPU time of the calling thread: with one worker and one BLAS thread, a single-core
    /// figure that other processes on a shared machine barely disturb (used for tuning).
    case threadCPU
}

/// The network `ConvBenchmark.run` and `LayerProfile.run` measure, on 1×28×28 inputs and 10 classes.
public enum BenchmarkNetwork: String, Codable, Sendable, CaseIterable {
    /// CIFAR ResNet-20; `ConvBenchmark` measures every convolution.
    case resnet20
    /// MobileNetV2-small (width 0.5); `ConvBenchmark` measures its depthwise 3×3 convolutions.
    case mobilenetv2
}

/// One convolution shape of the benchmark network and how often the network uses it.
public struct ConvBenchmarkShape: Sendable {
    public var name: String
    public var geometry: Conv2dGeometry
    /// Convolutions of this shape in one forward pass of the benchmark network.
    public var occurrences: Int
    /// False for the stem, whose input gradient a training step never needs.
    public var needsInputGradient: Bool
}

/// Median timings of one shape, in seconds per call, and the GFLOP/s they imply
/// (a backward pass costs the forward FLOPs: one multiply-add per weight use).
public struct ConvShapeFigures: Codable, Sendable {
    public var name: String
    public var forwardSeconds: Double
    public var backwardInputSeconds: Double
    public var backwardWeightSeconds: Double
    /// Both gradients through `conv2dBackward` (counted as 2 × the forward FLOPs).
    public var backwardSeconds: Double
    public var flops: Int
    public var forwardGFLOPs: Double { Double(flops) / forwardSeconds / 1e9 }
    public var backwardInputGFLOPs: Double { Double(flops) / backwardInputSeconds / 1e9 }
    public var backwardWeightGFLOPs: Double { Double(flops) / backwardWeightSeconds / 1e9 }
    public var backwardGFLOPs: Double { 2 * Double(flops) / backwardSeconds / 1e9 }

    enum CodingKeys: String, CodingKey {
        case name, forwardSeconds, backwardInputSeconds, backwardWeightSeconds, backwardSeconds, flops
        case forwardGFLOPs, backwardInputGFLOPs, backwardWeightGFLOPs, backwardGFLOPs
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(flops, forKey: .flops)
        try c.encode(forwardSeconds, forKey: .forwardSeconds)
        try c.encode(backwardInputSeconds, forKey: .backwardInputSeconds)
        try c.encode(backwardWeightSeconds, forKey: .backwardWeightSeconds)
        try c.encode(backwardSeconds, forKey: .backwardSeconds)
        try c.encode(backwardGFLOPs, forKey: .backwardGFLOPs)
        try c.encode(forwardGFLOPs, forKey: .forwardGFLOPs)
        try c.encode(backwardInputGFLOPs, forKey: .backwardInputGFLOPs)
        try c.encode(backwardWeightGFLOPs, forKey: .backwardWeightGFLOPs)
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        flops = try c.decode(Int.self, forKey: .flops)
        forwardSeconds = try c.decode(Double.self, forKey: .forwardSeconds)
        backwardInputSeconds = try c.decode(Double.self, forKey: .backwardInputSeconds)
        backwardWeightSeconds = try c.decode(Double.self, forKey: .backwardWeightSeconds)
        backwardSeconds = try c.decode(Double.self, forKey: .backwardSeconds)
    }
    init(name: String, forwardSeconds: Double, backwardInputSeconds: Double,
         backwardWeightSeconds: Double, backwardSeconds: Double, flops: Int) {
        self.name = name; self.forwardSeconds = forwardSeconds
        self.backwardInputSeconds = backwardInputSeconds
        self.backwardWeightSeconds = backwardWeightSeconds; self.backwardSeconds = backwardSeconds
        self.flops = flops
    }
}

/// Everything one benchmark run measured.
public struct ConvBenchmarkReport: Codable, Sendable {
    public var network: BenchmarkNetwork
    public var batch: Int
    public var workers: Int
    public var blasThreads: Int
    public var clock: BenchmarkClock
    /// OpenBLAS's CPU kernel set (`BLASLibrary.coreName`).
    public var blasCoreName: String
    /// sgemm at 1024³ with OpenBLAS's threads set to `blasThreads`.
    public var sgemmGFLOPs: Double
    /// sgemm at 1024³ with one OpenBLAS thread per active core: the machine's GEMM peak,
    /// the denominator of issue 3's `train_efficiency` (wall clock only; 0 with thread CPU time).
    public var sgemmAllCoresGFLOPs: Double
    public var shapes: [ConvShapeFigures]
    /// Whole-network convolution work of a training step (forward, weight gradients, and
    /// input gradients except the stem's, through `conv2dBackward`) divided by its summed
    /// median time.
    public var networkTrainGFLOPs: Double
    /// Seconds of convolution per training step of the network at `batch`.
    public var networkTrainSeconds: Double
}

public enum ConvBenchmark {
    /// The convolutions of CIFAR ResNet-20 (He et al. 2016, widths 16/32/64, projection
    /// shortcuts) on 1×28×28 inputs.
    public static func resnet20Shapes(batch: Int) -> [ConvBenchmarkShape] {
        func shape(_ name: String, _ c: Int, _ k: Int, _ hw: Int, _ kernel: Int, _ stride: Int,
                   _ times: Int, inputGradient: Bool = true) -> ConvBenchmarkShape {
            ConvBenchmarkShape(
                name: name,
                geometry: Conv2dGeometry(batch: batch, inChannels: c, height: hw, width: hw, outChannels: k,
                                         kernelSize: (kernel, kernel), stride: (stride, stride),
                                         padding: (kernel / 2, kernel / 2)),
                occurrences: times, needsInputGradient: inputGradient)
        }
        return [
            shape("stem 1->16 3x3 @28", 1, 16, 28, 3, 1, 1, inputGradient: false),
            shape("stage1 16->16 3x3 @28", 16, 16, 28, 3, 1, 6),
            shape("stage2 16->32 3x3 s2 @28", 16, 32, 28, 3, 2, 1),
            shape("stage2 32->32 3x3 @14", 32, 32, 14, 3, 1, 5),
            shape("stage2 proj 16->32 1x1 s2", 16, 32, 28, 1, 2, 1),
            shape("stage3 32->64 3x3 s2 @14", 32, 64, 14, 3, 2, 1),
            shape("stage3 64->64 3x3 @7", 64, 64, 7, 3, 1, 5),
            shape("stage3 proj 32->64 1x1 s2", 32, 64, 14, 1, 2, 1),
        ]
    }

    /// The depthwise 3×3 convolutions of `MobileNetV2Configuration()` (width 0.5, 28×28
    /// inputs), one entry per distinct shape, in network order. Walks the stages with the
    /// same width rule as `MobileNetV2.make`: block i of a stage expands its input width by
    /// t and the stage's first block carries the stride.
    public static func mobileNetV2DepthwiseShapes(batch: Int) -> [ConvBenchmarkShape] {
        let c = MobileNetV2Configuration()
        var shapes: [ConvBenchmarkShape] = []
        var width = MobileNetV2Configuration.divisible(32 * c.widthMultiplier), size = c.imageSize
        for stage in c.stages {
            let out = MobileNetV2Configuration.divisible(Double(stage.c) * c.widthMultiplier)
            for i in 0..<stage.n {
                let hidden = width * stage.t, stride = i == 0 ? stage.s : 1
                let name = "mnv2 dw \(hidden) 3x3\(stride == 1 ? "" : " s\(stride)") @\(size)"
                if let j = shapes.firstIndex(where: { $0.name == name }) {
                    shapes[j].occurrences += 1
                } else {
                    shapes.append(ConvBenchmarkShape(
                        name: name,
                        geometry: Conv2dGeometry(batch: batch, inChannels: hidden, height: size, width: size,
                                                 outChannels: hidden, kernelSize: (3, 3), stride: (stride, stride),
                                                 padding: (1, 1), groups: hidden),
                        occurrences: 1, needsInputGradient: true))
                }
                size = (size - 1) / stride + 1
                width = out
            }
        }
        return shapes
    }

    /// The shapes of `network` at `batch`.
    public static func shapes(of network: BenchmarkNetwork, batch: Int) -> [ConvBenchmarkShape] {
        switch network {
        case .resnet20: return resnet20Shapes(batch: batch)
        case .mobilenetv2: return mobileNetV2DepthwiseShapes(batch: batch)
        }
    }

    /// Measures sgemm and every convolution of `network` (or those whose name contains `filter`). `workers` sets `Parallel.workers`
    /// and `blasThreads` OpenBLAS's threads for the run; both are restored afterwards.
    public static func run(network: BenchmarkNetwork = .resnet20,
                           batch: Int = 128, repeats: Int = 5, workers: Int = Parallel.workers,
                           blasThreads: Int = 1, algorithm: Conv2dAlgorithm = .automatic,
                           shapesMatching filter: String? = nil, clock: BenchmarkClock = .wall) -> ConvBenchmarkReport {
        precondition(batch >= 1 && repeats >= 1 && workers >= 1 && blasThreads >= 1)
        precondition(clock == .wall || (workers == 1 && blasThreads == 1),
                     "thread CPU time measures one worker with one BLAS thread")
        let savedWorkers = Parallel.workers, savedBLAS = BLASThreads.current
        Parallel.workers = workers
        BLASThreads.set(blasThreads)
        defer { Parallel.workers = savedWorkers; BLASThreads.set(savedBLAS) }

        let gemm = sgemmGFLOPs(size: 1024, repeats: repeats, clock: clock)
        var rng = SeededGenerator(seed: 2026)
        var figures: [ConvShapeFigures] = []
        var trainSeconds = 0.0, trainFLOPs = 0.0
        for shape in shapes(of: network, batch: batch) where filter == nil || shape.name.contains(filter!) {
            let g = shape.geometry
            if !applies(algorithm, g) { continue }
            let x = random(g.inputShape, &rng), w = random(g.weightShape, &rng)
            let dy = random(g.outputShape, &rng)
            var dw = Tensor(zeros: g.weightShape)
            let fwd = medianSeconds(repeats, clock) {
                _ = conv2dForward(input: x, weight: w, bias: nil, geometry: g, algorithm: algorithm)
            }
            let bwdIn = medianSeconds(repeats, clock) {
                _ = conv2dBackwardInput(dOutput: dy, weight: w, geometry: g, algorithm: algorithm)
            }
            let bwdW = medianSeconds(repeats, clock) {
                conv2dBackwardWeight(dOutput: dy, input: x, geometry: g, accumulatingInto: &dw,
                                     algorithm: algorithm)
            }
            let bwd = medianSeconds(repeats, clock) {
                _ = conv2dBackward(dOutput: dy, input: x, weight: w, geometry: g, accumulatingInto: &dw,
                                   algorithm: algorithm)
            }
            figures.append(ConvShapeFigures(name: shape.name, forwardSeconds: fwd, backwardInputSeconds: bwdIn,
                                            backwardWeightSeconds: bwdW, backwardSeconds: bwd, flops: g.forwardFLOPs))
            let passes = shape.needsInputGradient ? 3.0 : 2.0
            // A training step runs the fused backward where the input gradient is needed.
            trainSeconds += Double(shape.occurrences) * (fwd + (shape.needsInputGradient ? bwd : bwdW))
            trainFLOPs += Double(shape.occurrences) * passes * Double(g.forwardFLOPs)
        }
        // Last: after a multi-threaded call OpenBLAS's threads spin for a while and would
        // steal the cores from the convolutions measured after it.
        var gemmAllCores = 0.0
        if clock == .wall {
            BLASThreads.set(Parallel.activeCores)
            gemmAllCores = sgemmGFLOPs(size: 1024, repeats: repeats, clock: .wall)
            BLASThreads.set(blasThreads)
        }
        return ConvBenchmarkReport(network: network, batch: batch, workers: workers, blasThreads: blasThreads, clock: clock,
                                   blasCoreName: BLASLibrary.coreName,
                                   sgemmGFLOPs: gemm, sgemmAllCoresGFLOPs: gemmAllCores,
                                   shapes: figures, networkTrainGFLOPs: trainFLOPs / trainSeconds / 1e9,
                                   networkTrainSeconds: trainSeconds)
    }

    /// GFLOP/s of a square row-major sgemm (2·n³ FLOPs), median of `repeats` after a warm-up,
    /// with OpenBLAS's current thread setting.
    public static func sgemmGFLOPs(size n: Int = 1024, repeats: Int = 5, clock: BenchmarkClock = .wall) -> Double {
        var rng = SeededGenerator(seed: 1)
        let a = random([n, n], &rng), b = random([n, n], &rng)
        // a · bᵀ through Tensor's GEMM kernel: one cblas_sgemm of n³ multiply-adds, and the
        // pointer code stays in the Tensor target.
        let seconds = medianSeconds(repeats, clock) { _ = linearForward(input: a, weight: b, bias: nil) }
        return 2 * Double(n) * Double(n) * Double(n) / seconds / 1e9
    }

    /// Whether an explicitly chosen algorithm can compute `g` (`.automatic` always can).
    static func applies(_ algorithm: Conv2dAlgorithm, _ g: Conv2dGeometry) -> Bool {
        switch algorithm {
        case .automatic, .im2colGemm: return true
        case .direct: return g.inChannels == g.groups
        case .depthwise3x3: return g.inChannels == g.groups && g.kernelHeight == 3 && g.kernelWidth == 3
            && g.strideH == g.strideW && (g.strideH == 1 || g.strideH == 2) && g.padH == 1 && g.padW == 1
        case .winograd, .winograd4x4: return g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1
            && g.groups == 1
        }
    }

    static func now(_ clock: BenchmarkClock) -> Double {
        switch clock {
        case .wall:
            return Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        case .threadCPU:
            var ts = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
    }

    static func random(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape, scalars: (0..<Tensor.count(of: shape)).map { _ in rng.nextUniform() - 0.5 })
    }

    /// Median time of `repeats` calls after `warmUp` untimed calls.
    static func medianSeconds(_ repeats: Int, _ clock: BenchmarkClock, warmUp: Int = 1,
                              _ body: () -> Void) -> Double {
        for _ in 0..<warmUp { body() }
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = now(clock)
            body()
            times.append(now(clock) - start)
        }
        return median(times)
    }

    /// Median of a non-empty sample (mean of the middle two for an even count).
    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
