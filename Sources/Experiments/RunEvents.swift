import Foundation

/// What a run reports while it goes, in the order it happens.
public enum RunEvent: Sendable {
    /// `total` points in this shard, `resumed` of them already recorded, `toRun` left.
    case started(folder: String, total: Int, resumed: Int, toRun: Int)
    /// A point's own status line (`PointProgress.report`).
    case status(point: PointPlan, text: String)
    /// `done` of `toRun` finished; `eta` seconds left, from the mean point time so far.
    case pointFinished(point: PointPlan, seconds: Double, done: Int, toRun: Int, eta: Double)
    /// Reported the moment the point fails; the other points go on.
    case pointFailed(point: PointPlan, error: String, done: Int, toRun: Int)
    case warning(String)
    case finished(RunSummary)
}

/// The outcome of a run or merge; `failed` or `missing` points make it unsuccessful.
public struct RunSummary: Sendable, Equatable {
    public var folder: String
    public var total: Int
    public var resumed: Int
    public var ran: Int
    public var failed: [Int]
    /// Points of the spec with no ok record in the folder (other shards', or failed).
    public var missing: [Int]
    public var tablesWritten: Bool

    /// True when every point this run was responsible for finished ok.
    public var succeeded: Bool { failed.isEmpty }
}

/// Prints run events on standard error: a refreshing progress line on a terminal
/// (points done/total, ETA, the latest status), plain lines otherwise (one per
/// finished point, so logs of batch jobs stay readable). Failures and warnings are
/// always their own line, printed at once.
public final class StderrProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let isTerminal: Bool
    private let write: (String) -> Void
    private var lineOpen = false
    /// When the status line was last redrawn: point statuses redraw it at most 10 times a second.
    private var lastStatus = ContinuousClock.now - .seconds(1)

    /// `write` receives the exact text (default: standard error).
    public init(isTerminal: Bool = isatty(2) == 1,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.isTerminal = isTerminal
        self.write = write
    }

    /// A fresh printer as an event sink.
    public static func events(isTerminal: Bool = isatty(2) == 1) -> @Sendable (RunEvent) -> Void {
        let progress = StderrProgress(isTerminal: isTerminal)
        return { progress.handle($0) }
    }

    public func handle(_ event: RunEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case let .started(folder, total, resumed, toRun):
            line("run: \(folder): \(total) points, \(resumed) already recorded, \(toRun) to run")
        case let .status(point, text):
            let now = ContinuousClock.now
            if isTerminal && now - lastStatus >= .milliseconds(100) {
                lastStatus = now
                transient("[\(point.id)] \(text)")
            }
        case let .pointFinished(point, seconds, done, toRun, eta):
            let text = "[\(done)/\(toRun)] \(point.id) ok in \(formatDuration(seconds)), ETA \(formatDuration(eta))"
            if isTerminal { transient(text) } else { line(text) }
        case let .pointFailed(point, error, done, toRun):
            line("[\(done)/\(toRun)] \(point.id) FAILED: \(error)")
        case let .warning(text):
            line("warning: \(text)")
        case let .finished(summary):
            var text = "run: \(summary.folder): \(summary.ran) run, \(summary.resumed) resumed"
            if !summary.failed.isEmpty { text += ", \(summary.failed.count) FAILED (points \(summary.failed.map(String.init).joined(separator: ", ")))" }
            if summary.tablesWritten { text += "; tables written" }
            else if !summary.missing.isEmpty { text += "; \(summary.missing.count) points not here, no tables (merge the shards)" }
            line(text)
        }
    }

    private func transient(_ text: String) {
        write("\r\u{1B}[K" + String(text.prefix(160)))
        lineOpen = true
    }

    private func line(_ text: String) {
        write((lineOpen ? "\r\u{1B}[K" : "") + text + "\n")
        lineOpen = false
    }
}

/// "850ms", "12.3s", "4m05s", "2h03m".
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
    if seconds < 60 { return String(format: "%.1fs", seconds) }
    let s = Int(seconds.rounded())
    if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
}
