import ArgumentParser
import Bench
import Foundation
import Tensor

/// `persephone bench`: engine throughput on this machine (docs/benchmarks.md).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure sgemm and ResNet-20 convolution throughput (use a release build).")

    @Flag(help: "Per-shape convolution figures: forward, backward-input, backward-weight and fused-backward GFLOP/s.")
    var conv = false

    @Flag(help: "Per-layer forward and backward times of one step (--step) of the --net network.")
    var layers = false

    @Option(help: "Step of --layers: train (a training step), exit (an exit-head training step on the frozen backbone, resnet20) or inference.")
    var step = "train"

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Batch size of the convolution shapes.")
    var batch = 128

    @Option(help: "Timed repeats per figure (the median is reported, after one warm-up).")
    var repeats = 5

    @Option(help: "Kernel worker threads (Parallel.workers); defaults to the active cores.")
    var workers: Int?

    @Option(help: "Network of --conv and --layers: resnet20, or mobilenetv2 (for --conv its depthwise 3x3 convolutions).")
    var net = "resnet20"

    @Option(help: "Only the convolution shapes whose name contains this text (for example 'stage1').")
    var only: String?

    @Option(help: "OpenBLAS threads during the run (1 = Persephone parallelises over images).")
    var blasThreads = 1

    @Option(help: "Convolution algorithm: auto, im2col:<images per chunk>, winograd:<images per chunk> (F(2x2,3x3)), winograd4x4:<images per chunk> (F(4x4,3x3)), direct or depthwise3x3 (where they apply).")
    var algorithm = "auto"

    @Flag(help: "Only the personalisation figure: one user's 4 conv exits, 500 samples, 20 epochs.")
    var personalise = false

    @Option(help: "Runs of the personalisation figure (the median is reported).")
    var personaliseRuns = 3

    @Flag(help: "Time with thread CPU time on one core (--workers 1, OpenBLAS 1 thread): steadier on a busy machine.")
    var cpuTime = false

    /// The `--algorithm` value as a `Conv2dAlgorithm`.
    func parsedAlgorithm() throws -> Conv2dAlgorithm {
        let parts = algorithm.split(separator: ":", maxSplits: 1).map(String.init)
        let images = parts.count == 2 ? Int(parts[1]) : nil
        switch (parts[0], images) {
        case ("auto", nil): return .automatic
        case ("direct", nil): return .direct
        case ("depthwise3x3", nil): return .depthwise3x3
        case ("im2col", let n?) where n >= 1: return .im2colGemm(imagesPerChunk: n)
        case ("winograd", let n?) where n >= 1: return .winograd(imagesPerChunk: n)
        case ("winograd4x4", let n?) where n >= 1: return .winograd4x4(imagesPerChunk: n)
        default:
            throw ValidationError("--algorithm '\(algorithm)': use auto, direct, depthwise3x3, im2col:<n>, winograd:<n> or winograd4x4:<n> with n >= 1")
        }
    }

    /// The `--net` value as a `BenchmarkNetwork`.
    func parsedNetwork() throws -> BenchmarkNetwork {
        guard let network = BenchmarkNetwork(rawValue: net) else {
            let names = BenchmarkNetwork.allCases.map(\.rawValue).joined(separator: " or ")
            throw ValidationError("--net '\(net)': use \(names)")
        }
        return network
    }

    func validate() throws {
        _ = try parsedAlgorithm()
        _ = try parsedNetwork()
        guard batch >= 1, repeats >= 1, blasThreads >= 1, (workers ?? 1) >= 1, personaliseRuns >= 1 else {
            throw ValidationError("--batch, --repeats, --workers, --blas-threads and --personalise-runs must be at least 1")
        }
    }

    func run() throws {
        TensorAllocator.keepLargeBlocksInHeap()  // step-sized tensors reuse the heap (docs/engine.md)
        if layers {
            if cpuTime && (workers ?? 1) != 1 {
                throw ValidationError("--cpu-time measures one core: drop --workers or set it to 1")
            }
            let network = try parsedNetwork()
            guard let profiled = ProfiledStep(rawValue: step), profiled != .exit || network == .resnet20 else {
                throw ValidationError("--step '\(step)': use train, exit (resnet20 only) or inference")
            }
            let rows = LayerProfile.run(network, batch: batch, repeats: repeats,
                                        workers: cpuTime ? 1 : workers ?? Parallel.workers,
                                        clock: cpuTime ? .threadCPU : .wall, step: profiled)
            print("layer          output            fwd MFLOP   fwd ms   bwd ms")
            for r in rows {
                print(r.name.padding(toLength: 14, withPad: " ", startingAt: 0),
                      "\(r.outputShape)".padding(toLength: 17, withPad: " ", startingAt: 0),
                      fmt(Double(r.forwardFLOPs) / 1e6).leftPad(9), fmt2(r.forwardMilliseconds).leftPad(8),
                      fmt2(r.backwardMilliseconds).leftPad(8))
            }
            let f = rows.reduce(0) { $0 + $1.forwardMilliseconds }, b = rows.reduce(0) { $0 + $1.backwardMilliseconds }
            print("total forward \(fmt2(f)) ms, backward \(fmt2(b)) ms")
            return
        }
        if personalise {
            if cpuTime && (workers ?? 1) != 1 {
                throw ValidationError("--cpu-time measures one core: drop --workers or set it to 1")
            }
            let savedWorkers = Parallel.workers
            Parallel.workers = cpuTime ? 1 : workers ?? Parallel.workers
            defer { Parallel.workers = savedWorkers }
            let r = try PersonalisationSpeedBenchmark.run(runs: personaliseRuns, clock: cpuTime ? .threadCPU : .wall)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(r), as: UTF8.self))
            } else {
                print("personalisation of \(r.exits.count) conv exits (\(r.exits.joined(separator: ", "))), \(r.samples) samples, \(r.epochs) epochs, workers \(Parallel.workers): \(String(format: "%.3f", r.seconds)) s, \(fmt(r.flopsPerSecond / 1e9)) GFLOP/s (median of \(r.runs), \(cpuTime ? "thread CPU" : "wall") time)")
            }
            return
        }
        if !conv {
            if cpuTime && (workers ?? 1) != 1 {
                throw ValidationError("--cpu-time measures one core: drop --workers or set it to 1")
            }
            let report = try NetworkBenchmark.run(repeats: repeats, workers: cpuTime ? 1 : workers ?? Parallel.workers,
                                                  personaliseRuns: personaliseRuns,
                                                  clock: cpuTime ? .threadCPU : .wall) { line in
                if !json { print(line) } else { FileHandle.standardError.write((line + "\n").data(using: .utf8)!) }
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print("train_efficiency: \(fmt(report.trainEfficiency * 100))% of sgemm peak (forward \(report.forwardFLOPsPerImage) FLOPs/image)")
            }
            return
        }
        if cpuTime && (workers ?? 1) != 1 || cpuTime && blasThreads != 1 {
            throw ValidationError("--cpu-time measures one core: drop --workers/--blas-threads or set them to 1")
        }
        let report = ConvBenchmark.run(network: try parsedNetwork(), batch: batch, repeats: repeats, workers: cpuTime ? 1 : workers ?? Parallel.workers,
                                       blasThreads: blasThreads, algorithm: try parsedAlgorithm(), shapesMatching: only,
                                       clock: cpuTime ? .threadCPU : .wall)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("sgemm 1024^3: \(fmt(report.sgemmGFLOPs)) GFLOP/s   (workers \(report.workers), OpenBLAS threads \(report.blasThreads), batch \(report.batch), \(report.clock.rawValue) clock, OpenBLAS kernels \(report.blasCoreName))")
        if report.sgemmAllCoresGFLOPs > 0 {
            print("sgemm 1024^3 with \(Parallel.activeCores) OpenBLAS threads: \(fmt(report.sgemmAllCoresGFLOPs)) GFLOP/s")
        }
        print("shape                          fwd GF/s  bwd-in GF/s  bwd-w GF/s  bwd-both GF/s")
        for s in report.shapes {
            print(s.name.padding(toLength: 30, withPad: " ", startingAt: 0),
                  fmt(s.forwardGFLOPs).leftPad(9), fmt(s.backwardInputGFLOPs).leftPad(12),
                  fmt(s.backwardWeightGFLOPs).leftPad(11), fmt(s.backwardGFLOPs).leftPad(14))
        }
        print("\(report.network.rawValue) conv\(report.network == .mobilenetv2 ? " (depthwise)" : ""), training step: \(fmt(report.networkTrainGFLOPs)) GFLOP/s, \(fmt(report.networkTrainSeconds * 1000)) ms")
        if report.sgemmAllCoresGFLOPs > 0 {
            print("  = \(fmt(100 * report.networkTrainGFLOPs / report.sgemmAllCoresGFLOPs))% of the all-cores sgemm rate")
        }
    }

    private func fmt(_ x: Double) -> String { String(format: "%.1f", x) }
    private func fmt2(_ x: Double) -> String { String(format: "%.2f", x) }
}

private extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
