import Testing
@testable import Tensor

/// One convolution shape under test: odd extents, strides, paddings and groups.
struct ConvCase: CustomTestStringConvertible, Sendable {
    var n, c, h, w, k: Int
    var kernel: (Int, Int), stride: (Int, Int), pad: (Int, Int)
    var groups: Int
    var geometry: Conv2dGeometry {
        Conv2dGeometry(batch: n, inChannels: c, height: h, width: w, outChannels: k,
                       kernelSize: kernel, stride: stride, padding: pad, groups: groups)
    }
    var testDescription: String {
        "N\(n) C\(c) \(h)x\(w) K\(k) k\(kernel) s\(stride) p\(pad) g\(groups)"
    }
    init(_ n: Int, _ c: Int, _ h: Int, _ w: Int, _ k: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
         pad: (Int, Int) = (0, 0), groups: Int = 1) {
        self.n = n; self.c = c; self.h = h; self.w = w; self.k = k
        self.kernel = kernel; self.stride = stride; self.pad = pad; self.groups = groups
    }
}

let convCases: [ConvCase] = [
    ConvCase(1, 3, 7, 5, 5, kernel: (3, 3), pad: (1, 1)),
    ConvCase(3, 5, 9, 7, 7, kernel: (3, 3), stride: (2, 2), pad: (1, 1)),
    ConvCase(3, 9, 6, 6, 7, kernel: (3, 3)),
    ConvCase(3, 6, 7, 7, 6, kernel: (1, 1)),
    ConvCase(3, 6, 8, 9, 4, kernel: (1, 1), stride: (2, 2), groups: 2),
    ConvCase(1, 4, 6, 7, 6, kernel: (5, 5), pad: (2, 2), groups: 2),
    ConvCase(1, 3, 5, 5, 2, kernel: (5, 5), stride: (2, 2), pad: (2, 2)),
    ConvCase(3, 6, 9, 9, 6, kernel: (3, 3), pad: (1, 1), groups: 6),
    ConvCase(3, 5, 11, 9, 10, kernel: (3, 3), stride: (2, 2), pad: (1, 1), groups: 5),
    ConvCase(3, 1, 9, 7, 5, kernel: (3, 3), pad: (1, 1)),
    ConvCase(2, 4, 7, 8, 3, kernel: (1, 3), stride: (2, 1), pad: (0, 1)),
    ConvCase(3, 10, 5, 5, 6, kernel: (3, 3), pad: (2, 2), groups: 2),
    ConvCase(3, 7, 8, 11, 9, kernel: (3, 3), pad: (1, 1)),
    ConvCase(1, 4, 3, 3, 5, kernel: (3, 3), pad: (2, 2)),
    ConvCase(3, 16, 7, 7, 16, kernel: (3, 3), pad: (1, 1)),
    // Batch 1 with larger images and groups.
    ConvCase(1, 3, 17, 15, 5, kernel: (3, 3), pad: (1, 1)),
    ConvCase(1, 4, 23, 21, 6, kernel: (3, 3), stride: (2, 2), pad: (1, 1)),
    ConvCase(1, 6, 12, 12, 4, kernel: (1, 1)),
    ConvCase(1, 4, 14, 14, 4, kernel: (3, 3), pad: (1, 1), groups: 2),
]

/// Depthwise 3×3, padding 1, stride 1 and 2 (the padded-plane kernel's shapes): planes of
/// 1×1, 2×3, 4×4, 7×7 and 28×28, odd and even extents with H != W, batch 1 and 3, Kg 1
/// and 2, and a one-group, one-channel stem.
let depthwiseCases: [ConvCase] = [
    ConvCase(1, 3, 1, 1, 3, kernel: (3, 3), pad: (1, 1), groups: 3),
    ConvCase(3, 2, 2, 3, 2, kernel: (3, 3), pad: (1, 1), groups: 2),
    ConvCase(3, 2, 3, 2, 4, kernel: (3, 3), pad: (1, 1), groups: 2),
    ConvCase(1, 4, 4, 4, 8, kernel: (3, 3), pad: (1, 1), groups: 4),
    ConvCase(3, 5, 7, 7, 5, kernel: (3, 3), pad: (1, 1), groups: 5),
    ConvCase(3, 2, 28, 28, 4, kernel: (3, 3), pad: (1, 1), groups: 2),
    ConvCase(1, 3, 28, 28, 3, kernel: (3, 3), pad: (1, 1), groups: 3),
    ConvCase(1, 3, 5, 9, 3, kernel: (3, 3), pad: (1, 1), groups: 3),
    ConvCase(3, 4, 9, 5, 8, kernel: (3, 3), pad: (1, 1), groups: 4),
    ConvCase(2, 1, 6, 5, 3, kernel: (3, 3), pad: (1, 1)),
    ConvCase(1, 2, 1, 1, 2, kernel: (3, 3), stride: (2, 2), pad: (1, 1), groups: 2),
    ConvCase(3, 3, 2, 3, 6, kernel: (3, 3), stride: (2, 2), pad: (1, 1), groups: 3),
    ConvCase(3, 2, 4, 4, 2, kernel: (3, 3), stride: (2, 2), pad: (1, 1), groups: 2),
    ConvCase(3, 3, 7, 7, 3, kernel: (3, 3), stride: (2, 2), pad: (1, 1), groups: 3),
    ConvCase(2, 2, 14, 9, 2, kernel: (3, 3), stride: (2, 2), pad: (1, 1), groups: 2),
    ConvCase(1, 2, 28, 28, 4, kernel: (3, 3), stride: (2, 2), pad: (1, 1), groups: 2),
    ConvCase(3, 1, 5, 4, 4, kernel: (3, 3), stride: (2, 2), pad: (1, 1)),
]

/// Every algorithm that applies to a geometry; `.automatic` first.
func algorithms(for g: Conv2dGeometry) -> [Conv2dAlgorithm] {
    var all: [Conv2dAlgorithm] = [.automatic, .im2colGemm(imagesPerChunk: 1), .im2colGemm(imagesPerChunk: 2)]
    if g.inChannels == g.groups { all.append(.direct) }
    if depthwise3x3Applies(g) { all.append(.depthwise3x3) }
    if winogradApplies(g) {
        all += [.winograd(imagesPerChunk: 1), .winograd(imagesPerChunk: 2),
                .winograd4x4(imagesPerChunk: 1), .winograd4x4(imagesPerChunk: 2)]
    }
    return all
}

@Suite struct ConvolutionTests {
    @Test(arguments: convCases + depthwiseCases)
    func forwardMatchesReference(_ cc: ConvCase) {
        let g = cc.geometry
        var rng = SeededGenerator(seed: 11)
        let x = randomTensor(g.inputShape, &rng), w = randomTensor(g.weightShape, &rng)
        let bias = randomTensor([g.outChannels], &rng)
        for withBias in [false, true] {
            let expected = conv2dForwardReference(input: x, weight: w, bias: withBias ? bias : nil, geometry: g)
            for algorithm in algorithms(for: g) {
                let got = conv2dForward(input: x, weight: w, bias: withBias ? bias : nil, geometry: g,
                                        algorithm: algorithm)
                expectClose(got, expected, "forward \(cc.testDescription) \(algorithm) bias \(withBias)")
            }
        }
    }

    @Test(arguments: convCases + depthwiseCases)
    func backwardInputMatchesReference(_ cc: ConvCase) {
        let g = cc.geometry
        var rng = SeededGenerator(seed: 12)
        let dy = randomTensor(g.outputShape, &rng), w = randomTensor(g.weightShape, &rng)
        let expected = conv2dBackwardInputReference(dOutput: dy, weight: w, geometry: g)
        for algorithm in algorithms(for: g) {
            let got = conv2dBackwardInput(dOutput: dy, weight: w, geometry: g, algorithm: algorithm)
            expectClose(got, expected, "backward input \(cc.testDescription) \(algorithm)")
        }
    }

    @Test(arguments: convCases + depthwiseCases)
    func backwardWeightAccumulatesReference(_ cc: ConvCase) {
        let g = cc.geometry
        var rng = SeededGenerator(seed: 13)
        let dy = randomTensor(g.outputShape, &rng), x = randomTensor(g.inputShape, &rng)
        let start = randomTensor(g.weightShape, &rng)
        let d = conv2dBackwardWeightReference(dOutput: dy, input: x, geometry: g)
        let expected = Tensor(shape: g.weightShape, scalars: zip(start.scalars, d.scalars).map { $0 + $1 })
        for algorithm in algorithms(for: g) {
            var got = start
            conv2dBackwardWeight(dOutput: dy, input: x, geometry: g, accumulatingInto: &got, algorithm: algorithm)
            expectClose(got, expected, "backward weight \(cc.testDescription) \(algorithm)")
        }
    }

    @Test func depthwiseCasesRunThePaddedPlaneKernel() {
        for cc in depthwiseCases {
            let g = cc.geometry
            #expect(depthwise3x3Applies(g), "\(cc.testDescription)")
            // A one-group, one-channel stem stays on im2col + GEMM.
            for pass in [Conv2dPass.forward, .backwardInput, .backwardWeight] {
                #expect((resolve(.automatic, g, pass: pass) == .depthwise3x3) == (g.groups > 1),
                        "\(cc.testDescription) \(pass)")
            }
        }
        // Padding 0, stride 3, or different strides per direction stay on the direct loops.
        for cc in [ConvCase(3, 6, 9, 9, 6, kernel: (3, 3), groups: 6),
                   ConvCase(1, 4, 9, 9, 4, kernel: (3, 3), stride: (3, 3), pad: (1, 1), groups: 4),
                   ConvCase(1, 4, 9, 9, 4, kernel: (3, 3), stride: (2, 1), pad: (1, 1), groups: 4)] {
            #expect(resolve(.automatic, cc.geometry, pass: .forward) == .direct, "\(cc.testDescription)")
        }
    }

    @Test func referenceMatchesHandComputedCase() {
        // 1x1x3x3 input 1..9, 2x2 all-ones kernel, no padding: each output sums a 2x2 window.
        let g = Conv2dGeometry(batch: 1, inChannels: 1, height: 3, width: 3, outChannels: 1, kernelSize: (2, 2))
        let x = Tensor(shape: g.inputShape, scalars: (1...9).map(Float.init))
        let w = Tensor(repeating: 1, shape: g.weightShape)
        let y = conv2dForward(input: x, weight: w, bias: Tensor(shape: [1], scalars: [0.5]), geometry: g)
        #expect(y.scalars == [12.5, 16.5, 24.5, 28.5])
        #expect(conv2dForwardReference(input: x, weight: w, bias: nil, geometry: g).scalars == [12, 16, 24, 28])
    }

    @Test func emptyBatchGivesEmptyOutputsAndLeavesGradientsAlone() {
        let g = Conv2dGeometry(batch: 0, inChannels: 8, height: 6, width: 6, outChannels: 8,
                               kernelSize: (3, 3), padding: (1, 1))
        var rng = SeededGenerator(seed: 14)
        let w = randomTensor(g.weightShape, &rng)
        for algorithm in [Conv2dAlgorithm.automatic, .im2colGemm(imagesPerChunk: 4), .winograd(imagesPerChunk: 4),
                          .winograd4x4(imagesPerChunk: 4)] {
            let y = conv2dForward(input: Tensor(zeros: g.inputShape), weight: w, bias: nil, geometry: g,
                                  algorithm: algorithm)
            #expect(y.shape == [0, 8, 6, 6])
            var dw = w
            let dx = conv2dBackward(dOutput: Tensor(zeros: g.outputShape), input: Tensor(zeros: g.inputShape),
                                    weight: w, geometry: g, accumulatingInto: &dw, algorithm: algorithm)
            #expect(dx.shape == g.inputShape && dw == w)
        }
        for stride in [1, 2] {
            let dg = Conv2dGeometry(batch: 0, inChannels: 4, height: 6, width: 6, outChannels: 4, kernelSize: (3, 3),
                                    stride: (stride, stride), padding: (1, 1), groups: 4)
            let dwStart = randomTensor(dg.weightShape, &rng)
            #expect(resolve(.automatic, dg, pass: .forward) == .depthwise3x3)
            let y = conv2dForward(input: Tensor(zeros: dg.inputShape), weight: dwStart, bias: nil, geometry: dg)
            #expect(y.shape == dg.outputShape)
            var dw = dwStart
            let dx = conv2dBackward(dOutput: Tensor(zeros: dg.outputShape), input: Tensor(zeros: dg.inputShape),
                                    weight: dwStart, geometry: dg, accumulatingInto: &dw)
            #expect(dx.shape == dg.inputShape && dw == dwStart)
        }
    }
}
