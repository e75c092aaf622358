// Convolution as im2col + GEMM (Chellapilla et al. 2006), for any stride, padding and group
// count. Legend as in Conv2dGeometry.swift; P = OH * OW, Cg = C / G, Kg = K / G, B images per
// chunk. Per chunk and group: col (Cg·R·S × B·P) = im2col(x); y = W_g · col;
// dcol = W_gᵀ · dY, dx += col2im(dcol); dW_g += dY · colᵀ.

/// Whether the GEMM reads the input itself, unfolding nothing (1×1, stride 1, no padding).
func gemmConvolutionIsPointwise(_ g: Conv2dGeometry) -> Bool {
    g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideH == 1 && g.strideW == 1 && g.padH == 0 && g.padW == 0
}

/// Floats of the im2col columns of every chunk of `B` images: chunk c's group grp at
/// (c·G + grp)·Cg·R·S·B·P, as `gemmConv2dBackwardWeight` unfolds them.
func im2colColumnCount(_ g: Conv2dGeometry, imagesPerChunk B: Int) -> Int {
    ceilDiv(g.batch, B) * g.groups * (g.inChannels / g.groups) * g.kernelHeight * g.kernelWidth * B * g.outHeight * g.outWidth
}

/// With `keptColumns` (`im2colColumnCount` floats), the forward unfolds chunks of `B` images
/// into it as the weight gradient of the same chunking reads them, and multiplies each image's
/// columns straight into its NCHW output: every output element the same chain of fused
/// multiply-adds as with one image per chunk, so the same bits.
func gemmConv2dForward(input: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry,
                       imagesPerChunk B: Int, epilogue: ConvolutionEpilogue? = nil,
                       keepingColumnsIn keptColumns: UnsafeMutablePointer<Float>? = nil) -> Tensor {
    let G = g.groups, cg = g.inChannels / G, kg = g.outChannels / G
    let crs = cg * g.kernelHeight * g.kernelWidth, P = g.outHeight * g.outWidth
    let K = g.outChannels, inImage = g.inChannels * g.height * g.width
    let pointwise = gemmConvolutionIsPointwise(g)
    let chunks = ceilDiv(g.batch, B)
    let biasValues = bias?.scalars
    precondition(keptColumns == nil || !(pointwise && B == 1), "a pointwise convolution over single images unfolds nothing to keep")
    return Tensor(shape: g.outputShape) { y in
        input.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in
            let x = xb.baseAddress!, w = wb.baseAddress!
            Parallel.forEachChunk(count: chunks) { _, chunkRange in
                withScratch(keptColumns != nil ? 0 : crs * B * P + (B > 1 ? kg * B * P : 0)) { scratch in
                    let col = scratch, ybuf = scratch + crs * B * P
                    for chunk in chunkRange {
                        let n0 = chunk * B, nb = min(B, g.batch - n0)
                        for grp in 0..<G {
                            let wg = w + grp * kg * crs
                            if let keptColumns {
                                let kept = keptColumns + (chunk * G + grp) * crs * B * P
                                im2col(x + n0 * inImage, images: nb, channelOffset: grp * cg, geometry: g, into: kept)
                                for b in 0..<nb {
                                    let yg = y + ((n0 + b) * K + grp * kg) * P
                                    chainGemm(m: kg, n: P, k: crs, a: wg, rowStride: crs, columnStride: 1,
                                              b: kept + b * P, ldb: nb * P, c: yg, ldc: P)
                                    addChannelBias(biasValues, channels: grp * kg..<(grp + 1) * kg, pixels: P, to: yg)
                                }
                            } else if nb == 1 {
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
                                chainGemm(m: kg, n: P, k: crs, a: wg, rowStride: crs, columnStride: 1,
                                          b: b, ldb: P, c: yg, ldc: P)
                                addChannelBias(biasValues, channels: grp * kg..<(grp + 1) * kg, pixels: P, to: yg)
                            } else {
                                im2col(x + n0 * inImage, images: nb, channelOffset: grp * cg,
                                       geometry: g, into: col)
                                chainGemm(m: kg, n: nb * P, k: crs, a: wg, rowStride: crs, columnStride: 1,
                                          b: col, ldb: nb * P, c: ybuf, ldc: nb * P)
                                withOptionalPointer(biasValues) { bp in
                                    scatterChannelRows(ybuf, images: nb, channels: K,
                                                       rowOffset: grp * kg, rows: kg, pixels: P,
                                                       bias: bp, into: y + n0 * K * P)
                                }
                            }
                        }
                        epilogue?.apply(to: y, images: n0..<(n0 + nb), channels: K, plane: P)
                    }
                }
            }
        }}
    }
}

/// Adds bias[k] to row k - channels.lowerBound of the P-pixel rows at `rows`, one per channel.
@inline(__always)
private func addChannelBias(_ bias: [Float]?, channels: Range<Int>, pixels P: Int, to rows: UnsafeMutablePointer<Float>) {
    guard let bias else { return }
    for k in channels {
        let v = bias[k], row = rows + (k - channels.lowerBound) * P
        for i in 0..<P { row[i] += v }
    }
}

func gemmConv2dBackwardInput(dOutput: Tensor, weight: Tensor, geometry g: Conv2dGeometry,
                             imagesPerChunk B: Int) -> Tensor {
    let G = g.groups, cg = g.inChannels / G, kg = g.outChannels / G
    let crs = cg * g.kernelHeight * g.kernelWidth, P = g.outHeight * g.outWidth
    let K = g.outChannels, inImage = g.inChannels * g.height * g.width
    let pointwise = gemmConvolutionIsPointwise(g)
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
                                chainGemm(m: crs, n: P, k: kg, a: wg, rowStride: 1, columnStride: crs,
                                          b: b, ldb: P, c: dx + n0 * inImage + grp * cg * P, ldc: P)
                            } else {
                                chainGemm(m: crs, n: nb * P, k: kg, a: wg, rowStride: 1, columnStride: crs,
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

/// `columns`, where given, is the input's im2col columns of every chunk as a training forward
/// of the same geometry and chunking kept them (`im2colColumnCount`): the same values the
/// unfolding would compute again.
func gemmConv2dBackwardWeight(dOutput: Tensor, input: Tensor, geometry g: Conv2dGeometry,
                              imagesPerChunk B: Int, columns kept: UnsafePointer<Float>? = nil,
                              accumulatingInto dWeight: inout Tensor) {
    let G = g.groups, cg = g.inChannels / G, kg = g.outChannels / G
    let crs = cg * g.kernelHeight * g.kernelWidth, P = g.outHeight * g.outWidth
    let K = g.outChannels, inImage = g.inChannels * g.height * g.width
    let pointwise = gemmConvolutionIsPointwise(g)
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
                    if let kept {
                        bm = kept + (chunk * G + grp) * crs * B * P
                    } else if nb == 1 && pointwise {
                        bm = x + n0 * inImage + grp * cg * P
                    } else {
                        im2col(x + n0 * inImage, images: nb, channelOffset: grp * cg, geometry: g, into: col)
                        bm = UnsafePointer(col)
                    }
                    // partial[Kg x CgRS] += dY[Kg x nb*P] * col[CgRS x nb*P]^T
                    chainGemmTransposedB(m: kg, n: crs, k: nb * P, a: a, lda: nb * P, b: bm, ldb: nb * P,
                                         c: partial + grp * kg * crs, ldc: crs, accumulate: true)
                }
            }
        }}
    }
}
