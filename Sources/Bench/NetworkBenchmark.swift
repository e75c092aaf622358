// Whole-network figures of `persephone bench` (docs/benchmarks.md): the CIFAR ResNet-20 of
// the Models target on 1x28x28 inputs and 10 classes. Every figure is a median over timed
// repeats after warm-up calls, measured in wall-clock time on this machine.
import Dispatch
import Models
import NN
import Tensor

/// The figures `persephone bench --json` prints; key names are fixed by issue 3.
public struct NetworkBenchmarkReport: Codable, Sendable {
    /// Training step at batch 128 (forward, backward, SGD with momentum): images per second.
    public var trainImagesPerSecond: Double
    /// Inference at batch 256: images per second.
    public var inferenceImagesPerSecondBatch256: Double
    /// Inference latency of one image (batch 1), milliseconds.
    public var latencyBatch1Milliseconds: Double
    /// Training of one conv exit head on the backbone frozen up to the end of stage 1, batch 128.
    public var exitTrainImagesPerSecond: Double
    /// Square sgemm at 1024^3 with OpenBLAS using every core: the machine's GEMM peak.
    public var sgemmGFLOPs: Double
    /// (3 x forward FLOPs x train img/s) / (sgemm GFLOP/s x 1e9).
    public var trainEfficiency: Double
    /// Forward FLOPs of one image (a multiply-add is 2 FLOPs).
    public var forwardFLOPsPerImage: Int
    public var parameters: Int
    public var exitHead: String
    public var workers: Int
    public var repeats: Int
    /// `wall`, or `threadCPU` (one worker, one OpenBLAS thread: a single-core figure).
    public var clock: BenchmarkClock
    /// One user's exit personalisation (`PersonalisationSpeedBenchmark`): median wall seconds,
    /// its FLOPs, FLOP/s, and how many runs the median is of.
    public var personaliseSeconds: Double
    public var personaliseFLOPs: Int
    public var personaliseFLOPsPerSecond: Double
    public var personaliseRuns: Int

    enum CodingKeys: String, CodingKey {
        case trainImagesPerSecond = "train_img_per_s"
        case inferenceImagesPerSecondBatch256 = "infer_img_per_s_b256"
        case latencyBatch1Milliseconds = "latency_b1_ms"
        case exitTrainImagesPerSecond = "exit_train_img_per_s"
        case sgemmGFLOPs = "sgemm_gflops"
        case trainEfficiency = "train_efficiency"
        case forwardFLOPsPerImage = "forward_flops_per_image"
        case parameters
        case exitHead = "exit_head"
        case workers
        case repeats
        case clock
        case personaliseSeconds = "personalise_seconds"
        case personaliseFLOPs = "personalise_flops"
        case personaliseFLOPsPerSecond = "personalise_flops_per_s"
        case personaliseRuns = "personalise_runs"
    }
}

public enum NetworkBenchmark {
    /// Runs every figure. `progress` receives one line per finished measurement.
    /// With `.threadCPU` every figure is thread CPU time on one worker with one OpenBLAS
    /// thread (`workers` must be 1): a single-core figure that other processes on a shared
    /// machine barely disturb.
    public static func run(repeats: Int = 7, workers: Int = Parallel.workers, personaliseRuns: Int = 3,
                           clock: BenchmarkClock = .wall,
                           progress: (String) -> Void = { _ in }) throws -> NetworkBenchmarkReport {
        precondition(repeats >= 1 && workers >= 1 && personaliseRuns >= 1)
        precondition(clock == .wall || workers == 1, "thread CPU time measures one worker")
        let savedWorkers = Parallel.workers
        Parallel.workers = workers
        defer { Parallel.workers = savedWorkers }

        var rng = SeededGenerator(seed: 20)
        let configuration = ResNetConfiguration(depth: 20, widths: [16, 32, 64], inChannels: 1, imageSize: 28,
                                                classes: 10)
        let model = ResNet.make(configuration, generator: &rng)
        let net = model.network
        let flops = model.forwardFLOPs

        // Peak: OpenBLAS on every core (the engine itself runs BLAS single-threaded and
        // splits work across `workers`).
        let savedBLAS = BLASThreads.current
        BLASThreads.set(max(workers, 1))
        let gemm = ConvBenchmark.sgemmGFLOPs(size: 1024, repeats: repeats, clock: clock)
        BLASThreads.set(savedBLAS)
        progress("sgemm 1024^3: \(format(gemm)) GFLOP/s")

        // Training step, batch 128.
        let batch = 128
        let x = images(batch, &rng), labels = (0..<batch).map { _ in rng.nextInt(below: 10) }
        let sgd = SGD(parameters: net.parameters, learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)
        let train = medianSeconds(repeats, clock, warmUp: 2) {
            net.zeroGradients()
            let logits = net.forward(x, mode: .training(inputGradient: false))
            let loss = Loss.softmaxCrossEntropy(logits: logits, labels: labels)
            _ = net.backward(loss.dLogits)
            sgd.step()
        }
        let trainRate = Double(batch) / train
        progress("train step b\(batch): \(format(trainRate)) img/s (\(format(train * 1000)) ms)")

        // Inference, batch 256, and latency at batch 1.
        let x256 = images(256, &rng)
        let infer = medianSeconds(repeats, clock, warmUp: 1) { _ = net.forward(x256, mode: .inference) }
        progress("inference b256: \(format(256 / infer)) img/s")
        let x1 = images(1, &rng)
        let latency = medianSeconds(max(repeats, 25), clock, warmUp: 5) { _ = net.forward(x1, mode: .inference) }
        progress("latency b1: \(format(latency * 1000, digits: 3)) ms")

        // One exit head on the backbone frozen through the end of stage 1.
        let kind = ExitHeadKind.conv(blocks: 1, width: 32)
        let point = model.exitPoints[configuration.blocksPerStage - 1]
        model.network.setFrozen(true)
        let head = ExitHead.make(kind, featureShape: point.featureShape, classes: 10, generator: &rng)
        let exitNet = Sequential([("backbone", model.prefix(through: point)), ("head", head)]
                                 as [(name: String, layer: any Layer)])
        let headSGD = SGD(parameters: head.parameters, learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)
        let exitTrain = medianSeconds(repeats, clock, warmUp: 2) {
            head.zeroGradients()
            let logits = exitNet.forward(x, mode: .training(inputGradient: false))
            let loss = Loss.softmaxCrossEntropy(logits: logits, labels: labels)
            _ = exitNet.backward(loss.dLogits)
            headSGD.step()
        }
        model.network.setFrozen(false)
        let exitRate = Double(batch) / exitTrain
        progress("exit head \(kind.description) at \(point.name) (\(point.childName)), backbone frozen, b\(batch): \(format(exitRate)) img/s")

        let personal = try PersonalisationSpeedBenchmark.run(runs: personaliseRuns, clock: clock)
        progress("personalisation of \(personal.exits.count) conv exits (\(personal.exits.joined(separator: ", "))), \(personal.samples) samples, \(personal.epochs) epochs: \(format(personal.seconds, digits: 2)) s, \(format(personal.flopsPerSecond / 1e9)) GFLOP/s (median of \(personal.runs))")

        return NetworkBenchmarkReport(
            trainImagesPerSecond: trainRate, inferenceImagesPerSecondBatch256: 256 / infer,
            latencyBatch1Milliseconds: latency * 1000, exitTrainImagesPerSecond: exitRate, sgemmGFLOPs: gemm,
            trainEfficiency: 3 * Double(flops) * trainRate / (gemm * 1e9), forwardFLOPsPerImage: flops,
            parameters: net.parameterCount, exitHead: "\(kind.description) at \(point.name)",
            workers: workers, repeats: repeats, clock: clock, personaliseSeconds: personal.seconds, personaliseFLOPs: personal.flops,
            personaliseFLOPsPerSecond: personal.flopsPerSecond, personaliseRuns: personal.runs)
    }

    /// Uniform [0, 1) images, like normalised pixels.
    static func images(_ n: Int, _ rng: inout SeededGenerator) -> Tensor {
        Tensor(shape: [n, 1, 28, 28], scalars: (0..<(n * 784)).map { _ in rng.nextUniform() })
    }

    static func medianSeconds(_ repeats: Int, _ clock: BenchmarkClock, warmUp: Int, _ body: () -> Void) -> Double {
        ConvBenchmark.medianSeconds(repeats, clock, warmUp: warmUp, body)
    }

    static func format(_ x: Double, digits: Int = 1) -> String {
        var s = String(Double(Int((x * pow10(digits)).rounded())) / pow10(digits))
        if s.hasSuffix(".0") && digits == 0 { s.removeLast(2) }
        return s
    }

    private static func pow10(_ d: Int) -> Double { (0..<d).reduce(1.0) { r, _ in r * 10 } }
}
