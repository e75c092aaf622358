import Tensor

/// FLOP counts of one layer for one input shape (a multiply-add is 2 FLOPs).
/// See docs/engine.md for the per-layer conventions.
public struct LayerCost: Equatable, Sendable {
    /// Forward pass.
    public var forward: Int
    /// Backward to the input (dInput), when the input needs a gradient.
    public var backwardInput: Int
    /// Backward to the parameters (dWeight, dBias), when they are trainable.
    public var backwardWeight: Int

    public init(forward: Int, backwardInput: Int, backwardWeight: Int = 0) {
        self.forward = forward
        self.backwardInput = backwardInput
        self.backwardWeight = backwardWeight
    }

    public static let zero = LayerCost(forward: 0, backwardInput: 0)

    public static func + (a: LayerCost, b: LayerCost) -> LayerCost {
        LayerCost(forward: a.forward + b.forward, backwardInput: a.backwardInput + b.backwardInput,
                  backwardWeight: a.backwardWeight + b.backwardWeight)
    }
}

/// A network layer with a hand-written forward and backward (llm.c style).
///
/// `forward` keeps exactly what `backward` needs when `mode.isTraining`; `backward` adds
/// into the gradients of its trainable parameters and returns dInput, or nil when the
/// forward mode said no input gradient is needed. Conforming types are final classes.
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, mode: Mode) -> Tensor
    func backward(_ dOutput: Tensor) -> Tensor?

    /// Parameters with names relative to this layer, in checkpoint order.
    var namedParameters: [(name: String, parameter: Parameter)] { get }
    /// Buffers with names relative to this layer, in checkpoint order.
    var namedBuffers: [(name: String, buffer: Buffer)] { get }

    func outputShape(for inputShape: [Int]) -> [Int]
    func cost(for inputShape: [Int]) -> LayerCost
    /// FLOPs of one training step (forward + backward) when this layer is trained, given
    /// whether its input needs a gradient. Containers account for their frozen prefix.
    func trainingStepFLOPs(for inputShape: [Int], inputGradient: Bool) -> Int
}

extension Layer {
    public var namedParameters: [(name: String, parameter: Parameter)] { [] }
    public var namedBuffers: [(name: String, buffer: Buffer)] { [] }

    public func cost(for inputShape: [Int]) -> LayerCost { .zero }

    /// Leaf rule: forward, plus dWeight if any parameter is trainable, plus dInput if asked.
    public func trainingStepFLOPs(for inputShape: [Int], inputGradient: Bool) -> Int {
        let c = cost(for: inputShape)
        return c.forward + (hasTrainableParameters ? c.backwardWeight : 0) + (inputGradient ? c.backwardInput : 0)
    }

    public var parameters: [Parameter] { namedParameters.map(\.parameter) }
    public var hasTrainableParameters: Bool { namedParameters.contains { $0.parameter.isTrainable } }
    /// Number of parameter scalars (buffers excluded).
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.value.count } }
    public var trainableParameterCount: Int {
        namedParameters.reduce(0) { $0 + ($1.parameter.isTrainable ? $1.parameter.value.count : 0) }
    }

    /// Clears every parameter gradient (the one place gradients are zeroed).
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    /// Freezes (or unfreezes) every parameter of this layer and its children.
    public func setFrozen(_ frozen: Bool) { for p in parameters { p.isFrozen = frozen } }

    /// Backward that must produce dInput (forward ran with an input gradient).
    public func backwardToInput(_ dOutput: Tensor) -> Tensor {
        guard let dInput = backward(dOutput) else {
            preconditionFailure("\(type(of: self)).backward: forward ran without an input gradient")
        }
        return dInput
    }
}

/// Prefixes relative names with a child's name, PyTorch style ("0" + "weight" -> "0.weight").
func qualified(_ prefix: String, _ entries: [(name: String, parameter: Parameter)]) -> [(name: String, parameter: Parameter)] {
    prefix.isEmpty ? entries : entries.map { (name: prefix + "." + $0.name, parameter: $0.parameter) }
}

func qualified(_ prefix: String, _ entries: [(name: String, buffer: Buffer)]) -> [(name: String, buffer: Buffer)] {
    prefix.isEmpty ? entries : entries.map { (name: prefix + "." + $0.name, buffer: $0.buffer) }
}
