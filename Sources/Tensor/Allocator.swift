import CBLAS

/// Process-wide allocator settings for long training runs.
public enum TensorAllocator {
    /// Keeps blocks up to 1 GiB in glibc's heap instead of mapping each from the system.
    ///
    /// glibc serves allocations above its mmap threshold (at most 32 MiB) with a fresh
    /// `mmap` and unmaps them on free, so a tensor that size is zero-filled by the kernel
    /// page by page on every training step: MobileNetV2-small's 96-channel 28x28
    /// activations at batch 128 (38.5 MB) took ~9,400 page faults per convolution call,
    /// more than the convolution itself, and the whole step ran 1.37x slower
    /// (docs/benchmarks.md). Raising the mmap and trim thresholds lets freed blocks be
    /// reused. The cost: freed memory stays in the process (resident size no longer falls
    /// after a step), which would also blur peak-memory deltas, so only the training and
    /// benchmark commands call this, never a library or a test. Returns whether glibc took
    /// both settings (false on other C libraries, where nothing changes).
    @discardableResult
    public static func keepLargeBlocksInHeap() -> Bool {
        #if os(Linux)
        let limit: Int32 = 1 << 30
        return mallopt(M_MMAP_THRESHOLD, limit) == 1 && mallopt(M_TRIM_THRESHOLD, limit) == 1
        #else
        return false
        #endif
    }
}
