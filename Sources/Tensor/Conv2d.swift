// Convolution entry points used by the NN layers. Legend as in Conv2dGeometry.swift;
// P = OH * OW output pixels per image, Cg = C / G and Kg = K / G channels per group.
// Each fast path is tested against ConvolutionReference.swift.
//
// Work is split into chunks of whole images whose size depends on the geometry alone
// (never on the worker count), and weight gradients are summed per fixed lane and then
// across lanes in lane order, so results are bit-identical for any `Parallel.workers`
// (docs/determinism.md).

/// How a convolution is computed. `.automatic` picks the fastest tested path for the
/// geometry; the others exist for benchmarks and tests.
public enum Conv2dAlgorithm: Hashable, Sendable {
    case automatic
    /// im2col + `cblas_sgemm`, `imagesPerChunk` images unfolded into one GEMM.
    case im2colGemm(imagesPerChunk: Int)
    /// Direct loops, for one input channel per group (depthwise, or a 1-channel stem).
    case direct
    /// Depthwise 3×3 at padding 1 and stride 1 or 2 (one input channel per group) through
    /// zero-padded planes: one branch-free loop per plane (DepthwiseConv2d.swift).
    case depthwise3x3
    /// Winograd F(2×2, 3×3) for 3×3 kernels at stride 1 with one group,
    /// `imagesPerChunk` images per batch of 16 GEMMs.
    case winograd(imagesPerChunk: Int)
    /// Winograd F(4×4, 3×3), where F(2×2, 3×3) applies: 36 GEMMs per chunk, 1.78× fewer
    /// multiplies than F(2×2, 3×3).
    case winograd4x4(imagesPerChunk: Int)

    /// m of Winograd F(m×m, 3×3) and the images per chunk, or nil for the other algorithms.
    var winogradTile: (outputTile: Int, imagesPerChunk: Int)? {
        switch self {
        case .winograd(let b): return (2, b)
        case .winograd4x4(let b): return (4, b)
        default: return nil
        }
    }
}

/// The transform of a convolution's input that its weight gradient reads (the Winograd V
/// of every chunk, or the im2col columns of every chunk), kept by a training forward for the
/// weight gradient of the same input: `conv2dBackwardWeight` and `conv2dBackward` given it
/// skip transforming that input again. Same values either way, so the same bits.
public struct Conv2dInputTransform: Sendable {
    let geometry: Conv2dGeometry
    /// The weight gradient's resolved algorithm (Winograd, or im2col) it was computed for.
    let algorithm: Conv2dAlgorithm
    let values: Tensor

    /// Its values where the weight gradient of `algorithm` on `geometry` runs the plan that
    /// computed them, else nil.
    func values(for geometry: Conv2dGeometry, _ algorithm: Conv2dAlgorithm) -> Tensor? {
        geometry == self.geometry && resolve(algorithm, geometry, pass: .backwardWeight) == self.algorithm
            ? values : nil
    }
}

/// Whether a training forward should keep the input's transform for the weight gradient
/// (`conv2dForwardKeepingInputTransform`) rather than let the backward transform the input
/// again: where the transform holds at most `keptInputTransformMaxExpansion` times the
/// input's values and the forward can compute it as the weight gradient reads it (a shared
/// Winograd plan, or im2col in both passes). Same bits either way; only the time differs.
public func conv2dKeepsInputTransform(_ geometry: Conv2dGeometry, algorithm: Conv2dAlgorithm = .automatic) -> Bool {
    guard let (_, count) = keptInputTransformPlan(geometry, algorithm) else { return false }
    return Double(count) <= keptInputTransformMaxExpansion * Double(Tensor.count(of: geometry.inputShape))
}

/// The weight gradient's algorithm and the floats of its input transform for every chunk,
/// where a forward can keep that transform: a Winograd plan both passes share, or im2col
/// columns where both passes run im2col (the forward then unfolds the weight gradient's
/// chunks of images). Nil elsewhere, and where the weight gradient unfolds nothing (a 1×1
/// convolution at stride 1 over one image per chunk reads the input itself).
private func keptInputTransformPlan(_ g: Conv2dGeometry, _ algorithm: Conv2dAlgorithm)
    -> (backwardWeight: Conv2dAlgorithm, count: Int)? {
    let forward = resolve(algorithm, g, pass: .forward), weightPass = resolve(algorithm, g, pass: .backwardWeight)
    switch (forward, weightPass) {
    case (.winograd, .winograd), (.winograd4x4, .winograd4x4):
        guard forward == weightPass, let (m, b) = forward.winogradTile else { return nil }
        return (weightPass, winogradInputTransformCount(WinogradPlan(g: g, outputTile: m, imagesPerChunk: b)))
    case (.im2colGemm, .im2colGemm(let b)):
        guard !(b == 1 && gemmConvolutionIsPointwise(g)) else { return nil }
        return (weightPass, im2colColumnCount(g, imagesPerChunk: b))
    default:
        return nil
    }
}

/// 3: F(4×4)'s transform of a 28×28 plane holds 2.25 times its values and is kept; F(2×2)'s
/// holds 4 (14×14) to 5.2 (7×7) times them, and writing it out and reading it back cost more
/// than transforming the input again from L2 (measured on a Zen 3 with 512 KiB of L2 per
/// core: one user's personalisation 8.2-8.6 s keeping both, 6.3-7.1 s keeping F(4×4)'s
/// only, 6.9-8.0 s keeping none, thread CPU time; the ResNet-20 training step alike within
/// the noise; docs/benchmarks.md).
let keptInputTransformMaxExpansion = 3.0

/// `conv2dForward`, also returning the input's transform as the weight gradient reads it
/// where a forward can keep it (a Winograd plan both passes share, or im2col in both; nil
/// otherwise). The output has the same bits as `conv2dForward`'s.
public func conv2dForwardKeepingInputTransform(input: Tensor, weight: Tensor, bias: Tensor?,
                                               geometry: Conv2dGeometry, algorithm: Conv2dAlgorithm = .automatic)
    -> (output: Tensor, inputTransform: Conv2dInputTransform?) {
    guard let (weightPass, count) = keptInputTransformPlan(geometry, algorithm) else {
        return (conv2dForward(input: input, weight: weight, bias: bias, geometry: geometry, algorithm: algorithm), nil)
    }
    checkForwardShapes(input: input, weight: weight, bias: bias, geometry: geometry)
    var output: Tensor?
    let values = Tensor(shape: [count]) { kept in
        switch weightPass {
        case .im2colGemm(let b):
            output = gemmConv2dForward(input: input, weight: weight, bias: bias, geometry: geometry,
                                       imagesPerChunk: b, keepingColumnsIn: kept)
        default:
            let (m, b) = weightPass.winogradTile!
            output = winogradConv2dForward(input: input, weight: weight, bias: bias, geometry: geometry,
                                           outputTile: m, imagesPerChunk: b, keepingInputTransformIn: kept)
        }
    }
    return (output!, Conv2dInputTransform(geometry: geometry, algorithm: weightPass, values: values))
}

private func checkForwardShapes(input: Tensor, weight: Tensor, bias: Tensor?, geometry: Conv2dGeometry) {
    precondition(input.shape == geometry.inputShape,
                 "conv2d input \(input.shape), geometry expects \(geometry.inputShape)")
    precondition(weight.shape == geometry.weightShape,
                 "conv2d weight \(weight.shape), geometry expects \(geometry.weightShape)")
    precondition(bias == nil || bias!.shape == [geometry.outChannels],
                 "conv2d bias \(bias!.shape), expected [\(geometry.outChannels)]")
}

/// output = conv(input, weight) + bias, shape `geometry.outputShape`, then `epilogue` (the
/// batch norm, activation or residual join after it in an inference forward), applied by
/// the im2col and Winograd kernels to each chunk of images while it is in cache.
public func conv2dForward(input: Tensor, weight: Tensor, bias: Tensor?,
                          geometry: Conv2dGeometry,
                          algorithm: Conv2dAlgorithm = .automatic,
                          epilogue: ConvolutionEpilogue? = nil) -> Tensor {
    checkForwardShapes(input: input, weight: weight, bias: bias, geometry: geometry)
    epilogue?.check(outputShape: geometry.outputShape)
    let resolved = resolve(algorithm, geometry, pass: .forward)
    switch resolved {
    case .direct:
        let y = directConv2dForward(input: input, weight: weight, bias: bias, geometry: geometry)
        return epilogue?.applied(to: y) ?? y
    case .depthwise3x3:
        let y = depthwise3x3Forward(input: input, weight: weight, bias: bias, geometry: geometry)
        return epilogue?.applied(to: y) ?? y
    case .im2colGemm(let b):
        return gemmConv2dForward(input: input, weight: weight, bias: bias, geometry: geometry,
                                 imagesPerChunk: b, epilogue: epilogue)
    case .winograd, .winograd4x4:
        let (m, b) = resolved.winogradTile!
        return winogradConv2dForward(input: input, weight: weight, bias: bias, geometry: geometry,
                                     outputTile: m, imagesPerChunk: b, epilogue: epilogue)
    case .automatic:
        preconditionFailure("resolve never returns .automatic")
    }
}

/// dInput for dOutput, shape `geometry.inputShape`.
public func conv2dBackwardInput(dOutput: Tensor, weight: Tensor, geometry: Conv2dGeometry,
                                algorithm: Conv2dAlgorithm = .automatic) -> Tensor {
    precondition(dOutput.shape == geometry.outputShape,
                 "conv2d dOutput \(dOutput.shape), geometry expects \(geometry.outputShape)")
    precondition(weight.shape == geometry.weightShape,
                 "conv2d weight \(weight.shape), geometry expects \(geometry.weightShape)")
    let resolved = resolve(algorithm, geometry, pass: .backwardInput)
    switch resolved {
    case .direct:
        return directConv2dBackwardInput(dOutput: dOutput, weight: weight, geometry: geometry)
    case .depthwise3x3:
        return depthwise3x3BackwardInput(dOutput: dOutput, weight: weight, geometry: geometry)
    case .im2colGemm(let b):
        return gemmConv2dBackwardInput(dOutput: dOutput, weight: weight, geometry: geometry,
                                       imagesPerChunk: b)
    case .winograd, .winograd4x4:
        let (m, b) = resolved.winogradTile!
        return winogradConv2dBackwardInput(dOutput: dOutput, weight: weight, geometry: geometry,
                                           outputTile: m, imagesPerChunk: b)
    case .automatic:
        preconditionFailure("resolve never returns .automatic")
    }
}

/// Adds dWeight (shape `geometry.weightShape`) into `dWeight`.
public func conv2dBackwardWeight(dOutput: Tensor, input: Tensor, geometry: Conv2dGeometry,
                                 accumulatingInto dWeight: inout Tensor,
                                 algorithm: Conv2dAlgorithm = .automatic,
                                 inputTransform: Conv2dInputTransform? = nil) {
    precondition(dOutput.shape == geometry.outputShape,
                 "conv2d dOutput \(dOutput.shape), geometry expects \(geometry.outputShape)")
    precondition(input.shape == geometry.inputShape,
                 "conv2d input \(input.shape), geometry expects \(geometry.inputShape)")
    precondition(dWeight.shape == geometry.weightShape,
                 "conv2d dWeight \(dWeight.shape), geometry expects \(geometry.weightShape)")
    let resolved = resolve(algorithm, geometry, pass: .backwardWeight)
    switch resolved {
    case .direct:
        directConv2dBackwardWeight(dOutput: dOutput, input: input, geometry: geometry,
                                   accumulatingInto: &dWeight)
    case .depthwise3x3:
        depthwise3x3BackwardWeight(dOutput: dOutput, input: input, geometry: geometry,
                                   accumulatingInto: &dWeight)
    case .im2colGemm(let b):
        withOptionalPointer(inputTransform?.values(for: geometry, algorithm)) { kept in
            gemmConv2dBackwardWeight(dOutput: dOutput, input: input, geometry: geometry,
                                     imagesPerChunk: b, columns: kept, accumulatingInto: &dWeight)
        }
    case .winograd, .winograd4x4:
        let (m, b) = resolved.winogradTile!
        withOptionalPointer(inputTransform?.values(for: geometry, algorithm)) { kept in
            winogradConv2dBackwardWeight(dOutput: dOutput, input: input, geometry: geometry, outputTile: m,
                                         imagesPerChunk: b, inputTransform: kept, accumulatingInto: &dWeight)
        }
    case .automatic:
        preconditionFailure("resolve never returns .automatic")
    }
}

/// Both gradients of a convolution: returns dInput (shape `geometry.inputShape`) and adds
/// dWeight into `dWeight`: `conv2dBackwardInput` followed by `conv2dBackwardWeight`.
public func conv2dBackward(dOutput: Tensor, input: Tensor, weight: Tensor, geometry: Conv2dGeometry,
                           accumulatingInto dWeight: inout Tensor,
                           algorithm: Conv2dAlgorithm = .automatic,
                           inputTransform: Conv2dInputTransform? = nil) -> Tensor {
    precondition(dOutput.shape == geometry.outputShape,
                 "conv2d dOutput \(dOutput.shape), geometry expects \(geometry.outputShape)")
    precondition(input.shape == geometry.inputShape,
                 "conv2d input \(input.shape), geometry expects \(geometry.inputShape)")
    precondition(weight.shape == geometry.weightShape,
                 "conv2d weight \(weight.shape), geometry expects \(geometry.weightShape)")
    precondition(dWeight.shape == geometry.weightShape,
                 "conv2d dWeight \(dWeight.shape), geometry expects \(geometry.weightShape)")
    let dInput = conv2dBackwardInput(dOutput: dOutput, weight: weight, geometry: geometry, algorithm: algorithm)
    conv2dBackwardWeight(dOutput: dOutput, input: input, geometry: geometry, accumulatingInto: &dWeight,
                         algorithm: algorithm, inputTransform: inputTransform)
    return dInput
}

/// The three computations of a convolution layer.
enum Conv2dPass {
    case forward, backwardInput, backwardWeight
}

/// The concrete algorithm for `.automatic`; explicit choices pass through.
func resolve(_ algorithm: Conv2dAlgorithm, _ g: Conv2dGeometry, pass: Conv2dPass) -> Conv2dAlgorithm {
    switch algorithm {
    case .direct:
        precondition(g.inChannels == g.groups, "the direct kernel needs one input channel per group")
        return .direct
    case .depthwise3x3:
        precondition(depthwise3x3Applies(g),
                     "the depthwise 3x3 kernel needs one input channel per group, a 3x3 kernel, stride 1 or 2 and padding 1")
        return .depthwise3x3
    case .im2colGemm(let b):
        precondition(b >= 1, "imagesPerChunk must be at least 1, got \(b)")
        return .im2colGemm(imagesPerChunk: max(1, min(b, g.batch)))
    case .winograd, .winograd4x4:
        let (m, b) = algorithm.winogradTile!
        precondition(winogradApplies(g), "Winograd F(\(m)x\(m),3x3) needs a 3x3 kernel, stride 1, one group and padding at most 2")
        precondition(b >= 1, "imagesPerChunk must be at least 1, got \(b)")
        let chunk = max(1, min(b, g.batch))
        return m == 4 ? .winograd4x4(imagesPerChunk: chunk) : .winograd(imagesPerChunk: chunk)
    case .automatic:
        // Depthwise (one input channel per group, several groups): per-group GEMMs would have
        // a single row. A single-group, single-channel stem still runs faster as one GEMM.
        // The padded-plane kernel (3x3, padding 1, stride 1 or 2) measured 1.4-4.6x faster than
        // the direct loops on every MobileNetV2 depthwise shape (docs/benchmarks.md).
        if g.inChannels == g.groups && g.groups > 1 { return depthwise3x3Applies(g) ? .depthwise3x3 : .direct }
        // Winograd where it measured faster than im2col + GEMM on this machine: from 8 input
        // channels (below, the transforms cost more than the GEMM they save), with enough
        // tiles in the batch to pay for transforming K·C weights on every call (F(2×2) tiles at
        // least half the larger channel count: at batch 1 the 64-channel 7×7 stage is faster
        // with im2col, from batch 2 and at batch 1 on 14×14 planes Winograd). The input
        // gradient too, as the forward of the rotated kernel: at 7×7 (64 channels, batch 128)
        // 5.2-6.3 ms against im2col's 8.4-9.2 (docs/benchmarks.md).
        // F(4×4, 3×3) from 16×16 outputs (28×28 planes measured 1.1-1.3× F(2×2)'s speed in
        // every pass; at 14×14 and 7×7 a quarter or more of its 4×4 tiles is padding).
        let tiles = g.batch * ((g.outHeight + 1) / 2) * ((g.outWidth + 1) / 2)
        if winogradApplies(g) && g.inChannels >= 8 && 2 * tiles >= max(g.inChannels, g.outChannels) {
            if g.outHeight >= 16 && g.outWidth >= 16 {
                return .winograd4x4(imagesPerChunk: defaultWinogradImagesPerChunk(g, outputTile: 4, pass: pass))
            }
            return .winograd(imagesPerChunk: defaultWinogradImagesPerChunk(g, outputTile: 2, pass: pass))
        }
        return .im2colGemm(imagesPerChunk: defaultImagesPerChunk(g, pass: pass))
    }
}

/// Images per GEMM. The forward pass takes one image at a time so the GEMM writes the NCHW
/// output directly; the backward passes group small images (fewer, longer GEMMs). Measured on
/// the ResNet-20 shapes: OpenBLAS's small-matrix kernels make larger chunks no faster. A
/// function of the geometry only.
func defaultImagesPerChunk(_ g: Conv2dGeometry, pass: Conv2dPass) -> Int {
    let P = g.outHeight * g.outWidth
    let targetColumns: Int
    switch pass {
    case .forward: return 1
    case .backwardInput: targetColumns = 256
    case .backwardWeight: targetColumns = 512
    }
    return max(1, min(g.batch, targetColumns / P))
}

/// Images per Winograd chunk: about 256 tile columns per GEMM (the weight gradient's
/// products are dot products along the columns, slower when short), except in the forwards
/// of F(2×2, 3×3) (that of the input gradient included, which is one over dOutput), whose
/// chunks keep to about 32 columns so that V and M stay in L2 between
/// the transforms and the GEMMs (7×7 planes of 64 channels: 2 images, 262 KB, against 16
/// images, 2 MB; measured 1.1-1.3x faster on a Zen 3 with 512 KiB of L2, docs/benchmarks.md).
/// Only F(4×4)'s forward keeps its chunks for the weight gradient's (its kept transform,
/// `conv2dKeepsInputTransform`), so the F(2×2) forward's chunking changes no bits: each
/// output is the same chain whatever the chunk. A function of the geometry, the tile size
/// and the pass only.
func defaultWinogradImagesPerChunk(_ g: Conv2dGeometry, outputTile m: Int, pass: Conv2dPass) -> Int {
    let tiles = ceilDiv(g.outHeight, m) * ceilDiv(g.outWidth, m)
    let targetColumns = m == 2 && pass != .backwardWeight ? 32 : 256
    return max(1, min(g.batch, targetColumns / tiles))
}

@inline(__always)
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress!) }
}

@inline(__always)
func withOptionalPointer<R>(_ tensor: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let tensor else { return body(nil) }
    return tensor.withUnsafeBufferPointer { body($0.baseAddress!) }
}
