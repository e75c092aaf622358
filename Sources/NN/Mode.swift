/// How a forward pass runs. An explicit argument, never global state.
///
/// - `inference`: no activations are kept; batch norm uses running statistics; dropout is
///   the identity. `backward` may not follow.
/// - training: activations needed by backward are kept; batch norm uses batch statistics
///   (unless all its parameters are frozen); dropout samples a mask.
///   `computesInputGradient` says whether backward will be asked for dInput. When it is
///   false, a container runs its leading frozen children as inference and its backward
///   stops at the first trainable child, whose input gradient is skipped too.
public struct Mode: Equatable, Hashable, Sendable {
    public var isTraining: Bool
    public var computesInputGradient: Bool

    /// Evaluation: nothing cached, no backward.
    public static let inference = Mode(isTraining: false, computesInputGradient: false)
    /// Training with dInput returned by backward (the safe default for any layer).
    public static let training = Mode(isTraining: true, computesInputGradient: true)

    /// Training where the caller does (`true`) or does not (`false`) need dInput.
    /// The top of a network uses `.training(inputGradient: false)`: images need no gradient.
    public static func training(inputGradient: Bool) -> Mode {
        Mode(isTraining: true, computesInputGradient: inputGradient)
    }
}
