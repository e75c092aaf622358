import Tensor

/// Updates parameters from their accumulated gradients. Optimizer state lives here, never
/// in the layers; frozen parameters are skipped (their state is left untouched).
public protocol Optimizer: AnyObject {
    /// The parameters, in a fixed order (state is kept per index).
    var parameters: [Parameter] { get }
    var learningRate: Float { get set }
    /// Applies one update with the current gradients (the caller zeroes them afterwards).
    func step()
}

/// Stochastic gradient descent with PyTorch's torch.optim.SGD semantics: L2 weight decay
/// added to the gradient, momentum buffer initialised to the first gradient, optional
/// dampening and Nesterov momentum. Its state is public so a resume file can save and
/// restore it (docs/training.md).
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    /// One momentum buffer per parameter (same element count; empty when momentum is 0).
    public var buffers: [[Float]]
    /// Whether a parameter has had its first update (its buffer then holds a gradient).
    public var started: [Bool]

    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov needs momentum > 0 and no dampening")
        self.parameters = parameters; self.learningRate = learningRate
        self.momentum = momentum; self.dampening = dampening; self.weightDecay = weightDecay; self.nesterov = nesterov
        buffers = parameters.map { momentum == 0 ? [] : [Float](repeating: 0, count: $0.value.count) }
        started = [Bool](repeating: false, count: parameters.count)
    }

    public func step() {
        for (i, p) in parameters.enumerated() where p.isTrainable {
            sgdUpdate(value: &p.value.scalars, gradient: p.gradient.scalars, momentumBuffer: &buffers[i],
                      learningRate: learningRate, momentum: momentum, dampening: dampening,
                      weightDecay: weightDecay, nesterov: nesterov, firstStep: !started[i])
            started[i] = true
        }
    }
}

/// Adam (Kingma & Ba 2015) with PyTorch's semantics; `decoupledWeightDecay` gives AdamW
/// (Loshchilov & Hutter 2019), otherwise weight decay is L2 added to the gradient.
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float, decoupledWeightDecay: Bool
    private var firstMoments: [[Float]], secondMoments: [[Float]]
    private var steps: [Int]

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                eps: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.parameters = parameters; self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay; self.decoupledWeightDecay = decoupledWeightDecay
        firstMoments = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        secondMoments = firstMoments
        steps = [Int](repeating: 0, count: parameters.count)
    }

    /// AdamW with PyTorch's default weight decay of 0.01.
    public static func adamW(parameters: [Parameter], learningRate: Float = 1e-3, weightDecay: Float = 0.01) -> Adam {
        Adam(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func step() {
        for (i, p) in parameters.enumerated() where p.isTrainable {
            steps[i] += 1
            adamUpdate(value: &p.value.scalars, gradient: p.gradient.scalars, firstMoment: &firstMoments[i],
                       secondMoment: &secondMoments[i], learningRate: learningRate, beta1: beta1, beta2: beta2,
                       eps: eps, weightDecay: weightDecay, decoupled: decoupledWeightDecay, step: steps[i])
        }
    }
}
