// Depthwise 3×3 convolution at stride 1 and padding 1 with one input channel per group
// (Cg = 1, any Kg): the common MobileNetV2 layer. Legend as in Conv2dGeometry.swift;
// Wp = W + 2 is the padded row width and L = OH·Wp rounded up to whole SIMD4 vectors.
//
// "Padded rows": each input plane is copied into a zero-bordered scratch plane xp of
// H + 2 rows of Wp floats, so output pixel (oh, ow) sits at i = oh·Wp + ow and tap
// (r, s) reads xp[i + r·Wp + s] without bounds checks. One branch-free loop over
// i in 0..<L computes every output of the plane (the two gap columns of each row are
// computed and thrown away), then the OW valid columns of each row are copied out. On
// rows of 28, 14, 7 and 4 pixels this replaces the direct kernel's per-row, per-tap
// loops, whose overhead dominated. The input gradient at stride 1 and padding 1 is the
// same loop over zero-padded dOutput with the kernel rotated by 180 degrees.
//
// Determinism: every output element is summed in a fixed order (bias, taps in (r, s)
// order, and for input gradients the group's output channels in order); vectors hold
// independent positions. Weight gradients keep SIMD4 partial sums: lane j of tap t sums
// the positions i ≡ j (mod 4) of one image, images are added lane by lane in batch
// order, and the four lanes are added last in lane order. The lane count is fixed by
// the code (SIMD4), not by the machine, and work is split by channel, so the bits depend
// on neither vector width nor `Parallel.workers` (docs/determinism.md).

/// Whether `depthwise3x3` kernels compute `g`.
func depthwise3x3Applies(_ g: Conv2dGeometry) -> Bool {
    g.inChannels == g.groups && g.kernelHeight == 3 && g.kernelWidth == 3
        && g.strideH == 1 && g.strideW == 1 && g.padH == 1 && g.padW == 1
}

/// Sizes of the padded scratch planes of one geometry.
struct PaddedPlanes {
    let H: Int, W: Int
    /// Padded row width W + 2.
    let Wp: Int
    /// Output positions computed per plane: H·Wp rounded up to a multiple of 4.
    let L: Int
    /// Floats of a padded input plane: the H + 2 rows plus slack, so the last vector of
    /// the last tap (offset 2·Wp + 2) stays inside.
    let inputSize: Int

    init(_ g: Conv2dGeometry) {
        H = g.height; W = g.width; Wp = W + 2
        L = (H * Wp + 3) / 4 * 4
        inputSize = L + 2 * Wp + 2
    }

    /// xp[(ih + 1)·Wp + 1 + iw] = src[ih·W + iw]. Writes only the interior, so borders
    /// zeroed once per scratch buffer stay zero.
    @inline(__always)
    func pad(_ src: UnsafePointer<Float>, into xp: UnsafeMutablePointer<Float>) {
        for ih in 0..<H { copyFloats(src + ih * W, to: xp + (ih + 1) * Wp + 1, count: W) }
    }

    /// dst[oh·Wp + ow] = src[oh·W + ow]: a plane at row stride Wp, gap columns untouched.
    @inline(__always)
    func spread(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        for oh in 0..<H { copyFloats(src + oh * W, to: dst + oh * Wp, count: W) }
    }

    /// dst[oh·W + ow] = src[oh·Wp + ow]: the valid columns of a padded-coordinate output.
    @inline(__always)
    func extract(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        for oh in 0..<H { copyFloats(src + oh * Wp, to: dst + oh * W, count: W) }
    }

    /// out[i] = start(i) + Σ_t w[t]·xp[i + offset(t)] for i in 0..<L, taps t = 3r + s in
    /// order, where start is `initial` or, if `accumulate`, out[i] itself.
    @inline(__always)
    func stencil(_ xp: UnsafePointer<Float>, _ w: UnsafePointer<Float>, initial: Float, accumulate: Bool,
                 into out: UnsafeMutablePointer<Float>) {
        let w0 = SIMD4<Float>(repeating: w[0]), w1 = SIMD4<Float>(repeating: w[1])
        let w2 = SIMD4<Float>(repeating: w[2]), w3 = SIMD4<Float>(repeating: w[3])
        let w4 = SIMD4<Float>(repeating: w[4]), w5 = SIMD4<Float>(repeating: w[5])
        let w6 = SIMD4<Float>(repeating: w[6]), w7 = SIMD4<Float>(repeating: w[7])
        let w8 = SIMD4<Float>(repeating: w[8])
        let x0 = UnsafePointer(xp), x1 = x0 + Wp, x2 = x1 + Wp
        let b = SIMD4<Float>(repeating: initial)
        var i = 0
        while i < L {
            var a = accumulate ? v4(out + i) : b
            a += w0 * v4(x0 + i); a += w1 * v4(x0 + i + 1); a += w2 * v4(x0 + i + 2)
            a += w3 * v4(x1 + i); a += w4 * v4(x1 + i + 1); a += w5 * v4(x1 + i + 2)
            a += w6 * v4(x2 + i); a += w7 * v4(x2 + i + 1); a += w8 * v4(x2 + i + 2)
            a.store(out + i)
            i += 4
        }
    }
}

func depthwise3x3Forward(input: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry) -> Tensor {
    precondition(depthwise3x3Applies(g))
    let C = g.inChannels, K = g.outChannels, kg = K / g.groups, plane = g.height * g.width
    let p = PaddedPlanes(g)
    let biasValues = bias?.scalars
    return Tensor(shape: g.outputShape) { y in
        input.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in
            let x = xb.baseAddress!, w = wb.baseAddress!
            // Input planes (n, c) are independent; each is padded once for its group's Kg outputs.
            Parallel.forEachChunk(count: g.batch * C) { _, planes in
                withScratch(p.inputSize + p.L) { scratch in
                    let xp = scratch, out = scratch + p.inputSize
                    zeroFloats(xp, count: p.inputSize)
                    for nc in planes {
                        let n = nc / C, c = nc % C
                        p.pad(x + nc * plane, into: xp)
                        for k in (c * kg)..<((c + 1) * kg) {
                            p.stencil(xp, w + k * 9, initial: biasValues?[k] ?? 0, accumulate: false, into: out)
                            p.extract(out, into: y + (n * K + k) * plane)
                        }
                    }
                }
            }
        }}
    }
}

func depthwise3x3BackwardInput(dOutput: Tensor, weight: Tensor, geometry g: Conv2dGeometry) -> Tensor {
    precondition(depthwise3x3Applies(g))
    let C = g.inChannels, K = g.outChannels, kg = K / g.groups, plane = g.height * g.width
    let p = PaddedPlanes(g)
    // w rotated by 180 degrees: tap 3r + s takes w[3(2 - r) + (2 - s)] = w[8 - (3r + s)].
    let w = weight.scalars
    let rotated = (0..<(K * 9)).map { (j: Int) -> Float in w[j - j % 9 + 8 - j % 9] }
    return Tensor(shape: g.inputShape) { dx in
        dOutput.withUnsafeBufferPointer { dyb in rotated.withUnsafeBufferPointer { wb in
            let dy = dyb.baseAddress!, wr = wb.baseAddress!
            // Input planes (n, c) are independent; each sums its group's Kg outputs in order.
            Parallel.forEachChunk(count: g.batch * C) { _, planes in
                withScratch(p.inputSize + p.L) { scratch in
                    let dyp = scratch, out = scratch + p.inputSize
                    zeroFloats(dyp, count: p.inputSize)
                    for nc in planes {
                        let n = nc / C, c = nc % C
                        for k in (c * kg)..<((c + 1) * kg) {
                            p.pad(dy + (n * K + k) * plane, into: dyp)
                            p.stencil(dyp, wr + k * 9, initial: 0, accumulate: k > c * kg, into: out)
                        }
                        p.extract(out, into: dx + nc * plane)
                    }
                }
            }
        }}
    }
}

func depthwise3x3BackwardWeight(dOutput: Tensor, input: Tensor, geometry g: Conv2dGeometry,
                                accumulatingInto dWeight: inout Tensor) {
    precondition(depthwise3x3Applies(g))
    let C = g.inChannels, K = g.outChannels, kg = K / g.groups, plane = g.height * g.width
    let p = PaddedPlanes(g)
    let Wp = p.Wp
    dWeight.withUnsafeMutableBufferPointer { dwb in
        dOutput.withUnsafeBufferPointer { dyb in input.withUnsafeBufferPointer { xb in
            let dw = dwb.baseAddress!, dy = dyb.baseAddress!, x = xb.baseAddress!
            // dw[k] depends only on output channel k: channels are split across workers.
            // Each worker walks the batch in order and, within an image, its channels, so
            // memory is read in order; every channel still adds its images in batch order.
            Parallel.forEachChunk(count: K) { _, channels in
                // Per channel of the chunk: 9 taps × 4 lanes of running sums.
                let totalsSize = channels.count * 36
                withScratch(p.inputSize + p.L + totalsSize) { scratch in
                    let xp = scratch, dyp = scratch + p.inputSize, totals = dyp + p.L
                    // Gap columns and the tail of dyp stay zero, so positions outside the
                    // output add nothing.
                    zeroFloats(scratch, count: p.inputSize + p.L + totalsSize)
                    let x0 = UnsafePointer(xp), x1 = x0 + Wp, x2 = x1 + Wp
                    let zero = SIMD4<Float>(repeating: 0)
                    for n in 0..<g.batch {
                        for k in channels {
                            let c = k / kg
                            p.pad(x + (n * C + c) * plane, into: xp)
                            p.spread(dy + (n * K + k) * plane, into: dyp)
                            var a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero
                            var a5 = zero, a6 = zero, a7 = zero, a8 = zero
                            var i = 0
                            while i < p.L {
                                let d = v4(dyp + i)
                                a0 += d * v4(x0 + i); a1 += d * v4(x0 + i + 1); a2 += d * v4(x0 + i + 2)
                                a3 += d * v4(x1 + i); a4 += d * v4(x1 + i + 1); a5 += d * v4(x1 + i + 2)
                                a6 += d * v4(x2 + i); a7 += d * v4(x2 + i + 1); a8 += d * v4(x2 + i + 2)
                                i += 4
                            }
                            let t = totals + (k - channels.lowerBound) * 36
                            (v4(t) + a0).store(t); (v4(t + 4) + a1).store(t + 4); (v4(t + 8) + a2).store(t + 8)
                            (v4(t + 12) + a3).store(t + 12); (v4(t + 16) + a4).store(t + 16)
                            (v4(t + 20) + a5).store(t + 20); (v4(t + 24) + a6).store(t + 24)
                            (v4(t + 28) + a7).store(t + 28); (v4(t + 32) + a8).store(t + 32)
                        }
                    }
                    for k in channels {
                        let t = totals + (k - channels.lowerBound) * 36
                        for tap in 0..<9 { dw[k * 9 + tap] += laneSum(v4(t + tap * 4)) }
                    }
                }
            }
        }}
    }
}

/// ((v0 + v1) + v2) + v3: the lanes in lane order, whatever the machine's vector width.
@inline(__always)
private func laneSum(_ v: SIMD4<Float>) -> Float {
    ((v[0] + v[1]) + v[2]) + v[3]
}

/// Four floats from `p`, unaligned.
@inline(__always)
private func v4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}
