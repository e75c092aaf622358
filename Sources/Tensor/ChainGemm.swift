// A GEMM of our own for the Winograd convolutions' products (K or C rows, C or K deep, many
// tile columns), where OpenBLAS's Haswell kernels spend much of each small call outside
// their inner loop. Legend: C (m×n, ldc) = A·B or C += A·B with A(i, p) = a[i·rowStride +
// p·columnStride] (a transposed A is the same call with the strides swapped) and B (k×n, ldb)
// row-major.
//
// Every element of C is one chain of fused multiply-adds over p = 0..<k in order, starting
// from 0 (or from C's value when accumulating). The blocking (6×16 register tiles, then
// then 8, 4 and single columns, each in tiles of up to six rows) never changes an element's chain, so the
// bits depend neither on m, n or the tile an element falls in, nor on the vector width or
// the machine (the haswell code generation of Package.swift has FMA on every x86 kind).

/// C = A·B (or C += A·B when `accumulate`), every element one fused multiply-add chain over p.
/// Deep products (the im2col forwards: k = C·R·S up to 576) run in blocks of
/// `chainGemmDepthBlock` values of p, each continuing the chains from C where the last one
/// stored them, so a block's panel of B stays in L1 while every row tile reads it: the same
/// fused multiply-adds in the same order, the same bits.
func chainGemm(m: Int, n: Int, k: Int,
               a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
               b: UnsafePointer<Float>, ldb: Int,
               c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
    precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM extent m=\(m) n=\(n) k=\(k)")
    var p0 = 0
    repeat {
        let depth = min(chainGemmDepthBlock, k - p0)
        chainGemmBlock(m: m, n: n, k: depth, a: a + p0 * columnStride, rowStride: rowStride, columnStride: columnStride,
                       b: b + p0 * ldb, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate || p0 > 0)
        p0 += depth
    } while p0 < k
}

/// 128: a block's panel of B (128 rows of 16 floats, at most two cache lines each) fits the
/// 32 KiB L1 of the x86 cores we run on, beside the row tile's A.
let chainGemmDepthBlock = 128

/// `chainGemm` over one block of p: every column block of C, six rows at a time.
private func chainGemmBlock(m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
                            b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    // Columns j0..<j0 + L.width of every row, six rows at a time.
    @inline(__always) func columns<L: ChainLanes>(_: L.Type, _ j0: Int) {
        @inline(__always) func tile(_ rows: Int, _ i0: Int) {
            chainTile(L.self, rows: rows, k: k, a: a + i0 * rowStride, rowStride: rowStride,
                      columnStride: columnStride, b: b + j0, ldb: ldb, c: c + i0 * ldc + j0, ldc: ldc,
                      accumulate: accumulate)
        }
        forEachBlock(m, size: 6, tile)
    }
    var j0 = 0
    while j0 + 16 <= n { columns(SIMD16<Float>.self, j0); j0 += 16 }
    if j0 + 8 <= n { columns(SIMD8<Float>.self, j0); j0 += 8 }
    // The last 1-7 columns: where C is only stored, one block of 8 (or 4) ending at column n,
    // overlapping columns already done (it recomputes their chains, the same bits).
    if j0 < n && !accumulate && n >= 8 && n - j0 > 4 { columns(SIMD8<Float>.self, n - 8); return }
    if j0 + 4 <= n { columns(SIMD4<Float>.self, j0); j0 += 4 }
    if j0 < n && !accumulate && n >= 4 { columns(SIMD4<Float>.self, n - 4); return }
    while j0 < n { columns(Float.self, j0); j0 += 1 }
}

/// Lanes of one row segment of C: a vector of floats, or one float (the standard library's
/// `addProduct` is a fused multiply-add on each).
protocol ChainLanes: FloatLanes {
    mutating func addProduct(_ a: Float, _ b: Self)
}

extension Float: ChainLanes {}
extension SIMD4: ChainLanes where Scalar == Float {}
extension SIMD8: ChainLanes where Scalar == Float {}
extension SIMD16: ChainLanes where Scalar == Float {}

/// `rows` (1 to 6) rows × L's lanes of C in one accumulator per row: per p, one load of B's
/// row and one broadcast of A per row feed a fused multiply-add per row. With 16 lanes on
/// AVX2 that is twelve 8-float accumulators, two loads and six broadcasts per p. `rows` is a
/// constant at every call, so the unused accumulators fold away.
@inline(__always)
private func chainTile<L: ChainLanes>(_: L.Type, rows: Int, k: Int, a: UnsafePointer<Float>, rowStride: Int,
                                      columnStride: Int, b: UnsafePointer<Float>, ldb: Int,
                                      c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
    @inline(__always) func start(_ r: Int) -> L { accumulate && r < rows ? L.load(c + r * ldc) : L.zero }
    var c0 = start(0), c1 = start(1), c2 = start(2), c3 = start(3), c4 = start(4), c5 = start(5)
    var pa = a, pb = b
    let r2 = 2 * rowStride, r3 = 3 * rowStride, r4 = 4 * rowStride, r5 = 5 * rowStride
    for _ in 0..<k {
        let bv = L.load(pb)
        c0.addProduct(pa[0], bv)
        if rows > 1 { c1.addProduct(pa[rowStride], bv) }
        if rows > 2 { c2.addProduct(pa[r2], bv) }
        if rows > 3 { c3.addProduct(pa[r3], bv) }
        if rows > 4 { c4.addProduct(pa[r4], bv) }
        if rows > 5 { c5.addProduct(pa[r5], bv) }
        pa += columnStride
        pb += ldb
    }
    c0.store(c)
    if rows > 1 { c1.store(c + ldc) }
    if rows > 2 { c2.store(c + 2 * ldc) }
    if rows > 3 { c3.store(c + 3 * ldc) }
    if rows > 4 { c4.store(c + 4 * ldc) }
    if rows > 5 { c5.store(c + 5 * ldc) }
}

/// C = A·Bᵀ (or C += A·Bᵀ when `accumulate`) for A (m×k, lda) and B (n×k, ldb), both
/// row-major: every C element is a dot product of two contiguous rows, the weight-gradient
/// GEMMs' shape (k, the tile columns, is long; m and n are channels). Each element's sum is
/// a fixed function of k alone: eight lane sums, lane l a fused multiply-add chain over
/// p ≡ l (mod 8) below k - k mod 8, then (for k >= 8) the last k mod 8 terms on the lanes
/// they fall in when the last 8 values are read again with the others masked to zero,
/// added as ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)), then added to C (or stored).
/// Below k = 8 the terms are chained in order on lane 0's sum.
func chainGemmTransposedB(m: Int, n: Int, k: Int,
                          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                          c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
    precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM extent m=\(m) n=\(n) k=\(k)")
    @inline(__always) func tile(_ rows: Int, _ cols: Int, _ i0: Int, _ j0: Int) {
        dotTile(rows: rows, cols: cols, k: k, a: a + i0 * lda, lda: lda, b: b + j0 * ldb, ldb: ldb,
                c: c + i0 * ldc + j0, ldc: ldc, accumulate: accumulate)
    }
    // Every element is its own dot product, so the order of the tiles changes no bits: the
    // larger operand is streamed once, its tile's rows staying in L1 while every tile of the
    // smaller one (read from L2) passes them (the im2col weight gradient of a 64-channel
    // stride-2 layer: B is 288 rows of 490 columns, 564 KB, A 64 rows, 125 KB).
    if n > m {
        forEachBlock(n, size: 3) { cols, j0 in
            forEachBlock(m, size: 4) { rows, i0 in tile(rows, cols, i0, j0) }
        }
    } else {
        forEachBlock(m, size: 4) { rows, i0 in
            forEachBlock(n, size: 3) { cols, j0 in tile(rows, cols, i0, j0) }
        }
    }
}

/// `body(length, start)` for the blocks of `size` (at most 6) covering 0..<count, then once
/// for the shorter last block: every call passes a literal length, so a register tile
/// inlined into `body` folds the rows or columns it does not use away.
@inline(__always)
private func forEachBlock(_ count: Int, size: Int, _ body: (_ length: Int, _ start: Int) -> Void) {
    var start = 0
    while start + size <= count { body(size, start); start += size }
    switch count - start {
    case 5: body(5, start)
    case 4: body(4, start)
    case 3: body(3, start)
    case 2: body(2, start)
    case 1: body(1, start)
    default: break
    }
}

/// `rows` (1 to 4) × `cols` (1 to 3) dot products, constants at every call, in 8-lane
/// accumulators: per 8 values of p, rows + cols loads feed rows·cols fused multiply-adds
/// (4 × 3: twelve accumulators, three of B and one of A in the sixteen AVX2 registers).
@inline(__always)
private func dotTile(rows: Int, cols: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                     b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                     accumulate: Bool) {
    typealias V = SIMD8<Float>
    var s00 = V.zero, s01 = V.zero, s02 = V.zero
    var s10 = V.zero, s11 = V.zero, s12 = V.zero
    var s20 = V.zero, s21 = V.zero, s22 = V.zero
    var s30 = V.zero, s31 = V.zero, s32 = V.zero
    @inline(__always) func step(_ p: Int, _ mask: V?) {
        let b0 = V.load(b + p)
        let b1 = cols > 1 ? V.load(b + ldb + p) : V.zero
        let b2 = cols > 2 ? V.load(b + 2 * ldb + p) : V.zero
        @inline(__always) func aRow(_ r: Int) -> V {
            let v = V.load(a + r * lda + p)
            return mask.map { v * $0 } ?? v
        }
        let a0 = aRow(0)
        s00.addProduct(a0, b0)
        if cols > 1 { s01.addProduct(a0, b1) }
        if cols > 2 { s02.addProduct(a0, b2) }
        if rows > 1 {
            let a1 = aRow(1)
            s10.addProduct(a1, b0)
            if cols > 1 { s11.addProduct(a1, b1) }
            if cols > 2 { s12.addProduct(a1, b2) }
        }
        if rows > 2 {
            let a2 = aRow(2)
            s20.addProduct(a2, b0)
            if cols > 1 { s21.addProduct(a2, b1) }
            if cols > 2 { s22.addProduct(a2, b2) }
        }
        if rows > 3 {
            let a3 = aRow(3)
            s30.addProduct(a3, b0)
            if cols > 1 { s31.addProduct(a3, b1) }
            if cols > 2 { s32.addProduct(a3, b2) }
        }
    }
    let k8 = k - k % 8
    var p = 0
    while p < k8 { step(p, nil); p += 8 }
    if k >= 8 && k8 < k {
        // The last k mod 8 terms on their lanes: the last 8 values, the others times zero.
        var mask = V.zero
        for l in (8 - (k - k8))..<8 { mask[l] = 1 }
        step(k - 8, mask)
    }
    @inline(__always) func finish(_ s: V, _ r: Int, _ j: Int) {
        let h = s.lowHalf + s.highHalf, q = h.lowHalf + h.highHalf
        var total = q[0] + q[1]
        if k < 8 {
            let ar = a + r * lda, bj = b + j * ldb
            for q in 0..<k { total.addProduct(ar[q], bj[q]) }
        }
        let out = c + r * ldc + j
        out.pointee = accumulate ? out.pointee + total : total
    }
    finish(s00, 0, 0)
    if cols > 1 { finish(s01, 0, 1) }
    if cols > 2 { finish(s02, 0, 2) }
    if rows > 1 {
        finish(s10, 1, 0)
        if cols > 1 { finish(s11, 1, 1) }
        if cols > 2 { finish(s12, 1, 2) }
    }
    if rows > 2 {
        finish(s20, 2, 0)
        if cols > 1 { finish(s21, 2, 1) }
        if cols > 2 { finish(s22, 2, 2) }
    }
    if rows > 3 {
        finish(s30, 3, 0)
        if cols > 1 { finish(s31, 3, 1) }
        if cols > 2 { finish(s32, 3, 2) }
    }
}
