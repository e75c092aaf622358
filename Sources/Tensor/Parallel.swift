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
        // Inside a task of `forEachTask` the other workers are busy with other tasks: the
        // same chunks, one after the other on this thread (same bits, no oversubscription).
        if isInsideTask {
            for i in 0..<n { body(i, (count * i / n)..<(count * (i + 1) / n)) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: n) { i in
            body(i, (count * i / n)..<(count * (i + 1) / n))
        }
    }

    /// Calls `body(task)` for every task in 0..<count, up to `workers` at a time, for
    /// independent pieces of work too small to split well inside (one exit head's training
    /// step on a batch of 32). Kernels called from `body` run their chunks on the calling
    /// thread, so each task computes exactly what it would alone: the bits depend neither
    /// on the worker count nor on which worker takes which task. Tasks are started in
    /// `order` (a permutation of 0..<count; give the longest first and a free worker takes
    /// the next, which balances unequal tasks). Runs in order on this thread with one
    /// worker, or when already inside a task.
    public static func forEachTask(count: Int, order: [Int]? = nil, _ body: (_ task: Int) -> Void) {
        guard count > 0 else { return }
        precondition(order.map { $0.sorted() == Array(0..<count) } ?? true, "order \(order!) is not a permutation of 0..<\(count)")
        if workers == 1 || count == 1 || isInsideTask {
            for task in 0..<count { body(task) }
            return
        }
        // concurrentPerform hands out iterations in increasing order as workers come free.
        DispatchQueue.concurrentPerform(iterations: count) { i in
            pthread_setspecific(insideTaskKey, UnsafeRawPointer(bitPattern: 1))
            defer { pthread_setspecific(insideTaskKey, nil) }
            body(order?[i] ?? i)
        }
    }

    /// `forEachTask`, collecting each task's result in task order.
    public static func mapTasks<T>(count: Int, order: [Int]? = nil, _ body: (_ task: Int) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let slots = buffer.baseAddress!
            forEachTask(count: count, order: order) { task in (slots + task).initialize(to: body(task)) }
            initialized = count
        }
    }

    /// Whether this thread is running a task of `forEachTask`.
    public static var isInsideTask: Bool { pthread_getspecific(insideTaskKey) != nil }
}

/// Thread-specific marker of `Parallel.forEachTask`'s tasks (non-nil inside one).
private let insideTaskKey: pthread_key_t = {
    var key = pthread_key_t()
    precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
    return key
}()

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

