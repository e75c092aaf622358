import Tensor

/// Batch normalisation over the channels of NCHW input (Ioffe & Szegedy 2015), PyTorch
/// conventions: parameters `weight` (gamma) and `bias` (beta), both (C); buffers
/// `running_mean`, `running_var` (C) and `num_batches_tracked` (scalar, I64 in checkpoints).
///
/// Training: normalise with the batch mean and biased variance, and update
/// running = (1 - momentum) * running + momentum * batch, using the unbiased variance
/// (M / (M - 1)) for `running_var`, M = N * H * W. Inference: use the running statistics.
/// A batch norm whose parameters are all frozen stays in inference behaviour even in a
/// training pass (frozen backbones keep their statistics), but still passes dInput back.
public final class BatchNorm2d: Layer {
    public let channels: Int
    public let eps: Float
    public let momentum: Float
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Buffer
    public let runningVar: Buffer
    public let batchesTracked: Buffer

    private enum Cache {
        case batch(input: Tensor, statistics: BatchNormStatistics)
        case running(scale: [Float])
    }
    private var cache: Cache?
    /// The output and cap of an activation fused into the last training forward.
    private var activation: (output: Tensor, cap: Float)?
    private var computesInputGradient = true

    public init(channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels; self.eps = eps; self.momentum = momentum
        weight = Parameter(name: "weight", value: Tensor(repeating: 1, shape: [channels]))
        bias = Parameter(name: "bias", value: Tensor(zeros: [channels]))
        runningMean = Buffer(name: "running_mean", value: Tensor(zeros: [channels]))
        runningVar = Buffer(name: "running_var", value: Tensor(repeating: 1, shape: [channels]))
        batchesTracked = Buffer(name: "num_batches_tracked", value: Tensor(zeros: []), storage: .int64)
    }

    /// Whether a training pass uses batch statistics (false when the layer is frozen).
    public var usesBatchStatistics: Bool { weight.isTrainable || bias.isTrainable }

    /// scale = gamma / sqrt(running_var + eps), shift = beta - running_mean * scale.
    private func runningAffine() -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            scale[c] = weight.value.scalars[c] / (runningVar.value.scalars[c] + eps).squareRoot()
            shift[c] = bias.value.scalars[c] - runningMean.value.scalars[c] * scale[c]
        }
        return (scale, shift)
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        forward(input, mode: mode, activationCap: nil)
    }

    /// This batch norm in evaluation mode (and the activation min(max(y, 0), cap) after it)
    /// as the epilogue of the convolution before it: what `Sequential` runs in an inference
    /// forward for conv, batch norm (, ReLU or ReLU6). The same bits as the layers apart.
    func inferenceEpilogue(activationCap: Float?) -> ConvolutionEpilogue {
        computesInputGradient = false
        activation = nil
        cache = nil
        let (scale, shift) = runningAffine()
        return ConvolutionEpilogue(scale: scale, shift: shift, activationCap: activationCap)
    }

    /// Batch norm followed by an activation min(max(y, 0), cap) (ReLU: .infinity, ReLU6: 6)
    /// in one pass when `activationCap` is set: what `Sequential` runs for a batch norm
    /// directly followed by `ReLU` or `ReLU6`. The next `backward` then takes the gradient
    /// at the activation's output and applies the activation's backward itself. Same bits
    /// as the two layers one after the other.
    func forward(_ input: Tensor, mode: Mode, activationCap: Float?) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels,
                     "BatchNorm2d(\(channels)) got input \(input.shape)")
        computesInputGradient = mode.computesInputGradient
        let output = normalize(input, mode: mode, activationCap: activationCap)
        activation = mode.isTraining ? activationCap.map { (output: output, cap: $0) } : nil
        return output
    }

    /// activation(batchNorm(input) + residual), ReLU when `reLU`: the last batch norm of a
    /// residual block's main branch and the block's join, which `Sequential` runs in one pass
    /// over memory in a training forward. The join's activation is the block's: the next
    /// `backward` takes the gradient at the join, as after a plain forward. Same bits as the
    /// batch norm and then `addForward`.
    func forward(_ input: Tensor, mode: Mode, joining residual: Tensor, reLU: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == channels,
                     "BatchNorm2d(\(channels)) got input \(input.shape)")
        computesInputGradient = mode.computesInputGradient
        activation = nil
        guard mode.isTraining, usesBatchStatistics else {
            return addForward(normalize(input, mode: mode, activationCap: nil), residual, relu: reLU)
        }
        return normalize(input, mode: mode, activationCap: reLU ? .infinity : nil, adding: residual)
    }

    private func normalize(_ input: Tensor, mode: Mode, activationCap: Float?, adding residual: Tensor? = nil) -> Tensor {
        guard mode.isTraining, usesBatchStatistics else {
            precondition(residual == nil, "the join runs fused only with batch statistics")
            let (scale, shift) = runningAffine()
            cache = mode.isTraining ? .running(scale: scale) : nil
            return channelAffine(input, scale: scale, shift: shift, activationCap: activationCap)
        }
        let (output, stats) = batchNormForwardTraining(input, gamma: weight.value.scalars,
                                                       beta: bias.value.scalars, eps: eps,
                                                       activationCap: activationCap, adding: residual)
        let m = Float(input.count / channels)
        let unbiased = m > 1 ? m / (m - 1) : 1
        for c in 0..<channels {
            runningMean.value.scalars[c] = (1 - momentum) * runningMean.value.scalars[c] + momentum * stats.mean[c]
            runningVar.value.scalars[c] = (1 - momentum) * runningVar.value.scalars[c]
                + momentum * stats.variance[c] * unbiased
        }
        batchesTracked.value.scalars[0] += 1
        cache = .batch(input: input, statistics: stats)
        return output
    }

    /// After a fused forward, `dOutput` is the gradient at the activation's output, masked
    /// here where the activation was off.
    public func backward(_ dOutput: Tensor) -> Tensor? {
        let activation = self.activation
        self.activation = nil
        switch cache {
        case .batch(let input, let stats):
            cache = nil
            let (dInput, dGamma, dBeta) = batchNormBackwardTraining(dOutput: dOutput, input: input,
                                                                    statistics: stats, gamma: weight.value.scalars,
                                                                    activation: activation)
            if weight.isTrainable { for c in 0..<channels { weight.gradient.scalars[c] += dGamma[c] } }
            if bias.isTrainable { for c in 0..<channels { bias.gradient.scalars[c] += dBeta[c] } }
            return computesInputGradient ? dInput : nil
        case .running(let scale):
            cache = nil
            return computesInputGradient ? channelAffine(dOutput, scale: scale, shift: nil, mask: activation) : nil
        case nil:
            preconditionFailure("BatchNorm2d.backward without a training forward")
        }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [(name: "weight", parameter: weight), (name: "bias", parameter: bias)]
    }

    public var namedBuffers: [(name: String, buffer: Buffer)] {
        [(name: "running_mean", buffer: runningMean), (name: "running_var", buffer: runningVar),
         (name: "num_batches_tracked", buffer: batchesTracked)]
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }

    /// Forward one multiply-add per element; dInput two (the reductions) plus one; dWeight one.
    public func cost(for inputShape: [Int]) -> LayerCost {
        let e = Tensor.count(of: inputShape)
        return LayerCost(forward: 2 * e, backwardInput: 4 * e, backwardWeight: 2 * e)
    }
}
