import Tensor

/// y = activation(main(x) + shortcut(x)): a ResNet basic block (main = conv-bn-relu-conv-bn,
/// activation ReLU) or a MobileNetV2 inverted residual (no activation). The shortcut is
/// the identity when nil, else a projection such as 1x1 conv + bn.
///
/// Names follow torchvision: the main branch's children appear directly under the block
/// (`conv1.weight`, `bn1.running_mean`), the shortcut under `shortcutName`
/// (`downsample.0.weight`). The add and the ReLU run in the pass of the main branch's last
/// batch norm (training) or in the epilogue of its last convolution (inference).
public final class ResidualBlock: Layer {
    public let main: Sequential
    public let shortcut: (any Layer)?
    public let shortcutName: String
    public let appliesReLU: Bool
    private var cachedOutput: Tensor?
    private var computesInputGradient = true
    private var isTrainingPass = false

    public init(main: Sequential, shortcut: (any Layer)? = nil, shortcutName: String = "downsample",
                reLUAfterAdd: Bool = true) {
        self.main = main; self.shortcut = shortcut; self.shortcutName = shortcutName
        self.appliesReLU = reLUAfterAdd
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        // With no input gradient needed and nothing trainable inside, the whole block is
        // part of a frozen prefix: run it as inference.
        let effective = (mode.isTraining && !mode.computesInputGradient && !hasTrainableParameters) ? .inference : mode
        isTrainingPass = effective.isTraining
        computesInputGradient = effective.computesInputGradient
        // Shortcut first: the main branch's last convolution (inference) or batch norm
        // (training) joins it in its own pass.
        let b = shortcut?.forward(input, mode: effective) ?? input
        let y = main.forward(input, mode: effective, joining: b, reLU: appliesReLU)
        cachedOutput = (effective.isTraining && appliesReLU) ? y : nil
        return y
    }

    public func backward(_ dOutput: Tensor) -> Tensor? {
        precondition(isTrainingPass, "ResidualBlock.backward without a training forward")
        isTrainingPass = false
        var dSum = dOutput
        if appliesReLU {
            guard let y = cachedOutput else { preconditionFailure("ResidualBlock: no cached output") }
            dSum = clampedReLUBackward(dOutput: dOutput, output: y)
            cachedOutput = nil
        }
        let dMain = main.backward(dSum)
        let dShortcut: Tensor? = shortcut == nil ? (computesInputGradient ? dSum : nil) : shortcut!.backward(dSum)
        guard computesInputGradient else { return nil }
        guard let dMain, let dShortcut else { preconditionFailure("ResidualBlock: branch returned no input gradient") }
        return addForward(dMain, dShortcut, relu: false)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        main.namedParameters + (shortcut.map { qualified(shortcutName, $0.namedParameters) } ?? [])
    }

    public var namedBuffers: [(name: String, buffer: Buffer)] {
        main.namedBuffers + (shortcut.map { qualified(shortcutName, $0.namedBuffers) } ?? [])
    }

    public func outputShape(for inputShape: [Int]) -> [Int] {
        let out = main.outputShape(for: inputShape)
        precondition(out == (shortcut?.outputShape(for: inputShape) ?? inputShape),
                     "residual branches disagree: main \(out), shortcut \(shortcut?.outputShape(for: inputShape) ?? inputShape)")
        return out
    }

    /// Branch costs plus one add (and one ReLU comparison) per output element.
    public func cost(for inputShape: [Int]) -> LayerCost {
        let e = Tensor.count(of: outputShape(for: inputShape))
        let join = LayerCost(forward: appliesReLU ? 2 * e : e, backwardInput: appliesReLU ? 2 * e : e)
        return main.cost(for: inputShape) + (shortcut?.cost(for: inputShape) ?? .zero) + join
    }

    public func trainingStepFLOPs(for inputShape: [Int], inputGradient: Bool) -> Int {
        let c = cost(for: inputShape)
        if !inputGradient && !hasTrainableParameters { return c.forward }
        // Join: add (+ ReLU) forward; ReLU mask backward; the branch gradients' add if dInput is needed.
        let e = Tensor.count(of: outputShape(for: inputShape))
        let join = (appliesReLU ? 3 * e : e) + (inputGradient ? e : 0)
        return main.trainingStepFLOPs(for: inputShape, inputGradient: inputGradient)
            + (shortcut?.trainingStepFLOPs(for: inputShape, inputGradient: inputGradient) ?? 0) + join
    }
}
