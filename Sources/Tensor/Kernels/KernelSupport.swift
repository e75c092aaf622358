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
