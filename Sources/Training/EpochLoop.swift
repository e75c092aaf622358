import NN
import Tensor

/// The training loop every trainer runs: pretraining, offline exits, exit personalisation
/// and whole-network fine-tuning. Per epoch e a shuffled order drawn from
/// `SeededGenerator(seed).derived(e + 1)`, the fixed batches of `Batches.ranges`, the
/// schedule's learning rate at step `e * stepsPerEpoch + b`, the mean loss per epoch over
/// the samples trained, and a stop at the first non-finite loss (before the update is
/// applied, so the model is left as it was after the last finite step).
public struct EpochLoop {
    public let count: Int
    public let epochs: Int
    public let seed: UInt64
    /// Batch ranges of one epoch (into the shuffled order).
    public let batches: [Range<Int>]
    public let schedule: LearningRateSchedule

    /// `schedule` receives the number of steps per epoch.
    public init(count: Int, batchSize: Int, epochs: Int, seed: UInt64,
                schedule: (_ stepsPerEpoch: Int) -> LearningRateSchedule) {
        self.count = count
        self.epochs = epochs
        self.seed = seed
        batches = Batches.ranges(count: count, batchSize: batchSize, training: true)
        self.schedule = schedule(batches.count)
    }

    /// A cosine schedule from `base` to 0 over every step of the loop (at least one).
    public static func cosine(base: Float, epochs: Int) -> (Int) -> LearningRateSchedule {
        { stepsPerEpoch in .cosine(base: base, steps: max(1, epochs * stepsPerEpoch)) }
    }

    public var stepsPerEpoch: Int { batches.count }

    /// One batch: its epoch and index in the epoch (0-based), the sample indices, the rate.
    public struct Step {
        public let epoch: Int
        public let index: Int
        public let indices: ArraySlice<Int>
        public let learningRate: Float
    }

    /// What a step did: nothing (no sample carried a training signal), or a mean loss per
    /// sample with the update to apply when that loss is finite.
    public enum StepResult {
        case skipped
        case loss(Double, commit: () -> Void)
    }

    /// An epoch's end: its index, the mean loss over the samples trained (0 when none).
    public struct EpochEnd {
        public let epoch: Int
        public let meanLoss: Double
        public let samples: Int
    }

    public struct Outcome {
        public var steps = 0
        public var trainedSamples = 0
        public var skipped = 0
        /// Mean loss per finished epoch.
        public var epochLosses: [Double] = []
        /// Where training stopped on a non-finite loss, nil when it did not.
        public var diverged: String?
    }

    /// Runs epochs `start..<epochs`. `step` gets the epoch's generator after the shuffle
    /// (for augmentation draws); `endOfEpoch` returns false to stop after that epoch.
    public func run(from start: Int = 0, step: (Step, inout SeededGenerator) throws -> StepResult,
                    endOfEpoch: (EpochEnd) throws -> Bool = { _ in true }) throws -> Outcome {
        var outcome = Outcome()
        training: for epoch in start..<epochs {
            var generator = SeededGenerator(seed: seed).derived(UInt64(epoch + 1))
            let order = Batches.shuffledOrder(count: count, generator: &generator)
            var lossSum = 0.0, seen = 0
            for (b, range) in batches.enumerated() {
                let batch = Step(epoch: epoch, index: b, indices: order[range],
                                 learningRate: schedule.learningRate(at: epoch * batches.count + b))
                switch try step(batch, &generator) {
                case .skipped:
                    outcome.skipped += 1
                case let .loss(loss, commit):
                    guard loss.isFinite else {
                        outcome.diverged = "training diverged (non-finite loss) at epoch \(epoch + 1), batch \(b + 1); "
                            + "stopped there: lower the learning rate"
                        break training
                    }
                    commit()
                    outcome.steps += 1
                    outcome.trainedSamples += range.count
                    lossSum += loss * Double(range.count)
                    seen += range.count
                }
            }
            let meanLoss = seen == 0 ? 0 : lossSum / Double(seen)
            outcome.epochLosses.append(meanLoss)
            if try !endOfEpoch(EpochEnd(epoch: epoch, meanLoss: meanLoss, samples: seen)) { break }
        }
        return outcome
    }
}
