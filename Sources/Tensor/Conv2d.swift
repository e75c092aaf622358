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
    /// Winograd F(2×2, 3×3) for 3×3 kernels at stride 1 with one group,
    /// `imagesPerChunk` images per batch of 16 GEMMs.
    case winograd(imagesPerChunk: Int)
}

/// output = conv(input, weight) + bias, shape `geometry.outputShape`.
public func conv2dForward(input: Tensor, weight: Tensor, bias: Tensor?,
                          geometry: Conv2dGeometry,
                          algorithm: Conv2dAlgorithm = .automatic) -> Tensor {
    precondition(input.shape == geometry.inputShape,
                 "conv2d input \(input.shape), geometry expects \(geometry.inputShape)")
    precondition(weight.shape == geometry.weightShape,
                 "conv2d weight \(weight.shape), geometry expects \(geometry.weightShape)")
    precondition(bias == nil || bias!.shape == [geometry.outChannels],
                 "conv2d bias \(bias!.shape), expected [\(geometry.outChannels)]")
    ensureSingleThreadedBLAS()
    switch resolve(algorithm, geometry, pass: .forward) {
    case .direct:
        return directConv2dForward(input: input, weight: weight, bias: bias, geometry: geometry)
    case .im2colGemm(let b):
        return gemmConv2dForward(input: input, weight: weight, bias: bias, geometry: geometry,
                                 imagesPerChunk: b)
    case .winograd(let b):
        return winogradConv2dForward(input: input, weight: weight, bias: bias, geometry: geometry,
                                     imagesPerChunk: b)
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
    ensureSingleThreadedBLAS()
    switch resolve(algorithm, geometry, pass: .backwardInput) {
    case .direct:
        return directConv2dBackwardInput(dOutput: dOutput, weight: weight, geometry: geometry)
    case .im2colGemm(let b):
        return gemmConv2dBackwardInput(dOutput: dOutput, weight: weight, geometry: geometry,
                                       imagesPerChunk: b)
    case .winograd(let b):
        return winogradConv2dBackwardInput(dOutput: dOutput, weight: weight, geometry: geometry,
                                           imagesPerChunk: b)
    case .automatic:
        preconditionFailure("resolve never returns .automatic")
    }
}

/// Adds dWeight (shape `geometry.weightShape`) into `dWeight`.
public func conv2dBackwardWeight(dOutput: Tensor, input: Tensor, geometry: Conv2dGeometry,
                                 accumulatingInto dWeight: inout Tensor,
                                 algorithm: Conv2dAlgorithm = .automatic) {
    precondition(dOutput.shape == geometry.outputShape,
                 "conv2d dOutput \(dOutput.shape), geometry expects \(geometry.outputShape)")
    precondition(input.shape == geometry.inputShape,
                 "conv2d input \(input.shape), geometry expects \(geometry.inputShape)")
    precondition(dWeight.shape == geometry.weightShape,
                 "conv2d dWeight \(dWeight.shape), geometry expects \(geometry.weightShape)")
    ensureSingleThreadedBLAS()
    switch resolve(algorithm, geometry, pass: .backwardWeight) {
    case .direct:
        directConv2dBackwardWeight(dOutput: dOutput, input: input, geometry: geometry,
                                   accumulatingInto: &dWeight)
    case .im2colGemm(let b):
        gemmConv2dBackwardWeight(dOutput: dOutput, input: input, geometry: geometry,
                                 imagesPerChunk: b, accumulatingInto: &dWeight)
    case .winograd(let b):
        winogradConv2dBackwardWeight(dOutput: dOutput, input: input, geometry: geometry,
                                     imagesPerChunk: b, accumulatingInto: &dWeight)
    case .automatic:
        preconditionFailure("resolve never returns .automatic")
    }
}

/// Both gradients of a convolution: returns dInput (shape `geometry.inputShape`) and adds
/// dWeight into `dWeight`. Same bits as `conv2dBackwardInput` followed by
/// `conv2dBackwardWeight`; faster where both run Winograd, which then transforms dOutput once.
public func conv2dBackward(dOutput: Tensor, input: Tensor, weight: Tensor, geometry: Conv2dGeometry,
                           accumulatingInto dWeight: inout Tensor,
                           algorithm: Conv2dAlgorithm = .automatic) -> Tensor {
    precondition(dOutput.shape == geometry.outputShape,
                 "conv2d dOutput \(dOutput.shape), geometry expects \(geometry.outputShape)")
    precondition(input.shape == geometry.inputShape,
                 "conv2d input \(input.shape), geometry expects \(geometry.inputShape)")
    precondition(weight.shape == geometry.weightShape,
                 "conv2d weight \(weight.shape), geometry expects \(geometry.weightShape)")
    precondition(dWeight.shape == geometry.weightShape,
                 "conv2d dWeight \(dWeight.shape), geometry expects \(geometry.weightShape)")
    ensureSingleThreadedBLAS()
    let inputPass = resolve(algorithm, geometry, pass: .backwardInput)
    if inputPass == resolve(algorithm, geometry, pass: .backwardWeight), case .winograd(let b) = inputPass {
        return winogradConv2dBackward(dOutput: dOutput, input: input, weight: weight, geometry: geometry,
                                      imagesPerChunk: b, accumulatingInto: &dWeight)
    }
    let dInput = conv2dBackwardInput(dOutput: dOutput, weight: weight, geometry: geometry, algorithm: algorithm)
    conv2dBackwardWeight(dOutput: dOutput, input: input, geometry: geometry, accumulatingInto: &dWeight,
                         algorithm: algorithm)
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
    case .im2colGemm(let b):
        precondition(b >= 1, "imagesPerChunk must be at least 1, got \(b)")
        return .im2colGemm(imagesPerChunk: min(b, g.batch))
    case .winograd(let b):
        precondition(winogradApplies(g), "Winograd F(2x2,3x3) needs a 3x3 kernel, stride 1 and one group")
        precondition(b >= 1, "imagesPerChunk must be at least 1, got \(b)")
        return .winograd(imagesPerChunk: min(b, g.batch))
    case .automatic:
        // Depthwise (one input channel per group, several groups): per-group GEMMs would have
        // a single row. A single-group, single-channel stem still runs faster as one GEMM.
        if g.inChannels == g.groups && g.groups > 1 { return .direct }
        let tiles = g.batch * ((g.outHeight + 1) / 2) * ((g.outWidth + 1) / 2)
        if winogradApplies(g) && g.inChannels >= 8 && tiles >= 4 * max(g.inChannels, g.outChannels)
            && (g.outHeight * g.outWidth >= 100 || pass != .backwardInput) {
            return .winograd(imagesPerChunk: defaultWinogradImagesPerChunk(g))
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

/// Winograd runs where it measured faster than im2col + GEMM on this machine: from 8 input
/// channels (below, the transforms cost more than the GEMM they save), with enough tiles in
/// the batch to pay for transforming K·C weights on every call (at batch 1, the 64-channel
/// stage is faster with im2col), and for the input gradient only from 10×10 outputs (at
/// 7×7 a quarter of the tiles are padding).
/// Images per Winograd chunk: about 256 tile columns per GEMM. A function of the geometry only.
func defaultWinogradImagesPerChunk(_ g: Conv2dGeometry) -> Int {
    let tiles = ((g.outHeight + 1) / 2) * ((g.outWidth + 1) / 2)
    return max(1, min(g.batch, 256 / tiles))
}

/// Persephone parallelises over images itself; OpenBLAS threads on top of that would
/// oversubscribe the cores. Done once, so a benchmark may still opt in to BLAS threads.
private let singleThreadedBLAS: Void = BLASThreads.set(1)
@inline(__always) func ensureSingleThreadedBLAS() { _ = singleThreadedBLAS }

// MARK: - im2col + GEMM

func gemmConv2dForward(input: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry,
                       imagesPerChunk B: Int) -> Tensor {
    let G = g.groups, cg = g.inChannels / G, kg = g.outChannels / G
    let crs = cg * g.kernelHeight * g.kernelWidth, P = g.outHeight * g.outWidth
    let K = g.outChannels, inImage = g.inChannels * g.height * g.width
    let pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideH == 1 && g.strideW == 1
        && g.padH == 0 && g.padW == 0
    let chunks = ceilDiv(g.batch, B)
    let biasValues = bias?.scalars
    return Tensor(shape: g.outputShape) { y in
        input.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in
            let x = xb.baseAddress!, w = wb.baseAddress!
            Parallel.forEachChunk(count: chunks) { _, chunkRange in
                withScratch(crs * B * P + (B > 1 ? kg * B * P : 0)) { scratch in
                    let col = scratch, ybuf = scratch + crs * B * P
                    for chunk in chunkRange {
                        let n0 = chunk * B, nb = min(B, g.batch - n0)
                        for grp in 0..<G {
                            let wg = w + grp * kg * crs
                            if nb == 1 {
                                // One image: GEMM straight into the NCHW output rows.
                                let b: UnsafePointer<Float>
                                if pointwise {
                                    b = x + n0 * inImage + grp * cg * P
                                } else {
                                    im2col(x + n0 * inImage, images: 1, channelOffset: grp * cg,
                                           geometry: g, into: col)
                                    b = UnsafePointer(col)
                                }
                                let yg = y + (n0 * K + grp * kg) * P
                                sgemm(.none, .none, m: kg, n: P, k: crs, a: wg, lda: crs,
                                      b: b, ldb: P, c: yg, ldc: P)
                                if let bv = biasValues {
                                    for k in 0..<kg {
                                        let v = bv[grp * kg + k], row = yg + k * P
                                        for i in 0..<P { row[i] += v }
                                    }
                                }
                            } else {
                                im2col(x + n0 * inImage, images: nb, channelOffset: grp * cg,
                                       geometry: g, into: col)
                                sgemm(.none, .none, m: kg, n: nb * P, k: crs, a: wg, lda: crs,
                                      b: col, ldb: nb * P, c: ybuf, ldc: nb * P)
                                withOptionalPointer(biasValues) { bp in
                                    scatterChannelRows(ybuf, images: nb, channels: K,
                                                       rowOffset: grp * kg, rows: kg, pixels: P,
                                                       bias: bp, into: y + n0 * K * P)
                                }
                            }
                        }
                    }
                }
            }
        }}
    }
}

func gemmConv2dBackwardInput(dOutput: Tensor, weight: Tensor, geometry g: Conv2dGeometry,
                             imagesPerChunk B: Int) -> Tensor {
    let G = g.groups, cg = g.inChannels / G, kg = g.outChannels / G
    let crs = cg * g.kernelHeight * g.kernelWidth, P = g.outHeight * g.outWidth
    let K = g.outChannels, inImage = g.inChannels * g.height * g.width
    let pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideH == 1 && g.strideW == 1
        && g.padH == 0 && g.padW == 0
    let chunks = ceilDiv(g.batch, B)
    var dInput = Tensor(zeros: g.inputShape)
    dInput.withUnsafeMutableBufferPointer { dxb in
        dOutput.withUnsafeBufferPointer { dyb in weight.withUnsafeBufferPointer { wb in
            let dx = dxb.baseAddress!, dy = dyb.baseAddress!, w = wb.baseAddress!
            Parallel.forEachChunk(count: chunks) { _, chunkRange in
                withScratch(crs * B * P + (B > 1 ? kg * B * P : 0)) { scratch in
                    let col = scratch, dybuf = scratch + crs * B * P
                    for chunk in chunkRange {
                        let n0 = chunk * B, nb = min(B, g.batch - n0)
                        for grp in 0..<G {
                            let wg = w + grp * kg * crs
                            let b: UnsafePointer<Float>
                            if nb == 1 {
                                b = dy + (n0 * K + grp * kg) * P
                            } else {
                                gatherChannelRows(dy + n0 * K * P, images: nb, channels: K,
                                                  rowOffset: grp * kg, rows: kg, pixels: P, into: dybuf)
                                b = UnsafePointer(dybuf)
                            }
                            if nb == 1 && pointwise {
                                // dcol is dInput itself: write the group's channel rows directly.
                                sgemm(.transposed, .none, m: crs, n: P, k: kg, a: wg, lda: crs,
                                      b: b, ldb: P, c: dx + n0 * inImage + grp * cg * P, ldc: P)
                            } else {
                                sgemm(.transposed, .none, m: crs, n: nb * P, k: kg, a: wg, lda: crs,
                                      b: b, ldb: nb * P, c: col, ldc: nb * P)
                                col2im(col, images: nb, channelOffset: grp * cg, geometry: g,
                                       addingInto: dx + n0 * inImage)
                            }
                        }
                    }
                }
            }
        }}
    }
    return dInput
}

func gemmConv2dBackwardWeight(dOutput: Tensor, input: Tensor, geometry g: Conv2dGeometry,
                              imagesPerChunk B: Int, accumulatingInto dWeight: inout Tensor) {
    let G = g.groups, cg = g.inChannels / G, kg = g.outChannels / G
    let crs = cg * g.kernelHeight * g.kernelWidth, P = g.outHeight * g.outWidth
    let K = g.outChannels, inImage = g.inChannels * g.height * g.width
    let pointwise = g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideH == 1 && g.strideW == 1
        && g.padH == 0 && g.padW == 0
    let chunks = ceilDiv(g.batch, B)
    dWeight.withUnsafeMutableBufferPointer { dwb in
        dOutput.withUnsafeBufferPointer { dyb in input.withUnsafeBufferPointer { xb in
            let dy = dyb.baseAddress!, x = xb.baseAddress!
            reduceInLanes(chunks: chunks, size: dwb.count, scratch: crs * B * P + (B > 1 ? kg * B * P : 0),
                          addingInto: dwb.baseAddress!) { chunk, partial, scratch in
                let col = scratch, dybuf = scratch + crs * B * P
                let n0 = chunk * B, nb = min(B, g.batch - n0)
                for grp in 0..<G {
                    let a: UnsafePointer<Float>, bm: UnsafePointer<Float>
                    if nb == 1 {
                        a = dy + (n0 * K + grp * kg) * P
                    } else {
                        gatherChannelRows(dy + n0 * K * P, images: nb, channels: K, rowOffset: grp * kg,
                                          rows: kg, pixels: P, into: dybuf)
                        a = UnsafePointer(dybuf)
                    }
                    if nb == 1 && pointwise {
                        bm = x + n0 * inImage + grp * cg * P
                    } else {
                        im2col(x + n0 * inImage, images: nb, channelOffset: grp * cg, geometry: g, into: col)
                        bm = UnsafePointer(col)
                    }
                    // partial[Kg x CgRS] += dY[Kg x nb*P] * col[CgRS x nb*P]^T
                    sgemm(.none, .transposed, m: kg, n: crs, k: nb * P, a: a, lda: nb * P,
                          b: bm, ldb: nb * P, beta: 1, c: partial + grp * kg * crs, ldc: crs)
                }
            }
        }}
    }
}

@inline(__always)
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Weight-gradient reduction with a fixed summation order. `chunks` work items are
/// dealt to `min(8, chunks)` lanes in contiguous runs; each lane sums its chunks in
/// order into its own zeroed partial, workers take whole lanes, and the lanes are then
/// added in lane order. The bits depend on `chunks` alone, not on the worker count.
func reduceInLanes(chunks: Int, size: Int, scratch scratchCount: Int,
                   addingInto total: UnsafeMutablePointer<Float>,
                   _ body: (_ chunk: Int, _ partial: UnsafeMutablePointer<Float>,
                            _ scratch: UnsafeMutablePointer<Float>) -> Void) {
    guard chunks > 0 else { return }
    let lanes = min(reductionLanes, chunks)
    withScratch(lanes * size) { partials in
        Parallel.forEachChunk(count: lanes) { _, laneRange in
            withScratch(scratchCount) { scratch in
                for lane in laneRange {
                    let partial = partials + lane * size
                    partial.update(repeating: 0, count: size)
                    for chunk in (chunks * lane / lanes)..<(chunks * (lane + 1) / lanes) {
                        body(chunk, partial, scratch)
                    }
                }
            }
        }
        for i in 0..<size {
            var s = partials[i]
            for lane in 1..<max(1, lanes) { s += partials[lane * size + i] }
            total[i] += s
        }
    }
}

/// Lanes of `reduceInLanes`: a multiple of every worker count we run with (1, 2, 4, 8).
let reductionLanes = 8
