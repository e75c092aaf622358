import Foundation
import Tensor

/// Fully connected layer: y = x W^T + b with x (N, I), W (O, I), b (O), y (N, O).
/// Initialisation as PyTorch's nn.Linear: W and b uniform in [-1/sqrt(I), 1/sqrt(I)).
public final class Linear: Layer {
    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var cachedInput: Tensor?
    private var computesInputGradient = true

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, generator: inout SeededGenerator) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        let bound = Float(1 / Double(inFeatures).squareRoot())
        let w = (0..<(inFeatures * outFeatures)).map { _ in (2 * generator.nextUniform() - 1) * bound }
        weight = Parameter(name: "weight", value: Tensor(shape: [outFeatures, inFeatures], scalars: w))
        self.bias = bias
            ? Parameter(name: "bias", value: Tensor(shape: [outFeatures],
                                                    scalars: (0..<outFeatures).map { _ in (2 * generator.nextUniform() - 1) * bound }))
            : nil
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inFeatures,
                     "Linear(\(inFeatures)->\(outFeatures)) got input \(input.shape); flatten first")
        cachedInput = mode.isTraining ? input : nil
        computesInputGradient = mode.computesInputGradient
        return linearForward(input: input, weight: weight.value, bias: bias?.value)
    }

    public func backward(_ dOutput: Tensor) -> Tensor? {
        guard let input = cachedInput else { preconditionFailure("Linear.backward without a training forward") }
        cachedInput = nil
        if weight.isTrainable {
            linearBackwardWeight(dOutput: dOutput, input: input, accumulatingInto: &weight.gradient)
        }
        if let bias, bias.isTrainable {
            linearBackwardBias(dOutput: dOutput, accumulatingInto: &bias.gradient)
        }
        return computesInputGradient ? linearBackwardInput(dOutput: dOutput, weight: weight.value) : nil
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [(name: "weight", parameter: weight)] + (bias.map { [(name: "bias", parameter: $0)] } ?? [])
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { [inputShape[0], outFeatures] }

    /// 2 * N * I * O each way, plus N * O adds for the bias.
    public func cost(for inputShape: [Int]) -> LayerCost {
        let macs2 = 2 * inputShape[0] * inFeatures * outFeatures
        let biasAdds = bias == nil ? 0 : inputShape[0] * outFeatures
        return LayerCost(forward: macs2 + biasAdds, backwardInput: macs2, backwardWeight: macs2 + biasAdds)
    }
}

/// (N, d1, d2, ...) -> (N, d1 * d2 * ...), a view: no data moves either way.
public final class Flatten: Layer {
    private var cachedShape: [Int]?
    private var computesInputGradient = true

    public init() {}

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        cachedShape = mode.isTraining ? input.shape : nil
        computesInputGradient = mode.computesInputGradient
        return input.reshaped(outputShape(for: input.shape))
    }

    public func backward(_ dOutput: Tensor) -> Tensor? {
        guard let shape = cachedShape else { preconditionFailure("Flatten.backward without a training forward") }
        cachedShape = nil
        return computesInputGradient ? dOutput.reshaped(shape) : nil
    }

    public func outputShape(for inputShape: [Int]) -> [Int] {
        [inputShape[0], inputShape.dropFirst().reduce(1, *)]
    }
}

/// Inverted dropout: in training, each element is zeroed with probability p and the rest
/// scaled by 1 / (1 - p), so inference is the identity. The mask comes from the layer's
/// own SeededGenerator, so a seed fixes every mask of a run.
public final class Dropout: Layer {
    public let probability: Float
    private var generator: SeededGenerator
    private var cachedMask: [Float]?
    private var computesInputGradient = true

    public init(probability: Float, generator: SeededGenerator) {
        precondition(probability >= 0 && probability < 1, "dropout probability \(probability) not in [0, 1)")
        self.probability = probability
        self.generator = generator
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        computesInputGradient = mode.computesInputGradient
        guard mode.isTraining, probability > 0 else {
            cachedMask = mode.isTraining ? [Float](repeating: 1, count: input.count) : nil
            return input
        }
        let keep = 1 / (1 - probability)
        let mask = (0..<input.count).map { _ in generator.nextUniform() < probability ? 0 : keep }
        cachedMask = mask
        var y = input
        for i in 0..<y.count { y.scalars[i] *= mask[i] }
        return y
    }

    public func backward(_ dOutput: Tensor) -> Tensor? {
        guard let mask = cachedMask else { preconditionFailure("Dropout.backward without a training forward") }
        cachedMask = nil
        guard computesInputGradient else { return nil }
        var dx = dOutput
        for i in 0..<dx.count { dx.scalars[i] *= mask[i] }
        return dx
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { inputShape }
    public func cost(for inputShape: [Int]) -> LayerCost {
        let e = Tensor.count(of: inputShape)
        return LayerCost(forward: e, backwardInput: e)
    }
}
