import Testing
@testable import Tensor

/// The Winograd convolutions' own GEMMs against the naive reference, and the property their
/// determinism rests on: an element's bits do not depend on the register tile it falls in.
@Suite struct ChainGemmTests {
    /// Extents around every tile boundary: rows 1-13 (tiles of 6, then 5..1), columns
    /// 1-37 (16, 8, 4, 1 lanes), depths 0-19 (the transposed-B kernel's 8-lane steps and tails).
    static let shapes: [(m: Int, n: Int, k: Int)] = [
        (1, 1, 1), (1, 17, 3), (5, 3, 8), (6, 16, 9), (7, 21, 16), (13, 37, 19), (12, 32, 0), (4, 8, 7),
        (2, 29, 12),
    ]

    @Test func matchesReferenceInBothALayoutsAndWhenAccumulating() {
        var rng = SeededGenerator(seed: 31)
        for (m, n, k) in Self.shapes {
            let a = randomTensor([max(m * k, 1)], &rng).scalars, b = randomTensor([max(k * n, 1)], &rng).scalars
            let start = randomTensor([m * n], &rng).scalars
            for transposedA in [false, true] {
                for accumulate in [false, true] {
                    var expected = start
                    sgemmReference(transposedA ? .transposed : .none, .none, m: m, n: n, k: k,
                                   a: a, lda: transposedA ? m : k, b: b, ldb: n,
                                   beta: accumulate ? 1 : 0, c: &expected, ldc: n)
                    var got = start
                    a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                        got.withUnsafeMutableBufferPointer { pc in
                            chainGemm(m: m, n: n, k: k, a: pa.baseAddress!,
                                      rowStride: transposedA ? 1 : k, columnStride: transposedA ? m : 1,
                                      b: pb.baseAddress!, ldb: n, c: pc.baseAddress!, ldc: n, accumulate: accumulate)
                        }
                    }}
                    expectClose(Tensor(shape: [m * n], scalars: got), Tensor(shape: [m * n], scalars: expected),
                                rtol: 1e-5, atol: 1e-5, "chainGemm m\(m) n\(n) k\(k) Aᵀ \(transposedA) += \(accumulate)")
                }
            }
        }
    }

    @Test func transposedBMatchesReference() {
        var rng = SeededGenerator(seed: 32)
        for (m, n, k) in Self.shapes {
            let a = randomTensor([max(m * k, 1)], &rng).scalars, b = randomTensor([max(n * k, 1)], &rng).scalars
            let start = randomTensor([m * n], &rng).scalars
            for accumulate in [false, true] {
                var expected = start
                sgemmReference(.none, .transposed, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k,
                               beta: accumulate ? 1 : 0, c: &expected, ldc: n)
                var got = start
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                    got.withUnsafeMutableBufferPointer { pc in
                        chainGemmTransposedB(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: k,
                                             c: pc.baseAddress!, ldc: n, accumulate: accumulate)
                    }
                }}
                expectClose(Tensor(shape: [m * n], scalars: got), Tensor(shape: [m * n], scalars: expected),
                            rtol: 1e-5, atol: 1e-5, "chainGemmTransposedB m\(m) n\(n) k\(k) += \(accumulate)")
            }
        }
    }

    /// The same element computed inside a full product and inside a product of a sub-block
    /// (shifted by one row and three columns, so it lands in another tile, lane count and row
    /// position) has the same bits, for both kernels.
    @Test func elementBitsDoNotDependOnTheTile() {
        var rng = SeededGenerator(seed: 33)
        let m = 13, n = 37, k = 19
        let a = randomTensor([m * k], &rng).scalars, bRows = randomTensor([k * n], &rng).scalars
        let bT = randomTensor([n * k], &rng).scalars
        var full = [Float](repeating: 0, count: m * n), part = full
        var fullT = full, partT = full
        a.withUnsafeBufferPointer { pa in bRows.withUnsafeBufferPointer { pb in bT.withUnsafeBufferPointer { pt in
            let a0 = pa.baseAddress!, b0 = pb.baseAddress!, t0 = pt.baseAddress!
            full.withUnsafeMutableBufferPointer { c in
                chainGemm(m: m, n: n, k: k, a: a0, rowStride: k, columnStride: 1, b: b0, ldb: n, c: c.baseAddress!, ldc: n)
            }
            part.withUnsafeMutableBufferPointer { c in
                chainGemm(m: m - 1, n: n - 3, k: k, a: a0 + k, rowStride: k, columnStride: 1, b: b0 + 3, ldb: n,
                          c: c.baseAddress! + n + 3, ldc: n)
            }
            fullT.withUnsafeMutableBufferPointer { c in
                chainGemmTransposedB(m: m, n: n, k: k, a: a0, lda: k, b: t0, ldb: k, c: c.baseAddress!, ldc: n)
            }
            partT.withUnsafeMutableBufferPointer { c in
                chainGemmTransposedB(m: m - 1, n: n - 3, k: k, a: a0 + k, lda: k, b: t0 + 3 * k, ldb: k,
                                     c: c.baseAddress! + n + 3, ldc: n)
            }
        }}}
        for i in 1..<m {
            for j in 3..<n {
                #expect(full[i * n + j].bitPattern == part[i * n + j].bitPattern, "chainGemm (\(i), \(j))")
                #expect(fullT[i * n + j].bitPattern == partT[i * n + j].bitPattern, "transposed B (\(i), \(j))")
            }
        }
    }

    /// Deeper than a depth block (`chainGemmDepthBlock`): every element is still the one chain
    /// of fused multiply-adds over p in order, bit for bit, with and without accumulating.
    @Test func deepProductsAreOneChainAcrossDepthBlocks() {
        var rng = SeededGenerator(seed: 34)
        let m = 7, n = 21, k = 2 * chainGemmDepthBlock + 45
        let a = randomTensor([m * k], &rng).scalars, b = randomTensor([k * n], &rng).scalars
        let start = randomTensor([m * n], &rng).scalars
        for accumulate in [false, true] {
            var got = start
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
                got.withUnsafeMutableBufferPointer { pc in
                    chainGemm(m: m, n: n, k: k, a: pa.baseAddress!, rowStride: k, columnStride: 1,
                              b: pb.baseAddress!, ldb: n, c: pc.baseAddress!, ldc: n, accumulate: accumulate)
                }
            }}
            for i in 0..<m {
                for j in 0..<n {
                    var chain: Float = accumulate ? start[i * n + j] : 0
                    for p in 0..<k { chain.addProduct(a[i * k + p], b[p * n + j]) }
                    #expect(got[i * n + j].bitPattern == chain.bitPattern, "(\(i), \(j)) += \(accumulate)")
                }
            }
        }
    }
}
