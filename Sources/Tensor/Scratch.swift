// Scratch memory for kernels and the uninitialised tensor constructor they fill.

/// Runs `body` with `count` floats of uninitialised scratch memory, freed afterwards.
/// Kernels call this once per worker, not per image, so allocation stays off the hot path.
@inline(__always)
func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    precondition(count >= 0, "negative scratch size \(count)")
    let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
    defer { p.deallocate() }
    return try body(p)
}

extension Tensor {
    /// A tensor whose every element `body` must write; skips zero-filling memory
    /// that a kernel overwrites anyway.
    init(shape: [Int], initializingWith body: (UnsafeMutablePointer<Float>) -> Void) {
        let n = Tensor.count(of: shape)
        let scalars = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 { body(buffer.baseAddress!) }
            initialized = n
        }
        self.init(shape: shape, scalars: scalars)
    }
}
