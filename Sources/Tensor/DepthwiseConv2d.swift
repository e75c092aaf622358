// Depthwise 3×3 convolution at padding 1 and stride σ = 1 or 2 with one input channel per
// group (Cg = 1, any Kg): the depthwise layers of MobileNetV2. Legend as in
// Conv2dGeometry.swift; Wq is the row width of a scratch plane and L = OH·Wq rounded up
// to whole SIMD4 vectors.
//
// "Padded rows": each input plane is copied into zero-bordered scratch planes so that
// output pixel (oh, ow) sits at i = oh·Wq + ow and every tap (r, s) reads its plane at
// i + a constant offset. One branch-free loop over i in 0..<L then computes every output
// of the plane (positions past the OW valid columns of a row are computed and thrown
// away), and the valid columns are copied out. On rows of 28, 14, 7 and 4 pixels this
// replaces the direct kernel's per-row, per-tap loops, whose overhead dominated.
//   σ = 1: one plane, the input padded by one pixel on each side, Wq = W + 2; tap (r, s)
//          reads offset r·Wq + s.
//   σ = 2: four phase planes, one per (row parity a, column parity b) of the padded input:
//          phase (a, b) holds padded pixel (2q + a, 2j + b) at q·Wq + j, Wq = OW + 1; tap
//          (r, s) reads phase (r mod 2, s mod 2) at offset (r / 2)·Wq + s / 2.
// Input gradients: at σ = 1 the same loop over zero-padded dOutput with the kernel rotated
// by 180 degrees; at σ = 2 the transpose of the forward loop, each tap adding w·dOutput
// into its phase plane at its offset, then the phase planes gathered back into dInput.
//
// Determinism: every output element is summed in a fixed order (bias, taps in (r, s)
// order, and for input gradients the group's output channels in order); vectors hold
// independent positions. Weight gradients keep SIMD4 partial sums: lane j of tap t sums
// the positions i ≡ j (mod 4) of one image, images are added lane by lane in batch
// order, and the four lanes are added last in lane order. The lane count is fixed by
// the code (SIMD4), not by the machine, and work is split by channel, so the bits depend
// on neither vector width nor `Parallel.workers` (docs/determinism.md).

/// Whether the `depthwise3x3` kernels compute `g`.
func depthwise3x3Applies(_ g: Conv2dGeometry) -> Bool {
    g.inChannels == g.groups && g.kernelHeight == 3 && g.kernelWidth == 3
        && g.padH == 1 && g.padW == 1 && g.strideH == g.strideW && (g.strideH == 1 || g.strideH == 2)
}

/// Layout of the scratch planes of one geometry (see the file comment).
struct DepthwisePlanes {
    let H: Int, W: Int, OH: Int, OW: Int
    /// σ, the stride in both directions.
    let stride: Int
    /// Row width of a (phase) plane: W + 2 at σ = 1, OW + 1 at σ = 2.
    let Wq: Int
    /// Output positions computed per plane: OH·Wq rounded up to a multiple of 4.
    let L: Int
    /// Floats of one (phase) plane: L plus the largest tap offset, so the last vector of
    /// every tap stays inside.
    let phaseSize: Int
    /// Floats of all σ² planes of one input plane.
    let size: Int
    /// Where tap 3r + s reads, from the start of the planes.
    let tapOffsets: [Int]

    init(_ g: Conv2dGeometry) {
        H = g.height; W = g.width; OH = g.outHeight; OW = g.outWidth; stride = g.strideH
        let reach = 2 / stride    // largest (r / σ) or (s / σ)
        Wq = OW + reach
        L = (OH * Wq + 3) / 4 * 4
        phaseSize = L + reach * Wq + reach
        size = stride * stride * phaseSize
        var offsets: [Int] = []
        for r in 0..<3 {
            for s in 0..<3 {
                let phase = (r % stride) * stride + s % stride
                offsets.append(phase * phaseSize + (r / stride) * Wq + s / stride)
            }
        }
        tapOffsets = offsets
    }

    /// The nine tap pointers into planes starting at `planes`.
    @inline(__always)
    func taps(_ planes: UnsafeMutablePointer<Float>) -> Taps {
        Taps(planes, tapOffsets)
    }

    /// Copies an H×W input plane into the interiors of the planes: padded pixel
    /// (σq + a, σj + b) = src[σq + a - 1, σj + b - 1] goes to phase (a, b) at q·Wq + j.
    /// Borders are never written, so zeroed once per scratch buffer they stay zero.
    func pad(_ src: UnsafePointer<Float>, into planes: UnsafeMutablePointer<Float>) {
        if stride == 1 {
            for ih in 0..<H { copyFloats(src + ih * W, to: planes + (ih + 1) * Wq + 1, count: W) }
            return
        }
        forEachPhaseRow { dst, srcOffset, count in
            let from = src + srcOffset, to = planes + dst
            for j in 0..<count { to[j] = from[2 * j] }
        }
    }

    /// dst[ih·W + iw] = the plane element `pad` put input pixel (ih, iw) in.
    func unpad(_ planes: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        if stride == 1 {
            for ih in 0..<H { copyFloats(planes + (ih + 1) * Wq + 1, to: dst + ih * W, count: W) }
            return
        }
        forEachPhaseRow { src, dstOffset, count in
            let from = planes + src, to = dst + dstOffset
            for j in 0..<count { to[2 * j] = from[j] }
        }
    }

    /// At σ = 2: for each phase (a, b) and each plane row q that holds input row
    /// ih = 2q + a - 1, calls body(plane offset of its first input pixel, input offset of
    /// that pixel, pixel count); the pixels are 2 apart in the input, 1 in the plane.
    private func forEachPhaseRow(_ body: (Int, Int, Int) -> Void) {
        for a in 0..<2 {
            for b in 0..<2 {
                // Input column 2j + b - 1 >= 0 from j0 = 1 - b; the last is at most W - 1.
                let j0 = 1 - b, count = (W - b) / 2 - j0 + 1
                if count <= 0 { continue }
                for q in 0..<(OH + 1) {
                    let ih = 2 * q + a - 1
                    if ih < 0 || ih >= H { continue }
                    body((a * 2 + b) * phaseSize + q * Wq + j0, ih * W + 2 * j0 + b - 1, count)
                }
            }
        }
    }

    /// dst[oh·Wq + ow] = src[oh·OW + ow]: an output-sized plane at row stride Wq; the
    /// columns past OW are not written.
    @inline(__always)
    func spread(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        for oh in 0..<OH { copyFloats(src + oh * OW, to: dst + oh * Wq, count: OW) }
    }

    /// dst[oh·OW + ow] = src[oh·Wq + ow]: the valid columns of an output computed at
    /// row stride Wq.
    @inline(__always)
    func extract(_ src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        for oh in 0..<OH { copyFloats(src + oh * Wq, to: dst + oh * OW, count: OW) }
    }

    /// out[i] = start(i) + Σ_t w[t]·tap_t[i] for i in 0..<L, taps t = 3r + s in order,
    /// where start is `initial` or, if `accumulate`, out[i] itself.
    func stencil(_ p: Taps, _ w: UnsafePointer<Float>, initial: Float, accumulate: Bool,
                 into out: UnsafeMutablePointer<Float>) {
        let w0 = SIMD4<Float>(repeating: w[0]), w1 = SIMD4<Float>(repeating: w[1])
        let w2 = SIMD4<Float>(repeating: w[2]), w3 = SIMD4<Float>(repeating: w[3])
        let w4 = SIMD4<Float>(repeating: w[4]), w5 = SIMD4<Float>(repeating: w[5])
        let w6 = SIMD4<Float>(repeating: w[6]), w7 = SIMD4<Float>(repeating: w[7])
        let w8 = SIMD4<Float>(repeating: w[8])
        let b = SIMD4<Float>(repeating: initial)
        var i = 0
        while i < L {
            var a = accumulate ? v4(out + i) : b
            a += w0 * v4(p.t0 + i); a += w1 * v4(p.t1 + i); a += w2 * v4(p.t2 + i)
            a += w3 * v4(p.t3 + i); a += w4 * v4(p.t4 + i); a += w5 * v4(p.t5 + i)
            a += w6 * v4(p.t6 + i); a += w7 * v4(p.t7 + i); a += w8 * v4(p.t8 + i)
            a.store(out + i)
            i += 4
        }
    }

    /// tap_t[i] += w[t]·d[i] for i in 0..<L, one tap after another in order: the transpose
    /// of `stencil`.
    func scatter(_ d: UnsafePointer<Float>, _ w: UnsafePointer<Float>, into p: Taps) {
        func add(_ tap: UnsafeMutablePointer<Float>, _ weight: Float) {
            let wt = SIMD4<Float>(repeating: weight)
            var i = 0
            while i < L {
                (v4(tap + i) + wt * v4(d + i)).store(tap + i)
                i += 4
            }
        }
        add(p.t0, w[0]); add(p.t1, w[1]); add(p.t2, w[2])
        add(p.t3, w[3]); add(p.t4, w[4]); add(p.t5, w[5])
        add(p.t6, w[6]); add(p.t7, w[7]); add(p.t8, w[8])
    }
}

/// The nine tap pointers of a plane set, tap t = 3r + s.
struct Taps {
    let t0, t1, t2, t3, t4, t5, t6, t7, t8: UnsafeMutablePointer<Float>

    @inline(__always)
    init(_ base: UnsafeMutablePointer<Float>, _ offsets: [Int]) {
        t0 = base + offsets[0]; t1 = base + offsets[1]; t2 = base + offsets[2]
        t3 = base + offsets[3]; t4 = base + offsets[4]; t5 = base + offsets[5]
        t6 = base + offsets[6]; t7 = base + offsets[7]; t8 = base + offsets[8]
    }
}

func depthwise3x3Forward(input: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry) -> Tensor {
    precondition(depthwise3x3Applies(g))
    let C = g.inChannels, K = g.outChannels, kg = K / g.groups
    let plane = g.height * g.width, outPlane = g.outHeight * g.outWidth
    let p = DepthwisePlanes(g)
    let biasValues = bias?.scalars
    return Tensor(shape: g.outputShape) { y in
        input.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in
            let x = xb.baseAddress!, w = wb.baseAddress!
            // Input planes (n, c) are independent; each is padded once for its group's Kg outputs.
            Parallel.forEachChunk(count: g.batch * C) { _, planes in
                withScratch(p.size + p.L) { scratch in
                    let xp = scratch, out = scratch + p.size
                    zeroFloats(xp, count: p.size)
                    let taps = p.taps(xp)
                    for nc in planes {
                        let n = nc / C, c = nc % C
                        p.pad(x + nc * plane, into: xp)
                        for k in (c * kg)..<((c + 1) * kg) {
                            p.stencil(taps, w + k * 9, initial: biasValues?[k] ?? 0, accumulate: false, into: out)
                            p.extract(out, into: y + (n * K + k) * outPlane)
                        }
                    }
                }
            }
        }}
    }
}

func depthwise3x3BackwardInput(dOutput: Tensor, weight: Tensor, geometry g: Conv2dGeometry) -> Tensor {
    precondition(depthwise3x3Applies(g))
    let C = g.inChannels, K = g.outChannels, kg = K / g.groups
    let plane = g.height * g.width, outPlane = g.outHeight * g.outWidth
    let p = DepthwisePlanes(g)
    if g.strideH == 2 {
        return Tensor(shape: g.inputShape) { dx in
            dOutput.withUnsafeBufferPointer { dyb in weight.withUnsafeBufferPointer { wb in
                let dy = dyb.baseAddress!, w = wb.baseAddress!
                // Input planes (n, c) are independent; each sums its group's Kg outputs in order.
                Parallel.forEachChunk(count: g.batch * C) { _, planes in
                    withScratch(p.size + p.L) { scratch in
                        let dxp = scratch, dyq = scratch + p.size
                        // Columns past OW and the tail of dyq stay zero.
                        zeroFloats(dyq, count: p.L)
                        let taps = p.taps(dxp)
                        for nc in planes {
                            let n = nc / C, c = nc % C
                            zeroFloats(dxp, count: p.size)
                            for k in (c * kg)..<((c + 1) * kg) {
                                p.spread(dy + (n * K + k) * outPlane, into: dyq)
                                p.scatter(dyq, w + k * 9, into: taps)
                            }
                            p.unpad(dxp, into: dx + nc * plane)
                        }
                    }
                }
            }}
        }
    }
    // w rotated by 180 degrees: tap 3r + s takes w[3(2 - r) + (2 - s)] = w[8 - (3r + s)].
    let w = weight.scalars
    let rotated = (0..<(K * 9)).map { (j: Int) -> Float in w[j - j % 9 + 8 - j % 9] }
    return Tensor(shape: g.inputShape) { dx in
        dOutput.withUnsafeBufferPointer { dyb in rotated.withUnsafeBufferPointer { wb in
            let dy = dyb.baseAddress!, wr = wb.baseAddress!
            // Input planes (n, c) are independent; each sums its group's Kg outputs in order.
            Parallel.forEachChunk(count: g.batch * C) { _, planes in
                withScratch(p.size + p.L) { scratch in
                    let dyp = scratch, out = scratch + p.size
                    zeroFloats(dyp, count: p.size)
                    let taps = p.taps(dyp)
                    for nc in planes {
                        let n = nc / C, c = nc % C
                        for k in (c * kg)..<((c + 1) * kg) {
                            p.pad(dy + (n * K + k) * plane, into: dyp)
                            p.stencil(taps, wr + k * 9, initial: 0, accumulate: k > c * kg, into: out)
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
    let C = g.inChannels, K = g.outChannels, kg = K / g.groups
    let plane = g.height * g.width, outPlane = g.outHeight * g.outWidth
    let p = DepthwisePlanes(g)
    dWeight.withUnsafeMutableBufferPointer { dwb in
        dOutput.withUnsafeBufferPointer { dyb in input.withUnsafeBufferPointer { xb in
            let dw = dwb.baseAddress!, dy = dyb.baseAddress!, x = xb.baseAddress!
            // dw[k] depends only on output channel k: channels are split across workers.
            // Each worker walks the batch in order and, within an image, its channels, so
            // memory is read in order; every channel still adds its images in batch order.
            Parallel.forEachChunk(count: K) { _, channels in
                // Per channel of the chunk: 9 taps × 4 lanes of running sums.
                let totalsSize = channels.count * 36
                withScratch(p.size + p.L + totalsSize) { scratch in
                    let xp = scratch, dyq = scratch + p.size, totals = dyq + p.L
                    // Columns past OW and the tail of dyq stay zero, so positions outside
                    // the output add nothing.
                    zeroFloats(scratch, count: p.size + p.L + totalsSize)
                    let tp = p.taps(xp)
                    let zero = SIMD4<Float>(repeating: 0)
                    for n in 0..<g.batch {
                        for k in channels {
                            let c = k / kg
                            p.pad(x + (n * C + c) * plane, into: xp)
                            p.spread(dy + (n * K + k) * outPlane, into: dyq)
                            var a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero
                            var a5 = zero, a6 = zero, a7 = zero, a8 = zero
                            var i = 0
                            while i < p.L {
                                let d = v4(dyq + i)
                                a0 += d * v4(tp.t0 + i); a1 += d * v4(tp.t1 + i); a2 += d * v4(tp.t2 + i)
                                a3 += d * v4(tp.t3 + i); a4 += d * v4(tp.t4 + i); a5 += d * v4(tp.t5 + i)
                                a6 += d * v4(tp.t6 + i); a7 += d * v4(tp.t7 + i); a8 += d * v4(tp.t8 + i)
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
