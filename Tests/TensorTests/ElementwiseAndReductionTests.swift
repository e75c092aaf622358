import Testing
@testable import Tensor

@Suite struct ElementwiseAndReductionTests {
    @Test func inPlaceArithmeticMatchesScalarLoops() {
        var rng = SeededGenerator(seed: 21)
        let a = randomTensor([3, 5, 7], &rng), b = randomTensor([3, 5, 7], &rng)
        var t = a
        t.addScaled(b, by: -0.5)
        #expect(t.scalars == zip(a.scalars, b.scalars).map { $0 + -0.5 * $1 })
        t = a; t.add(b)
        #expect(t.scalars == zip(a.scalars, b.scalars).map { $0 + $1 })
        #expect((a - b).scalars == zip(a.scalars, b.scalars).map { $0 - $1 })
        t = a; t.scale(by: 3)
        #expect(t.scalars == a.scalars.map { $0 * 3 } && (3 * a) == t)
        t = a; t.multiplyElementwise(by: b)
        #expect(t.scalars == zip(a.scalars, b.scalars).map { $0 * $1 })
        t.fill(with: 0)
        #expect(t.scalars.allSatisfy { $0 == 0 } && t.shape == [3, 5, 7])
    }

    @Test func addChannelBiasAndChannelSums() {
        var t = Tensor(zeros: [2, 3, 2, 2])
        t.addChannelBias(Tensor(shape: [3], scalars: [1, 2, 3]))
        #expect(t[1, 2, 1, 0] == 3 && t[0, 0, 0, 1] == 1)
        #expect(t.channelSums().scalars == [8, 16, 24])
        var rng = SeededGenerator(seed: 22)
        let r = randomTensor([3, 4, 5, 3], &rng)
        expectClose(r.channelSums(), r.sum(alongAxes: [0, 2, 3]), rtol: 1e-6, atol: 1e-6, "channelSums")
    }

    @Test(arguments: [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]])
    func sumAlongAxesMatchesNaive(axes: [Int]) {
        var rng = SeededGenerator(seed: 23)
        let t = randomTensor([3, 4, 5], &rng)
        let kept = [3, 4, 5].enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        var expected = [Double](repeating: 0, count: Tensor.count(of: kept))
        for i in 0..<3 { for j in 0..<4 { for k in 0..<5 {
            let o = [i, j, k].enumerated().map { axes.contains($0.offset) ? 0 : $0.element }
            expected[(o[0] * kept[1] + o[1]) * kept[2] + o[2]] += Double(t[i, j, k])
        }}}
        let got = t.sum(alongAxes: axes, keepingDimensions: true)
        #expect(got.shape == kept)
        expectClose(got, Tensor(shape: kept, scalars: expected.map { Float($0) }), rtol: 1e-6, atol: 1e-6,
                    "sum over \(axes)")
        #expect(t.sum(alongAxes: axes).shape == [3, 4, 5].enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    }

    @Test func totalSumMeanAndArgmax() {
        let t = Tensor(shape: [2, 3], scalars: [1, 5, 5, -1, -3, -2])
        #expect(t.sum() == 5 && t.mean() == 5 / 6)
        #expect(t.argmaxAlongLastAxis() == [1, 0])
    }

    @Test func transposesRoundTrip() {
        var rng = SeededGenerator(seed: 24)
        let m = randomTensor([37, 45], &rng)
        let mt = m.transposed()
        #expect(mt.shape == [45, 37] && mt[44, 36] == m[36, 44] && mt[3, 7] == m[7, 3])
        #expect(mt.transposed() == m)
        let x = randomTensor([2, 3, 4, 5], &rng)
        let nhwc = x.nchwToNHWC()
        #expect(nhwc.shape == [2, 4, 5, 3] && nhwc[1, 3, 2, 1] == x[1, 1, 3, 2])
        #expect(nhwc.nhwcToNCHW() == x)
    }
}
