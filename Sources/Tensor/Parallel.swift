import Dispatch

/// Work splitting for kernels. Chunks are fixed by `count` and `workers` alone,
/// never by timing, so any reduction done per chunk and then summed in chunk
/// order gives the same bits on every run (see docs/determinism.md).
public enum Parallel {
    /// Processor cores online on this machine.
    public static let activeCores: Int = max(1, ProcessInfo_activeCores())

    /// Number of workers kernels split across; defaults to the active cores.
    public static var workers: Int = activeCores

    /// Calls `body(chunk, range)` for `chunks` contiguous, near-equal ranges of 0..<count,
    /// concurrently. `chunks` defaults to min(workers, count).
    public static func forEachChunk(count: Int, chunks: Int? = nil,
                                    _ body: (_ chunk: Int, _ range: Range<Int>) -> Void) {
        guard count > 0 else { return }
        let n = max(1, min(chunks ?? workers, count))
        if n == 1 { body(0, 0..<count); return }
        DispatchQueue.concurrentPerform(iterations: n) { i in
            body(i, (count * i / n)..<(count * (i + 1) / n))
        }
    }
}

@inline(__always) private func ProcessInfo_activeCores() -> Int {
    #if canImport(Glibc)
    return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #else
    return 1
    #endif
}
#if canImport(Glibc)
import Glibc
#endif
