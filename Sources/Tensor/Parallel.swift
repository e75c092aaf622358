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

/// Weight-gradient reduction with a fixed summation order. `chunks` work items are
/// dealt to `min(8, chunks)` lanes in contiguous runs; each lane sums its chunks in
/// order into its own zeroed partial, workers take whole lanes, and the lanes are then
/// added in lane order. The bits depend on `chunks` alone, not on the worker count.
func reduceInLanes(chunks: Int, size: Int, scratch scratchCount: Int,
                   addingInto total: UnsafeMutablePointer<Float>,
                   _ body: (_ chunk: Int, _ partial: UnsafeMutablePointer<Float>,
                            _ scratch: UnsafeMutablePointer<Float>) -> Void) {
    guard chunks > 0 else { return }
    let lanes = min(reductionLanes, chunks)
    withScratch(lanes * size) { partials in
        Parallel.forEachChunk(count: lanes) { _, laneRange in
            withScratch(scratchCount) { scratch in
                for lane in laneRange {
                    let partial = partials + lane * size
                    partial.update(repeating: 0, count: size)
                    for chunk in (chunks * lane / lanes)..<(chunks * (lane + 1) / lanes) {
                        body(chunk, partial, scratch)
                    }
                }
            }
        }
        for i in 0..<size {
            var s = partials[i]
            for lane in 1..<max(1, lanes) { s += partials[lane * size + i] }
            total[i] += s
        }
    }
}

/// Lanes of `reduceInLanes`: a multiple of every worker count we run with (1, 2, 4, 8).
let reductionLanes = 8

