import Foundation

/// What a run reports while it goes, in the order it happens. A run's work is its units
/// (`WorkUnit`: one simulated user under one method); points are assembled from them.
public enum RunEvent: Sendable {
    /// `units` units in this shard for `points` points: `reused` already in the store,
    /// `toRun` to compute.
    case started(folder: String, points: Int, units: Int, reused: Int, toRun: Int)
    /// A unit's own status line (`PointProgress.report`).
    case status(unit: String, text: String)
    /// `done` of `toRun` computed; `eta` seconds left, from the mean unit time so far.
    case unitFinished(unit: String, seconds: Double, done: Int, toRun: Int, eta: Double)
    /// Reported the moment the unit fails; the other units go on.
    case unitFailed(unit: String, error: String, done: Int, toRun: Int)
    /// Information, not a problem (such as "up to date: nothing to run").
    case notice(String)
    case warning(String)
    case finished(RunSummary)
}

/// The outcome of a run or merge; `failed` or `missing` points make it unsuccessful.
public struct RunSummary: Sendable, Equatable {
    public var folder: String
    /// Points of the spec (all of them, whatever the shard).
    public var total: Int
    /// Units of this shard read from the store, and computed by this run.
    public var reused: Int
    public var ran: Int
    /// Points that failed (a unit of theirs failed, or their rows could not be built).
    public var failed: [Int]
    /// Points of the spec with no ok record in the folder (other shards', or failed).
    public var missing: [Int]
    /// Units of this shard that failed.
    public var failedUnits: Int = 0
    public var tablesWritten: Bool

    /// True when every point and unit this run was responsible for finished ok.
    public var succeeded: Bool { failed.isEmpty && failedUnits == 0 }
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
        case let .started(folder, points, units, reused, toRun):
            line("run: \(folder): \(points) points, \(units) units: \(reused) reused from the store, \(toRun) to compute")
        case let .status(unit, text):
            let now = ContinuousClock.now
            if isTerminal && now - lastStatus >= .milliseconds(100) {
                lastStatus = now
                transient("[\(unit)] \(text)")
            }
        case let .unitFinished(unit, seconds, done, toRun, eta):
            let text = "[\(done)/\(toRun)] \(unit) ok in \(formatDuration(seconds)), ETA \(formatDuration(eta))"
            if isTerminal { transient(text) } else { line(text) }
        case let .unitFailed(unit, error, done, toRun):
            line("[\(done)/\(toRun)] \(unit) FAILED: \(error)")
        case let .notice(text):
            line(text)
        case let .warning(text):
            line("warning: \(text)")
        case let .finished(summary):
            var text = "run: \(summary.folder): \(summary.ran) units computed, \(summary.reused) reused"
            if summary.failedUnits > 0 { text += ", \(summary.failedUnits) units FAILED" }
            if !summary.failed.isEmpty { text += ", \(summary.failed.count) points FAILED (\(summary.failed.map(String.init).joined(separator: ", ")))" }
            if summary.tablesWritten { text += "; tables written" }
            else if !summary.missing.isEmpty { text += "; \(summary.missing.count) points incomplete here, no tables (merge the shards)" }
            line(text)
        }
    }

    /// Redraws the status row, cut to the terminal's width so it never wraps (a wrapped
    /// row would be left behind by every redraw).
    private func transient(_ text: String) {
        write("\r\u{1B}[K" + String(text.prefix(max(20, terminalColumns() - 1))))
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

/// Columns of the terminal on standard error (`COLUMNS`, else the ioctl), 80 when unknown.
func terminalColumns() -> Int {
    var size = winsize()
    if ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    if let text = ProcessInfo.processInfo.environment["COLUMNS"], let n = Int(text), n > 0 { return n }
    return 80
}
