import Foundation
import Tensor

/// 2-D convolution (cross-correlation, as in PyTorch) over NCHW input.
///
/// Weight is OIHW: (outChannels, inChannels / groups, kernelHeight, kernelWidth); bias is
/// (outChannels). `groups == inChannels == outChannels` is a depthwise convolution.
/// Initialisation: Kaiming normal, std = sqrt(2 / fan_in) with fan_in = (C / G) * R * S
/// (He et al. 2015), bias zero.
public final class Conv2d: Layer {
    public let inChannels: Int, outChannels: Int
    public let kernelSize: (Int, Int), stride: (Int, Int), padding: (Int, Int), groups: Int
    public let weight: Parameter
    public let bias: Parameter?

    // Cached by a training forward for backward (the input's Winograd transform where the
    // weight gradient will need it and keeping it pays: `conv2dKeepsInputTransform`).
    var cachedInput: Tensor?
    private var cachedInputTransform: Conv2dInputTransform?
    private var cachedGeometry: Conv2dGeometry?
    private var computesInputGradient = true

    public init(inChannels: Int, outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), groups: Int = 1, bias: Bool = false,
                generator: inout SeededGenerator) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "channels \(inChannels)->\(outChannels) not divisible by groups \(groups)")
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding; self.groups = groups
        let shape = [outChannels, inChannels / groups, kernelSize.0, kernelSize.1]
        let std = Float((2.0 / Double(shape[1] * shape[2] * shape[3])).squareRoot())
        let scalars = (0..<Tensor.count(of: shape)).map { _ in generator.nextNormal() * std }
        weight = Parameter(name: "weight", value: Tensor(shape: shape, scalars: scalars))
        self.bias = bias ? Parameter(name: "bias", value: Tensor(zeros: [outChannels])) : nil
    }

    /// Square kernel, stride and padding.
    public convenience init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
                            padding: Int = 0, groups: Int = 1, bias: Bool = false,
                            generator: inout SeededGenerator) {
        self.init(inChannels: inChannels, outChannels: outChannels, kernelSize: (kernelSize, kernelSize),
                  stride: (stride, stride), padding: (padding, padding), groups: groups, bias: bias,
                  generator: &generator)
    }

    func geometry(for inputShape: [Int]) -> Conv2dGeometry {
        precondition(inputShape.count == 4 && inputShape[1] == inChannels,
                     "Conv2d(\(inChannels)->\(outChannels)) got input \(inputShape)")
        return Conv2dGeometry(batch: inputShape[0], inChannels: inChannels, height: inputShape[2],
                              width: inputShape[3], outChannels: outChannels, kernelSize: kernelSize,
                              stride: stride, padding: padding, groups: groups)
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        let g = geometry(for: input.shape)
        cachedInputTransform = nil
        guard mode.isTraining else {
            cachedInput = nil; cachedGeometry = nil
            return conv2dForward(input: input, weight: weight.value, bias: bias?.value, geometry: g)
        }
        cachedInput = input; cachedGeometry = g; computesInputGradient = mode.computesInputGradient
        guard weight.isTrainable, conv2dKeepsInputTransform(g) else {
            return conv2dForward(input: input, weight: weight.value, bias: bias?.value, geometry: g)
        }
        let (output, transform) = conv2dForwardKeepingInputTransform(input: input, weight: weight.value,
                                                                     bias: bias?.value, geometry: g)
        cachedInputTransform = transform
        return output
    }

    /// An inference forward with `epilogue` (the batch norm, activation or residual join
    /// after this layer) applied to the output while it is in cache.
    func forwardInference(_ input: Tensor, epilogue: ConvolutionEpilogue) -> Tensor {
        cachedInputTransform = nil; cachedInput = nil; cachedGeometry = nil
        return conv2dForward(input: input, weight: weight.value, bias: bias?.value, geometry: geometry(for: input.shape),
                             epilogue: epilogue)
    }

    public func backward(_ dOutput: Tensor) -> Tensor? {
        guard let input = cachedInput, let g = cachedGeometry else {
            preconditionFailure("Conv2d.backward without a training forward")
        }
        precondition(dOutput.shape == g.outputShape, "dOutput \(dOutput.shape) vs \(g.outputShape)")
        if let bias, bias.isTrainable { addChannelSums(of: dOutput, into: &bias.gradient.scalars) }
        let transform = cachedInputTransform
        cachedInput = nil; cachedInputTransform = nil
        switch (weight.isTrainable, computesInputGradient) {
        case (true, true):
            // One call for both gradients: where both run Winograd, dOutput is transformed once.
            return conv2dBackward(dOutput: dOutput, input: input, weight: weight.value, geometry: g,
                                  accumulatingInto: &weight.gradient, inputTransform: transform)
        case (true, false):
            conv2dBackwardWeight(dOutput: dOutput, input: input, geometry: g, accumulatingInto: &weight.gradient,
                                 inputTransform: transform)
            return nil
        case (false, true):
            return conv2dBackwardInput(dOutput: dOutput, weight: weight.value, geometry: g)
        case (false, false):
            return nil
        }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [(name: "weight", parameter: weight)] + (bias.map { [(name: "bias", parameter: $0)] } ?? [])
    }

    public func outputShape(for inputShape: [Int]) -> [Int] { geometry(for: inputShape).outputShape }

    /// Forward 2 * MACs (+ one add per output for the bias); dInput and dWeight the same MACs.
    public func cost(for inputShape: [Int]) -> LayerCost {
        let g = geometry(for: inputShape)
        let outputs = Tensor.count(of: g.outputShape)
        let biasAdds = bias == nil ? 0 : outputs
        return LayerCost(forward: g.forwardFLOPs + biasAdds, backwardInput: g.forwardFLOPs,
                         backwardWeight: g.forwardFLOPs + biasAdds)
    }
}
