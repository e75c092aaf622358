// Shared helpers for the NN tests: random tensors, a finite-difference gradient check,
// and small networks. See docs/engine.md for the gradient-check method.
import Testing
@testable import NN
import Tensor

func randomTensor(_ shape: [Int], _ rng: inout SeededGenerator, scale: Float = 1) -> Tensor {
    Tensor(shape: shape, scalars: (0..<Tensor.count(of: shape)).map { _ in rng.nextNormal() * scale })
}

/// Values bounded away from 0 (|x| in [0.1, 1.1]), so ReLU kinks are never crossed by a
/// central difference with eps <= 1e-2.
func awayFromZero(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
    Tensor(shape: shape, scalars: (0..<Tensor.count(of: shape)).map { _ in
        (rng.nextUniform() + 0.1) * (rng.nextUniform() < 0.5 ? -1 : 1)
    })
}

/// Distinct values spaced 0.05 apart in random order, so no pooling window holds two
/// values within 2 * eps of each other and argmax never flips under a perturbation.
func distinctValues(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
    var values = (0..<Tensor.count(of: shape)).map { Float($0) * 0.05 - Float(Tensor.count(of: shape)) * 0.025 }
    rng.shuffle(&values)
    return Tensor(shape: shape, scalars: values)
}

func maxAbsDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "\(a.shape) vs \(b.shape)")
    return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

func expectClose(_ a: Tensor, _ b: Tensor, tolerance: Float = 1e-5, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.shape == b.shape, sourceLocation: sourceLocation)
    guard a.shape == b.shape else { return }
    let scale = max(1, b.scalars.reduce(0) { max($0, abs($1)) })
    #expect(maxAbsDifference(a, b) <= tolerance * scale, "max |diff| \(maxAbsDifference(a, b))", sourceLocation: sourceLocation)
}

/// Result of a finite-difference check: norm-wise relative errors
/// ||analytic - numeric|| / max(||analytic||, ||numeric||, 1e-3) over the checked entries.
struct GradientCheckResult {
    var input: Double
    var parameters: [String: Double]
    var skippedFraction = 0.0
    var worst: Double { max(input, parameters.values.max() ?? 0) }
}

/// Checks a layer's backward against central differences of L = sum(R * forward(x)) with a
/// fixed random R, L accumulated in Double. At most `samples` entries of the input and of
/// each parameter are perturbed (all of them when fewer).
///
/// `skipKinks`: for networks whose ReLUs follow batch norm (so kinks cannot be avoided by
/// choosing inputs), entries where the one-sided differences disagree by more than a
/// smooth function allows (a ReLU crossed 0 inside [x - eps, x + eps]) are skipped;
/// at most a third of the entries may be skipped.
func gradientCheck(_ layer: any Layer, input: Tensor, eps: Float = 1e-2, samples: Int = 30,
                   seed: UInt64 = 99, skipKinks: Bool = false) -> GradientCheckResult {
    var rng = SeededGenerator(seed: seed)
    let outputShape = layer.outputShape(for: input.shape)
    let projection = randomTensor(outputShape, &rng)
    func loss(_ x: Tensor) -> Double {
        let y = layer.forward(x, mode: .training)
        precondition(y.shape == outputShape)
        var s = 0.0
        for i in 0..<y.count { s += Double(y.scalars[i]) * Double(projection.scalars[i]) }
        return s
    }
    layer.zeroGradients()
    _ = layer.forward(input, mode: .training)
    let dInput = layer.backwardToInput(projection)
    // Frozen parameters get no gradient by design; only trainable ones are checked.
    let analyticParameters = layer.namedParameters.filter { $0.parameter.isTrainable }.map { ($0.name, $0.parameter.gradient) }

    func pick(_ count: Int) -> [Int] {
        if count <= samples { return Array(0..<count) }
        var all = Array(0..<count)
        rng.shuffle(&all)
        return Array(all.prefix(samples))
    }
    func relativeError(_ analytic: [Double], _ numeric: [Double]) -> Double {
        var d = 0.0, a = 0.0, n = 0.0
        for (x, y) in zip(analytic, numeric) { d += (x - y) * (x - y); a += x * x; n += y * y }
        return d.squareRoot() / max(a.squareRoot(), n.squareRoot(), 1e-3)
    }

    var x = input
    var analytic: [Double] = [], numeric: [Double] = []
    let center = skipKinks ? loss(input) : 0
    var skipped = 0, checked = 0
    /// Central difference, or nil at a kink (when `skipKinks`).
    func difference(_ plus: Double, _ minus: Double) -> Double? {
        checked += 1
        let e = Double(eps), right = (plus - center) / e, left = (center - minus) / e
        if skipKinks && abs(right - left) > 0.05 * (abs(right) + abs(left)) + 1e-2 { skipped += 1; return nil }
        return (plus - minus) / (2 * e)
    }
    for i in pick(input.count) {
        let original = x.scalars[i]
        x.scalars[i] = original + eps; let plus = loss(x)
        x.scalars[i] = original - eps; let minus = loss(x)
        x.scalars[i] = original
        guard let d = difference(plus, minus) else { continue }
        analytic.append(Double(dInput.scalars[i])); numeric.append(d)
    }
    var result = GradientCheckResult(input: relativeError(analytic, numeric), parameters: [:])
    for (name, gradient) in analyticParameters {
        let p = layer.namedParameters.first { $0.name == name }!.parameter
        analytic = []; numeric = []
        for i in pick(p.value.count) {
            let original = p.value.scalars[i]
            p.value.scalars[i] = original + eps; let plus = loss(input)
            p.value.scalars[i] = original - eps; let minus = loss(input)
            p.value.scalars[i] = original
            guard let d = difference(plus, minus) else { continue }
            analytic.append(Double(gradient.scalars[i])); numeric.append(d)
        }
        result.parameters[name] = relativeError(analytic, numeric)
    }
    result.skippedFraction = Double(skipped) / Double(max(checked, 1))
    return result
}

func expectGradientsMatch(_ layer: any Layer, input: Tensor, eps: Float = 1e-2, tolerance: Double = 1e-2,
                          skipKinks: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
    let r = gradientCheck(layer, input: input, eps: eps, skipKinks: skipKinks)
    #expect(r.skippedFraction <= 1.0 / 3, "skipped \(r.skippedFraction) of the entries as kinks", sourceLocation: sourceLocation)
    #expect(r.input < tolerance, "dInput relative error \(r.input)", sourceLocation: sourceLocation)
    for (name, e) in r.parameters.sorted(by: { $0.key < $1.key }) {
        #expect(e < tolerance, "d\(name) relative error \(e)", sourceLocation: sourceLocation)
    }
}

/// A CIFAR ResNet basic block (He et al. 2016): conv3x3-bn-relu-conv3x3-bn plus an identity
/// or 1x1-conv + bn projection shortcut, add, ReLU; torchvision names.
func basicBlock(_ c: Int, _ k: Int, stride: Int, _ rng: inout SeededGenerator) -> ResidualBlock {
    let main = Sequential([
        (name: "conv1", layer: Conv2d(inChannels: c, outChannels: k, kernelSize: 3, stride: stride, padding: 1, generator: &rng)),
        (name: "bn1", layer: BatchNorm2d(channels: k)),
        (name: "relu", layer: ReLU()),
        (name: "conv2", layer: Conv2d(inChannels: k, outChannels: k, kernelSize: 3, padding: 1, generator: &rng)),
        (name: "bn2", layer: BatchNorm2d(channels: k)),
    ])
    let shortcut: (any Layer)? = (stride != 1 || c != k)
        ? Sequential([Conv2d(inChannels: c, outChannels: k, kernelSize: 1, stride: stride, generator: &rng),
                      BatchNorm2d(channels: k)])
        : nil
    return ResidualBlock(main: main, shortcut: shortcut)
}

/// ResNet-20 for 1-channel inputs (3 stages of 3 basic blocks, widths 16/32/64,
/// projection shortcuts), named like the usual CIFAR ResNet state_dict.
func resNet20(classes: Int = 10, _ rng: inout SeededGenerator) -> Sequential {
    var children: [(name: String, layer: any Layer)] = [
        (name: "conv1", layer: Conv2d(inChannels: 1, outChannels: 16, kernelSize: 3, padding: 1, generator: &rng)),
        (name: "bn1", layer: BatchNorm2d(channels: 16)),
        (name: "relu", layer: ReLU()),
    ]
    var c = 16
    for (stage, k) in [16, 32, 64].enumerated() {
        let blocks = Sequential((0..<3).map { b in
            basicBlock(c == k || b > 0 ? k : c, k, stride: (b == 0 && stage > 0) ? 2 : 1, &rng) as any Layer
        })
        c = k
        children.append((name: "layer\(stage + 1)", layer: blocks))
    }
    children.append((name: "pool", layer: GlobalAvgPool()))
    children.append((name: "fc", layer: Linear(inFeatures: 64, outFeatures: classes, generator: &rng)))
    return Sequential(children)
}

/// conv-bn-relu-maxpool-flatten-linear for (N, 1, 8, 8) inputs.
func tinyCNN(classes: Int, _ rng: inout SeededGenerator) -> Sequential {
    Sequential([
        (name: "conv", layer: Conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1, generator: &rng)),
        (name: "bn", layer: BatchNorm2d(channels: 4)),
        (name: "relu", layer: ReLU()),
        (name: "pool", layer: MaxPool2d(kernelSize: 2)),
        (name: "flatten", layer: Flatten()),
        (name: "fc", layer: Linear(inFeatures: 4 * 4 * 4, outFeatures: classes, generator: &rng)),
    ])
}
