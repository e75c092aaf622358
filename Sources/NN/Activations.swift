import Tensor

/// An activation `Sequential` may fuse into the batch norm before it: min(max(x, 0), cap).
protocol FusableActivation: Layer {
    var cap: Float { get }
    /// Records that the pass ran fused (the batch norm computed this layer's output and
    /// will apply its backward): nothing is cached, and `backward` must not be called.
    func forwardFused()
}

/// max(x, 0), elementwise, any shape. Backward uses the cached output's support.
public final class ReLU: Layer, FusableActivation {
    private var cachedOutput: Tensor?
    private var computesInputGradient = true

    public init() {}

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let y = clampedReLUForward(input)
        cachedOutput = mode.isTraining ? y : nil
        computesInputGradient = mode.computesInputGradient
        return y
    }

    var cap: Float { .infinity }
    func forwardFused() { cachedOutput = nil }

    public func backward(_ dOutput: Tensor) -> Tensor? {
        guard let y = cachedOutput else { preconditionFailure("ReLU.backward without a training forward") }
        cachedOutput = nil
        return computesInputGradient ? clampedReLUBackward(dOutput: dOutput, output: y) : nil
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    /// One comparison per element each way.
    public func cost(for inputShape: [Int]) -> LayerCost {
        let e = Tensor.count(of: inputShape)
        return LayerCost(forward: e, backwardInput: e)
    }
}

/// min(max(x, 0), 6), elementwise (MobileNetV2). The gradient is 1 on 0 < x < 6.
public final class ReLU6: Layer, FusableActivation {
    private var cachedOutput: Tensor?
    private var computesInputGradient = true

    public init() {}

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let y = clampedReLUForward(input, cap: 6)
        cachedOutput = mode.isTraining ? y : nil
        computesInputGradient = mode.computesInputGradient
        return y
    }

    var cap: Float { 6 }
    func forwardFused() { cachedOutput = nil }

    public func backward(_ dOutput: Tensor) -> Tensor? {
        guard let y = cachedOutput else { preconditionFailure("ReLU6.backward without a training forward") }
        cachedOutput = nil
        return computesInputGradient ? clampedReLUBackward(dOutput: dOutput, output: y, cap: 6) : nil
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public func cost(for inputShape: [Int]) -> LayerCost {
        let e = Tensor.count(of: inputShape)
        return LayerCost(forward: 2 * e, backwardInput: 2 * e)
    }
}
