import Tensor

/// Children applied in order, each with a name that prefixes its parameter names
/// (unnamed children get their index, as in PyTorch's nn.Sequential).
///
/// Freezing: in a training pass that needs no input gradient, the leading children
/// without trainable parameters (the frozen prefix) run as inference — no activations
/// kept, batch norm on running statistics — and backward stops at the first trainable
/// child, which is itself told not to compute its input gradient. Training heads on a
/// frozen backbone therefore costs the backbone's forward pass only.
public final class Sequential: Layer {
    public private(set) var children: [(name: String, layer: any Layer)]
    /// Index of the first child backward visits in the current pass (children.count: none).
    private var backwardStart: Int?
    /// Per child: a batch norm directly followed by ReLU or ReLU6, which forward runs as one
    /// fused kernel (`BatchNorm2d.forward(_:mode:activationCap:)`; same bits, one pass over
    /// memory less each way). Backward then skips the activation: the batch norm applies it.
    private var fusesNext: [Bool] = []

    public init(_ children: [(name: String, layer: any Layer)]) {
        precondition(Set(children.map(\.name)).count == children.count, "duplicate child names \(children.map(\.name))")
        self.children = children
        updateFusion()
    }

    /// Indices of the activations that run fused into the batch norm before them.
    var fusedActivationIndices: [Int] { fusesNext.indices.filter { fusesNext[$0] }.map { $0 + 1 } }

    private func updateFusion() {
        fusesNext = children.indices.map { i in
            i + 1 < children.count && children[i].layer is BatchNorm2d && children[i + 1].layer is FusableActivation
        }
    }

    /// Children named by their index: "0", "1", ...
    public convenience init(_ layers: [any Layer]) {
        self.init(layers.enumerated().map { (name: String($0.offset), layer: $0.element) })
    }

    public func append(_ layer: any Layer, name: String? = nil) {
        let name = name ?? String(children.count)
        precondition(!children.contains { $0.name == name }, "duplicate child name \(name)")
        children.append((name: name, layer: layer))
        updateFusion()
    }

    public subscript(name: String) -> (any Layer)? { children.first { $0.name == name }?.layer }

    /// Index of the first child with a trainable parameter (children.count when none).
    public var firstTrainableIndex: Int {
        children.firstIndex { $0.layer.hasTrainableParameters } ?? children.count
    }

    /// Where backward starts walking back to, for a pass in `mode`.
    private func start(for mode: Mode) -> Int {
        mode.computesInputGradient ? 0 : firstTrainableIndex
    }

    public func forward(_ input: Tensor, mode: Mode) -> Tensor {
        run(input, mode: mode, joining: nil)
    }

    /// forward(input) + residual, then ReLU when `reLU`: a residual block's main branch and
    /// its join. Where the branch ends in a convolution and a batch norm run as inference,
    /// the join is part of the convolution's epilogue; where it ends in a batch norm otherwise,
    /// part of the batch norm's pass.
    func forward(_ input: Tensor, mode: Mode, joining residual: Tensor, reLU: Bool) -> Tensor {
        run(input, mode: mode, joining: (residual, reLU))
    }

    private func run(_ input: Tensor, mode: Mode, joining residual: (tensor: Tensor, reLU: Bool)?) -> Tensor {
        let s = mode.isTraining ? start(for: mode) : children.count
        backwardStart = mode.isTraining ? s : nil
        var x = input, i = 0, joined = false
        while i < children.count {
            // A frozen prefix runs as inference. An activation is never trainable, so a fused
            // pair lies wholly inside or wholly after the prefix.
            let childMode: Mode = !mode.isTraining || i < s ? .inference
                : .training(inputGradient: i > s || mode.computesInputGradient)
            if let (conv, bn, activation) = inferenceEpilogueRun(at: i, before: s) {
                // Conv, batch norm (, activation) of an inference pass: one kernel, the batch
                // norm and what follows it applied to each chunk of the output in cache.
                var epilogue = bn.inferenceEpilogue(activationCap: activation?.cap)
                let span = activation == nil ? 2 : 3
                if let residual, activation == nil, i + span == children.count {
                    epilogue = epilogue.joining(residual.tensor, reLU: residual.reLU)
                    joined = true
                }
                x = conv.forwardInference(x, epilogue: epilogue)
                activation?.forwardFused()
                i += span
            } else if let residual, i == children.count - 1, let bn = children[i].layer as? BatchNorm2d {
                // The branch's last batch norm and the join in one pass (training, or a lone
                // batch norm of an inference pass).
                x = bn.forward(x, mode: childMode, joining: residual.tensor, reLU: residual.reLU)
                joined = true
                i += 1
            } else if fusesNext[i], let bn = children[i].layer as? BatchNorm2d,
               let activation = children[i + 1].layer as? any FusableActivation {
                x = bn.forward(x, mode: childMode, activationCap: activation.cap)
                activation.forwardFused()
                i += 2
            } else {
                x = children[i].layer.forward(x, mode: childMode)
                i += 1
            }
        }
        if let residual, !joined { x = addForward(x, residual.tensor, relu: residual.reLU) }
        return x
    }

    /// Children i and i + 1 as a convolution and a batch norm (and i + 2 as the activation
    /// after them, if it is one) when all of them run as inference (before `inferenceEnd`,
    /// the end of the frozen prefix or of the children).
    private func inferenceEpilogueRun(at i: Int, before inferenceEnd: Int)
        -> (Conv2d, BatchNorm2d, (any FusableActivation)?)? {
        guard i + 1 < inferenceEnd, let conv = children[i].layer as? Conv2d,
              let bn = children[i + 1].layer as? BatchNorm2d else { return nil }
        let activation = i + 2 < inferenceEnd ? children[i + 2].layer as? any FusableActivation : nil
        return (conv, bn, activation)
    }

    public func backward(_ dOutput: Tensor) -> Tensor? {
        guard let s = backwardStart else { preconditionFailure("Sequential.backward without a training forward") }
        backwardStart = nil
        var d: Tensor? = dOutput
        var i = children.count - 1, last = children.count
        while i >= s {
            guard let dy = d else { preconditionFailure("child \(children[last].name) returned no input gradient") }
            // A fused pair: the batch norm before this activation computed it and applies its backward.
            last = i - 1 >= s && fusesNext[i - 1] ? i - 1 : i
            d = children[last].layer.backward(dy)
            i = last - 1
        }
        return s < children.count ? d : nil
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        children.flatMap { qualified($0.name, $0.layer.namedParameters) }
    }

    public var namedBuffers: [(name: String, buffer: Buffer)] {
        children.flatMap { qualified($0.name, $0.layer.namedBuffers) }
    }

    public func outputShape(for inputShape: [Int]) -> [Int] {
        children.reduce(inputShape) { $1.layer.outputShape(for: $0) }
    }

    public func cost(for inputShape: [Int]) -> LayerCost {
        var shape = inputShape, total = LayerCost.zero
        for child in children {
            total = total + child.layer.cost(for: shape)
            shape = child.layer.outputShape(for: shape)
        }
        return total
    }

    /// Frozen prefix: forward only; first trainable child: no dInput unless asked;
    /// later children: the full backward their own parameters call for.
    public func trainingStepFLOPs(for inputShape: [Int], inputGradient: Bool) -> Int {
        let s = inputGradient ? 0 : firstTrainableIndex
        var shape = inputShape, total = 0
        for (i, child) in children.enumerated() {
            total += i < s ? child.layer.cost(for: shape).forward
                           : child.layer.trainingStepFLOPs(for: shape, inputGradient: i > s || inputGradient)
            shape = child.layer.outputShape(for: shape)
        }
        return total
    }

    /// One row per child: its input and output shapes, parameter count and FLOPs, with
    /// running totals, so any prefix of the network can be costed.
    public func costTable(for inputShape: [Int]) -> [CostRow] {
        var shape = inputShape, rows: [CostRow] = []
        var cumulativeForward = 0, cumulativeParameters = 0
        for child in children {
            let out = child.layer.outputShape(for: shape)
            let c = child.layer.cost(for: shape)
            cumulativeForward += c.forward
            cumulativeParameters += child.layer.parameterCount
            rows.append(CostRow(name: child.name, inputShape: shape, outputShape: out,
                                parameters: child.layer.parameterCount, cost: c,
                                cumulativeForwardFLOPs: cumulativeForward,
                                cumulativeParameters: cumulativeParameters))
            shape = out
        }
        return rows
    }

    /// The first `count` children as their own network sharing the same layers
    /// (for costing or running a prefix, e.g. a backbone up to an exit).
    public func prefix(_ count: Int) -> Sequential {
        precondition(count >= 0 && count <= children.count)
        return Sequential(Array(children.prefix(count)))
    }
}

/// One child of a `Sequential` in a cost table.
public struct CostRow: Equatable, Sendable {
    public var name: String
    public var inputShape: [Int], outputShape: [Int]
    public var parameters: Int
    public var cost: LayerCost
    public var cumulativeForwardFLOPs: Int
    public var cumulativeParameters: Int
}
