import Tensor

/// Max pooling over NCHW (PyTorch MaxPool2d, floor mode). Stride defaults to the kernel.
public final class MaxPool2d: Layer {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    private var cache: (argmax: [Int32], geometry: Pool2dGeometry)?
    private var computesInputGradient = true

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = (kernelSize, kernelSize)
        self.stride = (stride ?? kernelSize, stride ?? kernelSize)
        self.padding = (padding, padding)
    }

    func geometry(for shape: [Int]) -> Pool2dGeometry {
        Pool2dGeometry(inputShape: shape, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let g = geometry(for: input.shape)
        let (y, argmax) = maxPool2dForward(input, geometry: g)
        cache = mode.isTraining ? (argmax, g) : nil
        computesInputGradient = mode.computesInputGradient
        return y
    }

    public func backward(_ dOutput: Tensor) -> Tensor? {
        guard let (argmax, g) = cache else { preconditionFailure("MaxPool2d.backward without a training forward") }
        cache = nil
        return computesInputGradient ? maxPool2dBackward(dOutput: dOutput, argmax: argmax, geometry: g) : nil
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { geometry(for: inputShape).outputShape }
    /// One comparison per window element; backward one add per output.
    public func cost(for inputShape: [Int]) -> LayerCost {
        let outputs = Tensor.count(of: outputShape(for: inputShape))
        return LayerCost(forward: outputs * kernelSize.0 * kernelSize.1, backwardInput: outputs)
    }
}

/// Average pooling over NCHW (PyTorch AvgPool2d, floor mode, count_include_pad=True).
public final class AvgPool2d: Layer {
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    private var cachedGeometry: Pool2dGeometry?
    private var computesInputGradient = true

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.kernelSize = (kernelSize, kernelSize)
        self.stride = (stride ?? kernelSize, stride ?? kernelSize)
        self.padding = (padding, padding)
    }

    func geometry(for shape: [Int]) -> Pool2dGeometry {
        Pool2dGeometry(inputShape: shape, kernelSize: kernelSize, stride: stride, padding: padding)
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let g = geometry(for: input.shape)
        cachedGeometry = mode.isTraining ? g : nil
        computesInputGradient = mode.computesInputGradient
        return avgPool2dForward(input, geometry: g)
    }

    public func backward(_ dOutput: Tensor) -> Tensor? {
        guard let g = cachedGeometry else { preconditionFailure("AvgPool2d.backward without a training forward") }
        cachedGeometry = nil
        return computesInputGradient ? avgPool2dBackward(dOutput: dOutput, geometry: g) : nil
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { geometry(for: inputShape).outputShape }
    /// One add per window element each way.
    public func cost(for inputShape: [Int]) -> LayerCost {
        let work = Tensor.count(of: outputShape(for: inputShape)) * kernelSize.0 * kernelSize.1
        return LayerCost(forward: work, backwardInput: work)
    }
}

/// Mean over H and W: (N, C, H, W) -> (N, C), ready for `Linear`.
public final class GlobalAvgPool: Layer {
    private var cachedInputShape: [Int]?
    private var computesInputGradient = true

    public init() {}

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        cachedInputShape = mode.isTraining ? input.shape : nil
        computesInputGradient = mode.computesInputGradient
        return globalAvgPoolForward(input)
    }

    public func backward(_ dOutput: Tensor) -> Tensor? {
        guard let shape = cachedInputShape else { preconditionFailure("GlobalAvgPool.backward without a training forward") }
        cachedInputShape = nil
        return computesInputGradient ? globalAvgPoolBackward(dOutput: dOutput, inputShape: shape) : nil
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], inputShape[1]] }
    public func cost(for inputShape: [Int]) -> LayerCost {
        let e = Tensor.count(of: inputShape)
        return LayerCost(forward: e, backwardInput: e)
    }
}

/// The Shallow-Deep-Networks mixed pooling (Kaya et al. 2019, official code's
/// `InternalClassifier.forward_w_pooling`): y = a * maxpool(x) + (1 - a) * avgpool(x) with
/// one learned, unconstrained scalar `alpha` (shape (1), initialised U[0, 1) as torch.rand(1)),
/// kernel = stride. SDN picks kernel = floor(size / 4) so a map of size >= 4 pools to about 4x4.
public final class MixedPool2d: Layer {
    public let kernelSize: Int, stride: Int
    public let alpha: Parameter
    private var cache: (max: Tensor, avg: Tensor, argmax: [Int32], geometry: Pool2dGeometry)?
    private var computesInputGradient = true

    public init(kernelSize: Int, stride: Int? = nil, generator: inout SeededGenerator) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        alpha = Parameter(name: "alpha", value: Tensor(shape: [1], scalars: [generator.nextUniform()]))
    }

    /// SDN's feature reduction: kernel floor(size / 4) for maps of size >= 4.
    public static func sdnKernelSize(forMapSize size: Int) -> Int? { size >= 4 ? size / 4 : nil }

    func geometry(for shape: [Int]) -> Pool2dGeometry {
        Pool2dGeometry(inputShape: shape, kernelSize: (kernelSize, kernelSize), stride: (stride, stride))
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let g = geometry(for: input.shape)
        let (mx, argmax) = maxPool2dForward(input, geometry: g)
        let avg = avgPool2dForward(input, geometry: g)
        let a = alpha.value.scalars[0]
        var y = mx
        for i in 0..<y.count { y.scalars[i] = a * mx.scalars[i] + (1 - a) * avg.scalars[i] }
        cache = mode.isTraining ? (mx, avg, argmax, g) : nil
        computesInputGradient = mode.computesInputGradient
        return y
    }

    /// dAlpha = sum dy * (max - avg); dx = maxpool'(a * dy) + avgpool'((1 - a) * dy).
    public func backward(_ dOutput: Tensor) -> Tensor? {
        guard let c = cache else { preconditionFailure("MixedPool2d.backward without a training forward") }
        cache = nil
        let a = alpha.value.scalars[0]
        if alpha.isTrainable {
            var s: Double = 0
            for i in 0..<dOutput.count { s += Double(dOutput.scalars[i]) * Double(c.max.scalars[i] - c.avg.scalars[i]) }
            alpha.gradient.scalars[0] += Float(s)
        }
        guard computesInputGradient else { return nil }
        var dMax = dOutput, dAvg = dOutput
        for i in 0..<dOutput.count { dMax.scalars[i] *= a; dAvg.scalars[i] *= 1 - a }
        let fromMax = maxPool2dBackward(dOutput: dMax, argmax: c.argmax, geometry: c.geometry)
        let fromAvg = avgPool2dBackward(dOutput: dAvg, geometry: c.geometry)
        return addForward(fromMax, fromAvg, relu: false)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [(name: "alpha", parameter: alpha)] }

    public func outputShape(for inputShape: [Int]) -> [Int] { geometry(for: inputShape).outputShape }
    /// Both pools plus one multiply-add per output to mix them.
    public func cost(for inputShape: [Int]) -> LayerCost {
        let outputs = Tensor.count(of: outputShape(for: inputShape)), k2 = kernelSize * kernelSize
        return LayerCost(forward: 2 * outputs * k2 + 3 * outputs, backwardInput: outputs * (k2 + 3),
                         backwardWeight: 2 * outputs)
    }
}
