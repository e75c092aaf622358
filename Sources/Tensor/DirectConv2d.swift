// Direct convolution for one input channel per group (Cg = 1): depthwise layers and
// single-channel stems, where im2col + GEMM would run a GEMM with an inner dimension of
// only R*S. Legend as in Conv2dGeometry.swift. Inner loops run along output rows so
// the compiler vectorises them; no loop reduces across vector lanes, so results do not
// depend on vector width or thread count.

func directConv2dForward(input: Tensor, weight: Tensor, bias: Tensor?,
                         geometry g: Conv2dGeometry) -> Tensor {
    precondition(g.inChannels == g.groups)
    let K = g.outChannels, kg = K / g.groups, H = g.height, W = g.width
    let OH = g.outHeight, OW = g.outWidth, R = g.kernelHeight, S = g.kernelWidth
    let biasValues = bias?.scalars
    return Tensor(shape: g.outputShape) { y in
        input.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in
            let x = xb.baseAddress!, w = wb.baseAddress!
            // Planes (n, k) are independent: split them across workers.
            Parallel.forEachChunk(count: g.batch * K) { _, planes in
                for plane in planes {
                    let n = plane / K, k = plane % K, c = k / kg
                    let src = x + (n * g.inChannels + c) * H * W, dst = y + plane * OH * OW
                    let wk = w + k * R * S, b0 = biasValues?[k] ?? 0
                    for oh in 0..<OH {
                        let row = dst + oh * OW
                        for i in 0..<OW { row[i] = b0 }
                        for r in 0..<R {
                            let ih = oh * g.strideH - g.padH + r
                            if ih < 0 || ih >= H { continue }
                            for s in 0..<S {
                                let range = validOutputRange(kernelOffset: s, stride: g.strideW, pad: g.padW,
                                                             inputExtent: W, outputExtent: OW)
                                let wv = wk[r * S + s], xr = src + ih * W - g.padW + s
                                if g.strideW == 1 {
                                    for ow in range { row[ow] += wv * xr[ow] }
                                } else {
                                    for ow in range { row[ow] += wv * xr[ow * g.strideW] }
                                }
                            }
                        }
                    }
                }
            }
        }}
    }
}

func directConv2dBackwardInput(dOutput: Tensor, weight: Tensor, geometry g: Conv2dGeometry) -> Tensor {
    precondition(g.inChannels == g.groups)
    let C = g.inChannels, K = g.outChannels, kg = K / g.groups, H = g.height, W = g.width
    let OH = g.outHeight, OW = g.outWidth, R = g.kernelHeight, S = g.kernelWidth
    var dInput = Tensor(zeros: g.inputShape)
    dInput.withUnsafeMutableBufferPointer { dxb in
        dOutput.withUnsafeBufferPointer { dyb in weight.withUnsafeBufferPointer { wb in
            let dx = dxb.baseAddress!, dy = dyb.baseAddress!, w = wb.baseAddress!
            // Input planes (n, c) are independent; each gathers from its group's Kg outputs.
            Parallel.forEachChunk(count: g.batch * C) { _, planes in
                for plane in planes {
                    let n = plane / C, c = plane % C, dst = dx + plane * H * W
                    for k in (c * kg)..<((c + 1) * kg) {
                        let src = dy + (n * K + k) * OH * OW, wk = w + k * R * S
                        for oh in 0..<OH {
                            let row = src + oh * OW
                            for r in 0..<R {
                                let ih = oh * g.strideH - g.padH + r
                                if ih < 0 || ih >= H { continue }
                                for s in 0..<S {
                                    let range = validOutputRange(kernelOffset: s, stride: g.strideW, pad: g.padW,
                                                                 inputExtent: W, outputExtent: OW)
                                    let wv = wk[r * S + s], xr = dst + ih * W - g.padW + s
                                    if g.strideW == 1 {
                                        for ow in range { xr[ow] += wv * row[ow] }
                                    } else {
                                        for ow in range { xr[ow * g.strideW] += wv * row[ow] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }}
    }
    return dInput
}

func directConv2dBackwardWeight(dOutput: Tensor, input: Tensor, geometry g: Conv2dGeometry,
                                accumulatingInto dWeight: inout Tensor) {
    precondition(g.inChannels == g.groups)
    let K = g.outChannels, kg = K / g.groups, H = g.height, W = g.width
    let OH = g.outHeight, OW = g.outWidth, R = g.kernelHeight, S = g.kernelWidth
    dWeight.withUnsafeMutableBufferPointer { dwb in
        dOutput.withUnsafeBufferPointer { dyb in input.withUnsafeBufferPointer { xb in
            let dw = dwb.baseAddress!, dy = dyb.baseAddress!, x = xb.baseAddress!
            // Each dw[k] depends only on output channel k: split channels across workers and
            // walk images in order. Products accumulate per output column in `acc`, which is
            // summed once at the end, so the inner loop vectorises without reassociation.
            Parallel.forEachChunk(count: K) { _, channels in
                withScratch(OW) { acc in
                    for k in channels {
                        let c = k / kg
                        for r in 0..<R {
                            for s in 0..<S {
                                let range = validOutputRange(kernelOffset: s, stride: g.strideW, pad: g.padW,
                                                             inputExtent: W, outputExtent: OW)
                                zeroFloats(acc, count: OW)
                                for n in 0..<g.batch {
                                    let src = x + (n * g.inChannels + c) * H * W
                                    let grad = dy + (n * K + k) * OH * OW
                                    for oh in 0..<OH {
                                        let ih = oh * g.strideH - g.padH + r
                                        if ih < 0 || ih >= H { continue }
                                        let row = grad + oh * OW, xr = src + ih * W - g.padW + s
                                        if g.strideW == 1 {
                                            for ow in range { acc[ow] += row[ow] * xr[ow] }
                                        } else {
                                            for ow in range { acc[ow] += row[ow] * xr[ow * g.strideW] }
                                        }
                                    }
                                }
                                var sum: Float = 0
                                for ow in 0..<OW { sum += acc[ow] }
                                dw[k * R * S + r * S + s] += sum
                            }
                        }
                    }
                }
            }
        }}
    }
}
