import Foundation
import Training

/// Draws training progress on stderr: on a terminal, one bar redrawn in place (at most
/// ten times a second) and a line per finished epoch; otherwise plain lines only, at each
/// quarter of an epoch and at its end, so logs stay readable.
final class TrainingProgressPrinter {
    let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastDraw = Date.distantPast
    private var lastQuarter = (epoch: 0, quarter: 0)
    private var barShown = false

    func handle(_ event: TrainingEvent) {
        switch event {
        case .resumed(let file, let done):
            line("resuming from \(file) after \(done) finished epoch(s)")
        case .step(let s):
            let text = String(format: "epoch %d/%d  step %d/%d  loss %.4f  acc %5.1f%%  lr %.4g  %.0f img/s  ETA %@",
                              s.epoch, s.epochs, s.step, s.steps, s.loss, 100 * s.accuracy, Double(s.learningRate),
                              s.imagesPerSecond, Self.duration(s.etaSeconds))
            if isTerminal {
                guard s.step == s.steps || Date().timeIntervalSince(lastDraw) >= 0.1 else { return }
                lastDraw = Date()
                let width = 20, filled = width * s.step / s.steps
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                write("\r\u{1B}[K[\(bar)] " + text)
                barShown = true
            } else {
                let quarter = 4 * s.step / s.steps
                guard quarter > 0, quarter < 4, (s.epoch, quarter) != lastQuarter else { return }
                lastQuarter = (s.epoch, quarter)
                line(text)
            }
        case .epoch(let e):
            let tests = e.testAccuracies.map { String(format: "%@ %.2f%%", $0.name, 100 * $0.accuracy) }.joined(separator: "  ")
            line(String(format: "epoch %d/%d  train loss %.4f  train acc %.2f%%  test %@  %.1f s",
                        e.epoch, e.epochs, e.trainLoss, 100 * e.trainAccuracy, tests, e.seconds))
        }
    }

    /// A full line, clearing the bar first when one is on screen.
    func line(_ text: String) {
        if barShown { write("\r\u{1B}[K"); barShown = false }
        write(text + "\n")
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}
