// Shared plumbing for the pointer kernels in this folder.

extension Tensor {
    /// A tensor of `shape` whose storage `fill` must write completely; skips the zero fill
    /// that `Tensor(zeros:)` would spend on buffers a kernel overwrites anyway.
    @inlinable
    public static func filled(shape: [Int], _ fill: (UnsafeMutableBufferPointer<Float>) -> Void) -> Tensor {
        let count = Tensor.count(of: shape)
        let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(buffer)
            initialized = count
        }
        return Tensor(shape: shape, scalars: scalars)
    }
}

/// Below this many elements an elementwise kernel runs on the calling thread: dispatch
/// costs more than the work.
let parallelElementThreshold = 1 << 15

/// Splits 0..<count into deterministic chunks for elementwise work.
@inline(__always)
func forEachElementChunk(count: Int, _ body: (Range<Int>) -> Void) {
    if count < parallelElementThreshold { body(0..<count); return }
    Parallel.forEachChunk(count: count) { _, range in body(range) }
}

// Vectorised reductions over one contiguous run (a feature-map plane). Swift does not
// reassociate Float additions, so a plain `s += x[i]` loop is one serial dependency
// chain; these keep 16 independent partial sums in two SIMD8 accumulators instead. The
// order is fixed by `count` alone, so results are deterministic.

@inline(__always)
func load8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

/// sum of x[0..<count].
@inline(__always)
func runSum(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var a = SIMD8<Float>(repeating: 0), b = a
    var i = 0
    while i + 16 <= count { a += load8(x, i); b += load8(x, i + 8); i += 16 }
    if i + 8 <= count { a += load8(x, i); i += 8 }
    var s = (a + b).sum()
    while i < count { s += x[i]; i += 1 }
    return s
}

/// sum of (x - mean)^2 over x[0..<count].
@inline(__always)
func runSquaredDeviation(_ x: UnsafePointer<Float>, _ count: Int, mean: Float) -> Float {
    let m = SIMD8<Float>(repeating: mean)
    var a = SIMD8<Float>(repeating: 0), b = a
    var i = 0
    while i + 16 <= count {
        let d0 = load8(x, i) - m, d1 = load8(x, i + 8) - m
        a += d0 * d0; b += d1 * d1; i += 16
    }
    if i + 8 <= count { let d = load8(x, i) - m; a += d * d; i += 8 }
    var s = (a + b).sum()
    while i < count { let d = x[i] - mean; s += d * d; i += 1 }
    return s
}

/// (sum dy, sum dy * (x - mean)) over a run: the two reductions of batch-norm backward.
@inline(__always)
func runGradientSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int,
                     mean: Float) -> (Float, Float) {
    let m = SIMD8<Float>(repeating: mean)
    var s = SIMD8<Float>(repeating: 0), sx = s
    var i = 0
    while i + 8 <= count {
        let g = load8(dy, i)
        s += g; sx += g * (load8(x, i) - m); i += 8
    }
    var total = s.sum(), totalX = sx.sum()
    while i < count { total += dy[i]; totalX += dy[i] * (x[i] - mean); i += 1 }
    return (total, totalX)
}
