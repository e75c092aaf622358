import Foundation

/// A learning-rate schedule as a function of the step index (0-based), composable:
/// `.warmup(steps: 5, then: .cosine(base: 0.1, steps: 95))`.
public indirect enum LearningRateSchedule: Equatable, Sendable {
    /// A fixed rate.
    case constant(Float)
    /// base * factor^(step / every) (PyTorch StepLR).
    case step(base: Float, every: Int, factor: Float)
    /// base * factor^(number of milestones <= step) (PyTorch MultiStepLR).
    case multiStep(base: Float, milestones: [Int], factor: Float)
    /// floor + (base - floor) * (1 + cos(pi * step / steps)) / 2, then floor (PyTorch CosineAnnealingLR).
    case cosine(base: Float, steps: Int, floor: Float = 0)
    /// Linear warm-up: inner(0) * (step + 1) / steps for the first `steps` steps, then
    /// `inner` restarted from its step 0.
    case warmup(steps: Int, then: LearningRateSchedule)

    public func learningRate(at step: Int) -> Float {
        precondition(step >= 0, "negative step \(step)")
        switch self {
        case .constant(let lr):
            return lr
        case .step(let base, let every, let factor):
            precondition(every > 0)
            return base * Float(pow(Double(factor), Double(step / every)))
        case .multiStep(let base, let milestones, let factor):
            return base * Float(pow(Double(factor), Double(milestones.filter { $0 <= step }.count)))
        case .cosine(let base, let steps, let floor):
            precondition(steps > 0)
            guard step < steps else { return floor }
            return floor + (base - floor) * Float((1 + cos(Double.pi * Double(step) / Double(steps))) / 2)
        case .warmup(let steps, let inner):
            guard step < steps else { return inner.learningRate(at: step - steps) }
            return inner.learningRate(at: 0) * Float(step + 1) / Float(steps)
        }
    }
}
