import Foundation
import Testing
@testable import Tensor

/// Kernels give the same bits on every run and for every worker count
/// (docs/determinism.md). Serialized because it changes the global `Parallel.workers`.
@Suite(.serialized) struct DeterminismTests {
    struct Outputs: Equatable {
        var y, dx, dw: [UInt32]
    }

    func run(_ g: Conv2dGeometry, workers: Int, algorithm: Conv2dAlgorithm = .automatic) -> Outputs {
        let saved = Parallel.workers
        Parallel.workers = workers
        defer { Parallel.workers = saved }
        var rng = SeededGenerator(seed: 31)
        let x = randomTensor(g.inputShape, &rng), w = randomTensor(g.weightShape, &rng)
        let b = randomTensor([g.outChannels], &rng), dy = randomTensor(g.outputShape, &rng)
        let y = conv2dForward(input: x, weight: w, bias: b, geometry: g, algorithm: algorithm)
        let dx = conv2dBackwardInput(dOutput: dy, weight: w, geometry: g, algorithm: algorithm)
        var dw = Tensor(zeros: g.weightShape)
        conv2dBackwardWeight(dOutput: dy, input: x, geometry: g, accumulatingInto: &dw, algorithm: algorithm)
        return Outputs(y: bitPattern(y), dx: bitPattern(dx), dw: bitPattern(dw))
    }

    static let geometries = [
        // Many chunks and all 8 reduction lanes in use.
        Conv2dGeometry(batch: 12, inChannels: 8, height: 14, width: 14, outChannels: 8,
                       kernelSize: (3, 3), padding: (1, 1)),
        // Depthwise 3x3 at stride 2 (the padded-plane kernel's phase planes).
        Conv2dGeometry(batch: 5, inChannels: 6, height: 9, width: 9, outChannels: 6,
                       kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), groups: 6),
        Conv2dGeometry(batch: 6, inChannels: 1, height: 12, width: 12, outChannels: 4,
                       kernelSize: (3, 3), padding: (1, 1)),
        // Depthwise 3x3 at stride 1, Kg 1 and 2.
        Conv2dGeometry(batch: 5, inChannels: 7, height: 9, width: 6, outChannels: 7,
                       kernelSize: (3, 3), padding: (1, 1), groups: 7),
        Conv2dGeometry(batch: 3, inChannels: 4, height: 14, width: 14, outChannels: 8,
                       kernelSize: (3, 3), padding: (1, 1), groups: 4),
    ]

    @Test(arguments: geometries)
    func bitIdenticalAcrossRunsAndWorkerCounts(_ g: Conv2dGeometry) {
        let first = run(g, workers: 2)
        #expect(run(g, workers: 2) == first)
        #expect(run(g, workers: 1) == first)
        #expect(run(g, workers: 3) == first)
    }

    @Test func depthwiseGeometriesUseThePaddedPlaneKernel() {
        #expect(resolve(.automatic, Self.geometries[1], pass: .backwardInput) == .depthwise3x3)
        #expect(resolve(.automatic, Self.geometries[3], pass: .backwardWeight) == .depthwise3x3)
        #expect(resolve(.automatic, Self.geometries[4], pass: .forward) == .depthwise3x3)
    }

    @Test(arguments: [Conv2dAlgorithm.im2colGemm(imagesPerChunk: 1), .winograd(imagesPerChunk: 1),
                      .winograd4x4(imagesPerChunk: 1)])
    func smallChunksBitIdenticalAcrossWorkerCounts(_ algorithm: Conv2dAlgorithm) {
        let g = Self.geometries[0]
        let one = run(g, workers: 1, algorithm: algorithm)
        #expect(run(g, workers: 2, algorithm: algorithm) == one)
        #expect(run(g, workers: 5, algorithm: algorithm) == one)
    }

    @Test(arguments: [Conv2dAlgorithm.automatic, .winograd(imagesPerChunk: 2), .winograd4x4(imagesPerChunk: 2),
                      .im2colGemm(imagesPerChunk: 3)])
    func fusedBackwardEqualsSeparatePasses(_ algorithm: Conv2dAlgorithm) {
        let g = Self.geometries[0]
        var rng = SeededGenerator(seed: 32)
        let x = randomTensor(g.inputShape, &rng), w = randomTensor(g.weightShape, &rng)
        let dy = randomTensor(g.outputShape, &rng), start = randomTensor(g.weightShape, &rng)
        var dwSeparate = start, dwFused = start
        let dxSeparate = conv2dBackwardInput(dOutput: dy, weight: w, geometry: g, algorithm: algorithm)
        conv2dBackwardWeight(dOutput: dy, input: x, geometry: g, accumulatingInto: &dwSeparate, algorithm: algorithm)
        let dxFused = conv2dBackward(dOutput: dy, input: x, weight: w, geometry: g, accumulatingInto: &dwFused,
                                     algorithm: algorithm)
        #expect(bitPattern(dxFused) == bitPattern(dxSeparate))
        #expect(bitPattern(dwFused) == bitPattern(dwSeparate))
    }
}

/// The input transform a training forward keeps gives the weight gradient the same bits as
/// transforming the input again, for both Winograd tile sizes and for im2col columns, alone
/// and in the fused backward; the forward keeping it gives the plain forward's bits.
@Suite struct KeptInputTransformTests {
    @Test(arguments: [Conv2dAlgorithm.automatic, .winograd(imagesPerChunk: 2), .winograd4x4(imagesPerChunk: 2)])
    func weightGradientBitIdenticalWithTheKeptTransform(_ algorithm: Conv2dAlgorithm) {
        check(Conv2dGeometry(batch: 5, inChannels: 8, height: 18, width: 17, outChannels: 9,
                             kernelSize: (3, 3), padding: (1, 1)), algorithm)
    }

    /// im2col columns: stride 2 (3×3 as ResNet-20's downsampling convolutions, and 1×1 as its
    /// projections), two groups, and chunks of images that leave a shorter last chunk.
    @Test(arguments: [Conv2dAlgorithm.automatic, .im2colGemm(imagesPerChunk: 2), .im2colGemm(imagesPerChunk: 4)])
    func weightGradientBitIdenticalWithKeptColumns(_ algorithm: Conv2dAlgorithm) {
        check(Conv2dGeometry(batch: 5, inChannels: 6, height: 13, width: 12, outChannels: 10,
                             kernelSize: (3, 3), stride: (2, 2), padding: (1, 1)), algorithm, bias: true)
        check(Conv2dGeometry(batch: 5, inChannels: 6, height: 13, width: 12, outChannels: 10,
                             kernelSize: (1, 1), stride: (2, 2)), algorithm)
        check(Conv2dGeometry(batch: 5, inChannels: 6, height: 11, width: 11, outChannels: 8,
                             kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), groups: 2), algorithm, bias: true)
    }

    func check(_ g: Conv2dGeometry, _ algorithm: Conv2dAlgorithm, bias: Bool = false) {
        var rng = SeededGenerator(seed: 41)
        let x = randomTensor(g.inputShape, &rng), w = randomTensor(g.weightShape, &rng)
        let dy = randomTensor(g.outputShape, &rng), start = randomTensor(g.weightShape, &rng)
        let b = bias ? randomTensor([g.outChannels], &rng) : nil
        let (y, kept) = conv2dForwardKeepingInputTransform(input: x, weight: w, bias: b, geometry: g,
                                                           algorithm: algorithm)
        #expect(kept != nil, "\(algorithm) on \(g) computes the weight gradient's input transform in the forward")
        #expect(bitPattern(y) == bitPattern(conv2dForward(input: x, weight: w, bias: b, geometry: g,
                                                          algorithm: algorithm)))
        var plain = start, withKept = start
        conv2dBackwardWeight(dOutput: dy, input: x, geometry: g, accumulatingInto: &plain, algorithm: algorithm)
        conv2dBackwardWeight(dOutput: dy, input: x, geometry: g, accumulatingInto: &withKept, algorithm: algorithm,
                             inputTransform: kept)
        #expect(bitPattern(plain) == bitPattern(withKept))
        var fusedPlain = start, fusedKept = start
        let dx = conv2dBackward(dOutput: dy, input: x, weight: w, geometry: g, accumulatingInto: &fusedPlain,
                                algorithm: algorithm)
        let dxKept = conv2dBackward(dOutput: dy, input: x, weight: w, geometry: g, accumulatingInto: &fusedKept,
                                    algorithm: algorithm, inputTransform: kept)
        #expect(bitPattern(fusedPlain) == bitPattern(fusedKept) && bitPattern(dx) == bitPattern(dxKept))
        // A transform kept for another geometry is ignored, not misread.
        let other = Conv2dGeometry(batch: g.batch - 1, inChannels: g.inChannels, height: g.height, width: g.width,
                                   outChannels: g.outChannels, kernelSize: (g.kernelHeight, g.kernelWidth),
                                   stride: (g.strideH, g.strideW), padding: (g.padH, g.padW), groups: g.groups)
        let xo = randomTensor(other.inputShape, &rng), dyo = randomTensor(other.outputShape, &rng)
        var a = start, c = start
        conv2dBackwardWeight(dOutput: dyo, input: xo, geometry: other, accumulatingInto: &a, algorithm: algorithm)
        conv2dBackwardWeight(dOutput: dyo, input: xo, geometry: other, accumulatingInto: &c, algorithm: algorithm,
                             inputTransform: kept)
        #expect(bitPattern(a) == bitPattern(c))
    }
}

/// Which training forwards keep the input transform: F(4×4)'s (2.25 times the input) but
/// not F(2×2)'s (4 times and more); im2col columns of 3×3 stride-2 convolutions (2.25 times)
/// and 1×1 ones (a quarter), not those of stride 1 (9 times), nor where the forward and the
/// weight gradient run different algorithms or the weight gradient unfolds nothing.
@Suite struct KeptInputTransformRuleTests {
    func geometry(batch: Int, channels: Int, size: Int, stride: Int = 1) -> Conv2dGeometry {
        Conv2dGeometry(batch: batch, inChannels: channels, height: size, width: size, outChannels: channels,
                       kernelSize: (3, 3), stride: (stride, stride), padding: (1, 1))
    }

    @Test func onlyTransformsAtMostThreeTimesTheInputAreKept() {
        #expect(conv2dKeepsInputTransform(geometry(batch: 32, channels: 16, size: 28)))
        #expect(!conv2dKeepsInputTransform(geometry(batch: 32, channels: 32, size: 14)))
        #expect(!conv2dKeepsInputTransform(geometry(batch: 32, channels: 64, size: 7)))
        #expect(conv2dKeepsInputTransform(geometry(batch: 32, channels: 16, size: 28, stride: 2)))
        #expect(conv2dKeepsInputTransform(geometry(batch: 32, channels: 32, size: 14, stride: 2)))
        #expect(conv2dKeepsInputTransform(geometry(batch: 5, channels: 8, size: 20), algorithm: .winograd4x4(imagesPerChunk: 2)))
        #expect(!conv2dKeepsInputTransform(geometry(batch: 5, channels: 8, size: 20), algorithm: .winograd(imagesPerChunk: 2)))
        #expect(!conv2dKeepsInputTransform(geometry(batch: 5, channels: 8, size: 20), algorithm: .im2colGemm(imagesPerChunk: 2)))
        // ResNet-20's stem (one channel): its columns hold 9 times the input.
        #expect(!conv2dKeepsInputTransform(Conv2dGeometry(batch: 32, inChannels: 1, height: 28, width: 28, outChannels: 16,
                                                          kernelSize: (3, 3), padding: (1, 1))))
        let projection = Conv2dGeometry(batch: 32, inChannels: 16, height: 28, width: 28, outChannels: 32,
                                        kernelSize: (1, 1), stride: (2, 2))
        #expect(conv2dKeepsInputTransform(projection))
        let pointwise = Conv2dGeometry(batch: 32, inChannels: 16, height: 28, width: 28, outChannels: 32, kernelSize: (1, 1))
        #expect(!conv2dKeepsInputTransform(pointwise, algorithm: .im2colGemm(imagesPerChunk: 1)))
    }
}

/// `Parallel.forEachTask`: every task once; inside a task, kernels keep their chunks but run
/// them in order on the task's thread; a convolution computed inside tasks gives the bits
/// of the same convolution alone.
@Suite(.serialized) struct ParallelTaskTests {
    /// One slot per task, written by that task only.
    final class Slots<T>: @unchecked Sendable {
        let values: UnsafeMutableBufferPointer<T>
        init(_ count: Int, _ initial: T) { values = .allocate(capacity: count); values.initialize(repeating: initial) }
        deinit { values.deinitialize(); values.deallocate() }
        var array: [T] { Array(values) }
    }

    @Test func everyTaskRunsOnceAndItsKernelsKeepTheirChunksOnItsThread() {
        let saved = Parallel.workers
        defer { Parallel.workers = saved }
        for workers in [1, 2, 3] {
            Parallel.workers = workers
            let runs = Slots(7, 0), inside = Slots(7, false), nested = Slots(7, [Range<Int>]())
            let sameThread = Slots(7, true)
            #expect(!Parallel.isInsideTask)
            Parallel.forEachTask(count: 7) { task in
                runs.values[task] += 1
                inside.values[task] = Parallel.isInsideTask
                let thread = pthread_self()
                Parallel.forEachChunk(count: 10) { _, range in
                    if pthread_equal(pthread_self(), thread) == 0 { sameThread.values[task] = false }
                    nested.values[task].append(range)
                }
            }
            #expect(!Parallel.isInsideTask)
            #expect(runs.array == [Int](repeating: 1, count: 7))
            #expect(inside.array == [Bool](repeating: workers > 1, count: 7))
            #expect(sameThread.array == [Bool](repeating: true, count: 7))
            let n = min(workers, 10)
            let chunks = (0..<n).map { (10 * $0 / n)..<(10 * ($0 + 1) / n) }
            #expect(nested.array == [[Range<Int>]](repeating: chunks, count: 7))
            #expect(Parallel.mapTasks(count: 7, order: [6, 5, 4, 3, 2, 1, 0]) { $0 * $0 } == (0..<7).map { $0 * $0 })
        }
    }

    @Test func convolutionsInsideTasksGiveTheBitsOfOneAlone() {
        let g = Conv2dGeometry(batch: 6, inChannels: 8, height: 12, width: 12, outChannels: 8,
                               kernelSize: (3, 3), stride: (1, 1), padding: (1, 1), groups: 1)
        var rng = SeededGenerator(seed: 41)
        let inputs = (0..<4).map { _ in
            Tensor(shape: g.inputShape, scalars: (0..<Tensor.count(of: g.inputShape)).map { _ in rng.nextNormal() })
        }
        let weight = Tensor(shape: g.weightShape, scalars: (0..<Tensor.count(of: g.weightShape)).map { _ in rng.nextNormal() })
        let saved = Parallel.workers
        defer { Parallel.workers = saved }
        Parallel.workers = 2
        let alone = inputs.map { conv2dForward(input: $0, weight: weight, bias: nil, geometry: g).scalars.map(\.bitPattern) }
        let outputs = Slots(4, [UInt32]())
        Parallel.forEachTask(count: 4) { task in
            outputs.values[task] = conv2dForward(input: inputs[task], weight: weight, bias: nil, geometry: g).scalars.map(\.bitPattern)
        }
        #expect(outputs.array == alone)
    }
}
