import Foundation

/// Progress of a training run, as the trainers report it to their caller (the CLI
/// draws it; tests ignore it).
public enum TrainingEvent: Sendable {
    /// Continuing from a resume file after `epochsDone` finished epochs.
    case resumed(file: String, epochsDone: Int)
    /// After each optimisation step.
    case step(StepProgress)
    /// After each finished epoch (and its test evaluation).
    case epoch(EpochSummary)
}

public struct StepProgress: Sendable {
    /// 1-based.
    public var epoch: Int, epochs: Int
    /// 1-based.
    public var step: Int, steps: Int
    /// Mean training loss and accuracy of the epoch so far (for exits: summed over heads,
    /// and the mean accuracy over heads).
    public var loss: Double, accuracy: Double
    public var imagesPerSecond: Double
    /// Seconds until the run ends at the current speed (test evaluations excluded).
    public var etaSeconds: Double
    public var learningRate: Float
}

public struct EpochSummary: Sendable {
    /// 1-based.
    public var epoch: Int, epochs: Int
    public var trainLoss: Double, trainAccuracy: Double
    /// Test accuracy per classifier, in network order (`final` for the backbone's own).
    public var testAccuracies: [(name: String, accuracy: Double)]
    public var seconds: Double
}

/// Wall-clock rate and ETA over a run.
struct Throughput {
    let start = Date()
    var images = 0

    func imagesPerSecond() -> Double {
        let t = Date().timeIntervalSince(start)
        return t > 0 ? Double(images) / t : 0
    }

    func eta(remainingImages: Int) -> Double {
        let rate = imagesPerSecond()
        return rate > 0 ? Double(remainingImages) / rate : 0
    }
}

/// Index of the largest value in each row of (N, K) scores (the first on ties).
func argmaxRows(_ scores: [Float], rows: Int, columns: Int) -> [Int] {
    (0..<rows).map { r in
        var best = 0
        for k in 1..<max(columns, 1) where scores[r * columns + k] > scores[r * columns + best] { best = k }
        return best
    }
}
