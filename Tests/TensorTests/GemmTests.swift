import Testing
@testable import Tensor

@Suite struct GemmTests {
    @Test(arguments: [(Transpose.none, Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)])
    func sgemmMatchesReference(ta: Transpose, tb: Transpose) {
        var rng = SeededGenerator(seed: 7)
        let m = 13, n = 7, k = 29
        let a = (0..<(m * k)).map { _ in rng.nextNormal() }
        let b = (0..<(k * n)).map { _ in rng.nextNormal() }
        let lda = ta == .none ? k : m, ldb = tb == .none ? n : k
        var expected = [Float](repeating: 0, count: m * n)
        sgemmReference(ta, tb, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: &expected, ldc: n)
        var got = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in got.withUnsafeMutableBufferPointer { pc in
            sgemm(ta, tb, m: m, n: n, k: k, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                  c: pc.baseAddress!, ldc: n)
        }}}
        for i in 0..<(m * n) { #expect(abs(got[i] - expected[i]) <= 1e-4 * max(1, abs(expected[i]))) }
    }

    @Test func seededGeneratorIsReproducible() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42)
        for _ in 0..<100 { #expect(a.next() == b.next()) }
        var c = SeededGenerator(seed: 43)
        var d = SeededGenerator(seed: 42).derived(1)
        #expect(d.next() != c.next())
        var u = SeededGenerator(seed: 1)
        for _ in 0..<1000 { let x = u.nextUniform(); #expect(x >= 0 && x < 1) }
        for bound in [1, 2, 3, 10, 1000] { #expect((0..<100).allSatisfy { _ in u.nextInt(below: bound) < bound }) }
    }
}

@Suite struct BLASLibraryTests {
    @Test func reportsKernelSetAndConfiguration() {
        #expect(!BLASLibrary.coreName.isEmpty)
        #expect(BLASLibrary.configuration.contains("OpenBLAS"))
    }
}

@Suite struct BLASThreadingTests {
    @Test func gemmRunsOpenBLASSingleThreadedByDefault() {
        var c: [Float] = [0]
        let one: [Float] = [1]
        one.withUnsafeBufferPointer { a in c.withUnsafeMutableBufferPointer { pc in
            sgemm(.none, .none, m: 1, n: 1, k: 1, a: a.baseAddress!, lda: 1, b: a.baseAddress!, ldb: 1,
                  c: pc.baseAddress!, ldc: 1)
        }}
        #expect(c == [1])
        #expect(BLASThreads.current == 1)
    }
}
