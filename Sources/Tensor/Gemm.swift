import CBLAS

// Legend: C = alpha * op(A) * op(B) + beta * C, op(A) is M x K, op(B) is K x N,
// all matrices row-major with leading dimensions lda, ldb, ldc.

/// Whether a GEMM operand is used as stored or transposed.
public enum Transpose: Sendable {
    case none, transposed
    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// Row-major single-precision GEMM through OpenBLAS's `cblas_sgemm`.
public func sgemm(
    _ transA: Transpose, _ transB: Transpose,
    m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
) {
    precondition(m >= 0 && n >= 0 && k >= 0, "negative GEMM extent m=\(m) n=\(n) k=\(k)")
    ensureSingleThreadedBLAS()
    if m == 0 || n == 0 { return }
    cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Naive triple loop: the oracle `sgemm` is tested against.
public func sgemmReference(
    _ transA: Transpose, _ transB: Transpose,
    m: Int, n: Int, k: Int, alpha: Float = 1,
    a: [Float], lda: Int, b: [Float], ldb: Int,
    beta: Float = 0, c: inout [Float], ldc: Int
) {
    for i in 0..<m {
        for j in 0..<n {
            var sum: Double = 0
            for p in 0..<k {
                let aip = transA == .none ? a[i * lda + p] : a[p * lda + i]
                let bpj = transB == .none ? b[p * ldb + j] : b[j * ldb + p]
                sum += Double(aip) * Double(bpj)
            }
            c[i * ldc + j] = alpha * Float(sum) + (beta == 0 ? 0 : beta * c[i * ldc + j])
        }
    }
}

/// OpenBLAS threading. Persephone runs BLAS single-threaded by default and
/// parallelises over the batch itself, so results never depend on how OpenBLAS
/// splits a product (see docs/determinism.md).
public enum BLASThreads {
    public static func set(_ count: Int) {
        precondition(count >= 1, "OpenBLAS thread count must be at least 1, got \(count)")
        ensureSingleThreadedBLAS()
        openblas_set_num_threads(Int32(count))
    }
    public static var current: Int {
        ensureSingleThreadedBLAS()
        return Int(openblas_get_num_threads())
    }
}

/// OpenBLAS starts with one thread per core; Persephone's kernels parallelise over images
/// themselves, and OpenBLAS threads on top would oversubscribe the cores and, with some
/// kernel sets, change the bits (docs/determinism.md). Applied once, before the first GEMM
/// or explicit `BLASThreads.set`, so an explicit setting (the benchmark's) still wins.
private let singleThreadedBLAS: Void = openblas_set_num_threads(1)
@inline(__always) func ensureSingleThreadedBLAS() { _ = singleThreadedBLAS }

/// Which OpenBLAS build and CPU kernel set computes the GEMMs. Results are bit-identical
/// only for the same kernel set, so provenance records should include these strings
/// (docs/determinism.md).
public enum BLASLibrary {
    /// The CPU kernel set OpenBLAS selected at load time, for example "Cooperlake" or
    /// "Haswell" (overridable with the OPENBLAS_CORETYPE environment variable).
    public static var coreName: String { String(cString: openblas_get_corename()) }
    /// OpenBLAS's build configuration string (version, threading model, architecture).
    public static var configuration: String { String(cString: openblas_get_config()) }
}
