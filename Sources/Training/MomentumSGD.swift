import NN
import Tensor

/// SGD with momentum and L2 weight decay, torch.optim.SGD semantics (the same
/// `sgdUpdate` kernel as NN's `SGD`, so the same updates bit for bit), with its state
/// exposed so a resume file can save and restore it. NN's `SGD` keeps its momentum
/// buffers private.
public final class MomentumSGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float, weightDecay: Float
    /// One buffer per parameter, same element count as the parameter.
    public var momentumBuffers: [[Float]]
    /// Whether a parameter has had its first update (its buffer then holds a gradient).
    public var started: [Bool]

    public init(parameters: [Parameter], learningRate: Float, momentum: Float, weightDecay: Float) {
        precondition(momentum > 0, "MomentumSGD needs momentum > 0")
        self.parameters = parameters; self.learningRate = learningRate
        self.momentum = momentum; self.weightDecay = weightDecay
        momentumBuffers = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        started = [Bool](repeating: false, count: parameters.count)
    }

    public func step() {
        for (i, p) in parameters.enumerated() where p.isTrainable {
            sgdUpdate(value: &p.value.scalars, gradient: p.gradient.scalars, momentumBuffer: &momentumBuffers[i],
                      learningRate: learningRate, momentum: momentum, dampening: 0, weightDecay: weightDecay,
                      nesterov: false, firstStep: !started[i])
            started[i] = true
        }
    }
}
