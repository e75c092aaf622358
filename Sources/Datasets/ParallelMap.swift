import Dispatch
import Foundation

/// Maps `transform` over 0..<count on all cores and returns the results in index order.
///
/// Work is split into chunks of `chunkSize` indices handed out by `concurrentPerform`;
/// each chunk's results are stored under a lock once the chunk is done, so no two
/// threads ever write the same array. If any index throws, the error of the lowest
/// failing chunk is rethrown (the same error on every run) and remaining chunks are
/// skipped. `progress`, if given, is called under the lock with the number of indices
/// done so far, in increasing order.
func parallelMap<T>(count: Int, chunkSize: Int = 256, progress: ((Int) -> Void)? = nil,
                    _ transform: (Int) throws -> T) throws -> [T] {
    guard count > 0 else { return [] }
    let chunks = (count + chunkSize - 1) / chunkSize
    let collector = ChunkCollector<T>(chunks: chunks)
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        if collector.failed { return }
        let range = (chunk * chunkSize) ..< min(count, (chunk + 1) * chunkSize)
        do {
            var part = [T]()
            part.reserveCapacity(range.count)
            for i in range { part.append(try transform(i)) }
            collector.store(part, chunk: chunk, progress: progress)
        } catch {
            collector.fail(error, chunk: chunk)
        }
    }
    if let error = collector.firstError { throw error }
    return collector.parts.flatMap { $0! }
}

/// Lock-protected per-chunk results of `parallelMap`.
private final class ChunkCollector<T> {
    private let lock = NSLock()
    private(set) var parts: [[T]?]
    private var errors: [(chunk: Int, error: Error)] = []
    private var done = 0

    init(chunks: Int) { parts = [[T]?](repeating: nil, count: chunks) }

    var failed: Bool { lock.withLock { !errors.isEmpty } }

    var firstError: Error? { errors.min(by: { $0.chunk < $1.chunk })?.error }

    func store(_ part: [T], chunk: Int, progress: ((Int) -> Void)?) {
        lock.withLock {
            done += part.count
            parts[chunk] = part
            progress?(done)
        }
    }

    func fail(_ error: Error, chunk: Int) {
        lock.withLock { errors.append((chunk, error)) }
    }
}

/// Prints "<label>: n/total" lines at every tenth of the work, for long jobs on stderr.
public final class ProgressReporter: @unchecked Sendable {
    private let label: String
    private let total: Int
    private let sink: (String) -> Void
    private var nextTenth = 1

    public init(label: String, total: Int, sink: @escaping (String) -> Void) {
        self.label = label
        self.total = total
        self.sink = sink
    }

    /// Called with the running count; callers serialise calls (parallelMap does).
    public func update(_ done: Int) {
        guard total > 0 else { return }
        var crossed = false
        while nextTenth <= 10 && done * 10 >= nextTenth * total {
            nextTenth += 1
            crossed = true
        }
        if crossed { sink("\(label): \(done)/\(total)") }
    }
}
