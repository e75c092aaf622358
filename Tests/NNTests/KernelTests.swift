// The fast kernels in Sources/Tensor/Kernels against their naive references, over odd
// shapes and sizes large enough to take the parallel paths.
import Testing
@testable import Tensor

@Suite struct KernelTests {
    @Test(arguments: [[2, 3, 5, 7], [5, 16, 13, 11], [1, 1, 1, 3]])
    func batchNormMatchesReference(shape: [Int]) {
        var rng = SeededGenerator(seed: 50)
        let c = shape[1]
        let x = Tensor(shape: shape, scalars: (0..<Tensor.count(of: shape)).map { _ in rng.nextNormal() * 3 + 1.5 })
        let dy = Tensor(shape: shape, scalars: (0..<x.count).map { _ in rng.nextNormal() })
        let gamma = (0..<c).map { _ in rng.nextNormal() }, beta = (0..<c).map { _ in rng.nextNormal() }
        let (y, stats) = batchNormForwardTraining(x, gamma: gamma, beta: beta, eps: 1e-5)
        let ref = batchNormForwardTrainingReference(x, gamma: gamma, beta: beta, eps: 1e-5)
        #expect(maxDiff(y, ref.output) < 1e-4)
        for ch in 0..<c {
            #expect(abs(Double(stats.mean[ch]) - ref.mean[ch]) < 1e-5 * max(1, abs(ref.mean[ch])))
            #expect(abs(Double(stats.variance[ch]) - ref.variance[ch]) < 1e-4 * max(1, ref.variance[ch]))
        }
        let (dx, dGamma, dBeta) = batchNormBackwardTraining(dOutput: dy, input: x, statistics: stats, gamma: gamma)
        let refBack = batchNormBackwardTrainingReference(dOutput: dy, input: x, gamma: gamma, eps: 1e-5)
        #expect(maxDiff(dx, refBack.dInput) < 1e-4)
        for ch in 0..<c {
            #expect(abs(Double(dGamma[ch]) - refBack.dGamma[ch]) < 1e-3 * max(1, abs(refBack.dGamma[ch])))
            #expect(abs(Double(dBeta[ch]) - refBack.dBeta[ch]) < 1e-3 * max(1, abs(refBack.dBeta[ch])))
        }
    }

    @Test(arguments: [
        ([2, 3, 7, 6], (3, 3), (2, 2), (1, 1)),
        ([3, 5, 9, 8], (2, 3), (2, 1), (1, 0)),
        ([4, 17, 28, 28], (2, 2), (2, 2), (0, 0)),
        ([1, 2, 5, 5], (5, 5), (1, 1), (2, 2)),
    ])
    func poolingMatchesReference(shape: [Int], kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)) {
        var rng = SeededGenerator(seed: 51)
        let g = Pool2dGeometry(inputShape: shape, kernelSize: kernel, stride: stride, padding: padding)
        let x = Tensor(shape: shape, scalars: (0..<Tensor.count(of: shape)).map { _ in rng.nextNormal() })
        let dy = Tensor(shape: g.outputShape, scalars: (0..<Tensor.count(of: g.outputShape)).map { _ in rng.nextNormal() })
        let (mx, argmax) = maxPool2dForward(x, geometry: g)
        #expect(mx == pool2dForwardReference(x, geometry: g, max: true))
        #expect(maxDiff(maxPool2dBackward(dOutput: dy, argmax: argmax, geometry: g),
                        pool2dBackwardReference(dOutput: dy, input: x, geometry: g, max: true)) < 1e-5)
        #expect(maxDiff(avgPool2dForward(x, geometry: g), pool2dForwardReference(x, geometry: g, max: false)) < 1e-5)
        #expect(maxDiff(avgPool2dBackward(dOutput: dy, geometry: g),
                        pool2dBackwardReference(dOutput: dy, input: x, geometry: g, max: false)) < 1e-5)
    }

    @Test func globalPoolingAndChannelKernels() {
        var rng = SeededGenerator(seed: 52)
        let shape = [3, 5, 7, 4]
        let x = Tensor(shape: shape, scalars: (0..<Tensor.count(of: shape)).map { _ in rng.nextNormal() })
        let y = globalAvgPoolForward(x)
        let g = Pool2dGeometry(inputShape: shape, kernelSize: (7, 4), stride: (1, 1))
        #expect(maxDiff(y, pool2dForwardReference(x, geometry: g, max: false).reshaped([3, 5])) < 1e-5)
        let dy = Tensor(shape: [3, 5], scalars: (0..<15).map { _ in rng.nextNormal() })
        #expect(maxDiff(globalAvgPoolBackward(dOutput: dy, inputShape: shape),
                        pool2dBackwardReference(dOutput: dy.reshaped([3, 5, 1, 1]), input: x, geometry: g, max: false)) < 1e-5)
        let scale = (0..<5).map { _ in rng.nextNormal() }, shift = (0..<5).map { _ in rng.nextNormal() }
        let affine = channelAffine(x, scale: scale, shift: shift)
        var sums = [Float](repeating: 1, count: 5)
        addChannelSums(of: x, into: &sums)
        for n in 0..<3 { for c in 0..<5 { for h in 0..<7 { for w in 0..<4 {
            #expect(affine[n, c, h, w] == x[n, c, h, w] * scale[c] + shift[c])
        }}}}
        for c in 0..<5 {
            var s = 0.0
            for n in 0..<3 { for h in 0..<7 { for w in 0..<4 { s += Double(x[n, c, h, w]) } } }
            #expect(abs(Double(sums[c]) - (s + 1)) < 1e-4)
        }
    }

    @Test(arguments: [[3, 7], [64, 16, 32, 33]])
    func elementwiseMatchesReference(shape: [Int]) {
        var rng = SeededGenerator(seed: 53)
        let a = Tensor(shape: shape, scalars: (0..<Tensor.count(of: shape)).map { _ in rng.nextNormal() * 4 })
        let b = Tensor(shape: shape, scalars: (0..<a.count).map { _ in rng.nextNormal() })
        #expect(clampedReLUForward(a) == clampedReLUReference(a))
        #expect(clampedReLUForward(a, cap: 6) == clampedReLUReference(a, cap: 6))
        let sum = Tensor(shape: shape, scalars: zip(a.scalars, b.scalars).map { $0 + $1 })
        #expect(addForward(a, b, relu: false) == sum)
        #expect(addForward(a, b, relu: true) == clampedReLUReference(sum))
        let y = clampedReLUForward(a, cap: 6)
        let dx = clampedReLUBackward(dOutput: b, output: y, cap: 6)
        #expect(dx.scalars == zip(a.scalars, b.scalars).map { ($0 > 0 && $0 < 6) ? $1 : 0 })
    }

    @Test func linearMatchesReference() {
        var rng = SeededGenerator(seed: 54)
        let n = 5, i = 11, o = 7
        let x = Tensor(shape: [n, i], scalars: (0..<(n * i)).map { _ in rng.nextNormal() })
        let w = Tensor(shape: [o, i], scalars: (0..<(o * i)).map { _ in rng.nextNormal() })
        let bias = Tensor(shape: [o], scalars: (0..<o).map { _ in rng.nextNormal() })
        let dy = Tensor(shape: [n, o], scalars: (0..<(n * o)).map { _ in rng.nextNormal() })
        var expected = [Float](repeating: 0, count: n * o)
        sgemmReference(.none, .transposed, m: n, n: o, k: i, a: x.scalars, lda: i, b: w.scalars, ldb: i, c: &expected, ldc: o)
        for r in 0..<n { for j in 0..<o { expected[r * o + j] += bias.scalars[j] } }
        #expect(maxDiff(linearForward(input: x, weight: w, bias: bias), Tensor(shape: [n, o], scalars: expected)) < 1e-4)
        var dxRef = [Float](repeating: 0, count: n * i)
        sgemmReference(.none, .none, m: n, n: i, k: o, a: dy.scalars, lda: o, b: w.scalars, ldb: i, c: &dxRef, ldc: i)
        #expect(maxDiff(linearBackwardInput(dOutput: dy, weight: w), Tensor(shape: [n, i], scalars: dxRef)) < 1e-4)
        var dwRef = [Float](repeating: 0, count: o * i)
        sgemmReference(.transposed, .none, m: o, n: i, k: n, a: dy.scalars, lda: o, b: x.scalars, ldb: i, c: &dwRef, ldc: i)
        var dW = Tensor(repeating: 1, shape: [o, i])
        var dB = Tensor(zeros: [o])
        linearBackwardWeight(dOutput: dy, input: x, accumulatingInto: &dW)
        linearBackwardBias(dOutput: dy, accumulatingInto: &dB)
        #expect(maxDiff(dW, Tensor(shape: [o, i], scalars: dwRef.map { $0 + 1 })) < 1e-4)
        #expect(dB.scalars.indices.allSatisfy { j in abs(dB.scalars[j] - (0..<n).reduce(0) { $0 + dy.scalars[$1 * o + j] }) < 1e-5 })
    }

    @Test func byteConversionRoundTrips() {
        let values: [Float] = [0, -0, 1, -2.5, .infinity, .leastNonzeroMagnitude, 3.14159]
        let bytes = littleEndianBytes(of: values)
        #expect(bytes.count == 28 && Array(bytes[8..<12]) == [0, 0, 0x80, 0x3F])   // 1.0f
        #expect(floatsFromLittleEndian(bytes[...]).map(\.bitPattern) == values.map(\.bitPattern))
        #expect(littleEndianBytes(of: [Int64(258), -1]) == [2, 1, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 255, count: 8))
    }

    private func maxDiff(_ a: Tensor, _ b: Tensor) -> Float {
        precondition(a.shape == b.shape, "\(a.shape) vs \(b.shape)")
        return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}
