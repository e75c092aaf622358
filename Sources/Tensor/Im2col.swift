// im2col / col2im for convolution as GEMM (Chellapilla et al. 2006; darknet's im2col.c).
// Legend as in Conv2dGeometry.swift; P = OH * OW output pixels per image; B images per
// chunk. A column matrix has Cg*R*S rows, ordered (c, r, s) like an OIHW weight row, and
// B*P columns, ordered (b, oh, ow), with leading dimension B*P.

/// Range of output columns `ow` whose input column `ow*stride - pad + s` lies in 0..<W.
@inline(__always)
func validOutputRange(kernelOffset s: Int, stride: Int, pad: Int, inputExtent w: Int,
                      outputExtent ow: Int) -> Range<Int> {
    // ow*stride >= pad - s  and  ow*stride <= w - 1 + pad - s
    let lo = max(0, ceilDiv(pad - s, stride))
    let hi = min(ow, floorDiv(w - 1 + pad - s, stride) + 1)
    return lo..<max(lo, hi)
}

/// dst[0..<n] = src[0..<n]. An inline loop: the rows copied here are often a few floats
/// long, where a call to memmove costs more than the copy.
@inline(__always)
func copyFloats(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count n: Int) {
    for i in 0..<n { dst[i] = src[i] }
}

/// dst[0..<n] = 0, inline for the same reason as `copyFloats`.
@inline(__always)
func zeroFloats(_ dst: UnsafeMutablePointer<Float>, count n: Int) {
    for i in 0..<n { dst[i] = 0 }
}

@inline(__always) func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }
@inline(__always) func floorDiv(_ a: Int, _ b: Int) -> Int {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}

/// Unfolds channels c0..<c0+Cg of `images` consecutive images starting at `x`
/// (each C×H×W) into `col` (Cg*R*S × images*P, leading dimension images*P). Kernels of
/// several taps go through phase planes (`im2colByPhasePlanes`), single taps (1×1, whose
/// phase planes would cost more than the unfolding) row by row (`im2colByRows`); both write
/// the same matrix.
func im2col(_ x: UnsafePointer<Float>, images: Int, channelOffset c0: Int,
            geometry g: Conv2dGeometry, into col: UnsafeMutablePointer<Float>) {
    if g.kernelHeight * g.kernelWidth > 1 {
        im2colByPhasePlanes(x, images: images, channelOffset: c0, geometry: g, into: col)
    } else {
        im2colByRows(x, images: images, channelOffset: c0, geometry: g, into: col)
    }
}

/// `im2col` through phase planes. Each input plane is copied once into SW phase planes of
/// its zero-padded plane (Hp = H + 2·padH rows, Wp = W + 2·padW columns, SW = strideW):
/// phase q holds padded column SW·j + q at column j of rows Wq = ceil(Wp / SW) wide. The
/// segment of col row (c, r, s) for output row oh is then the OW consecutive floats of phase
/// s mod SW at row oh·strideH + r, column s / SW: a plain copy, without the bounds and zero
/// fills `im2colByRows` works out per segment, done in vector loads and stores (segments are
/// 7-28 floats in ResNet-20, where a libc call per segment cost more than the copy).
func im2colByPhasePlanes(_ x: UnsafePointer<Float>, images: Int, channelOffset c0: Int,
                         geometry g: Conv2dGeometry, into col: UnsafeMutablePointer<Float>) {
    let cg = g.inChannels / g.groups
    let H = g.height, W = g.width, OH = g.outHeight, OW = g.outWidth, P = OH * OW
    let R = g.kernelHeight, S = g.kernelWidth, SH = g.strideH, SW = g.strideW
    let imageStride = g.inChannels * H * W, ld = images * P
    let Hp = H + 2 * g.padH, Wp = W + 2 * g.padW, Wq = ceilDiv(Wp, SW), phaseSize = Hp * Wq
    withScratch(SW * phaseSize) { phases in
        for c in 0..<cg {
            for b in 0..<images {
                let plane = x + b * imageStride + (c0 + c) * H * W
                for i in 0..<Hp {
                    let ih = i - g.padH
                    for q in 0..<SW {
                        let dst = phases + q * phaseSize + i * Wq
                        if ih < 0 || ih >= H {
                            for j in 0..<Wq { dst[j] = 0 }
                            continue
                        }
                        let src = plane + ih * W
                        // Column j holds input column iw = SW·j + q - padW where 0 <= iw < W.
                        let valid = validOutputRange(kernelOffset: q, stride: SW, pad: g.padW,
                                                     inputExtent: W, outputExtent: Wq)
                        for j in 0..<valid.lowerBound { dst[j] = 0 }
                        if SW == 1 {
                            copyVectors(src + valid.lowerBound + q - g.padW, to: dst + valid.lowerBound,
                                        count: valid.count)
                        } else {
                            for j in valid { dst[j] = src[SW * j + q - g.padW] }
                        }
                        for j in valid.upperBound..<Wq { dst[j] = 0 }
                    }
                }
                for r in 0..<R {
                    for s in 0..<S {
                        let row = col + ((c * R + r) * S + s) * ld + b * P
                        let phase = phases + (s % SW) * phaseSize + s / SW
                        for oh in 0..<OH {
                            copyVectors(phase + (oh * SH + r) * Wq, to: row + oh * OW, count: OW)
                        }
                    }
                }
            }
        }
    }
}

/// dst[0..<n] = src[0..<n] for non-overlapping buffers, in 8- or 4-float vectors, the last
/// one overlapping the previous where n is not a multiple (it rewrites the same values).
@inline(__always)
func copyVectors(_ src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count n: Int) {
    if n >= 8 {
        var i = 0
        while i + 8 <= n { SIMD8<Float>.load(src + i).store(dst + i); i += 8 }
        if i < n { SIMD8<Float>.load(src + n - 8).store(dst + n - 8) }
    } else if n >= 4 {
        SIMD4<Float>.load(src).store(dst)
        SIMD4<Float>.load(src + n - 4).store(dst + n - 4)
    } else {
        for i in 0..<n { dst[i] = src[i] }
    }
}

/// `im2col` one output row segment at a time, each with its own bounds and zero fills.
func im2colByRows(_ x: UnsafePointer<Float>, images: Int, channelOffset c0: Int,
                  geometry g: Conv2dGeometry, into col: UnsafeMutablePointer<Float>) {
    let cg = g.inChannels / g.groups
    let H = g.height, W = g.width, OH = g.outHeight, OW = g.outWidth, P = OH * OW
    let imageStride = g.inChannels * H * W, ld = images * P
    for c in 0..<cg {
        for r in 0..<g.kernelHeight {
            for s in 0..<g.kernelWidth {
                let row = col + ((c * g.kernelHeight + r) * g.kernelWidth + s) * ld
                let owRange = validOutputRange(kernelOffset: s, stride: g.strideW, pad: g.padW,
                                               inputExtent: W, outputExtent: OW)
                for b in 0..<images {
                    let plane = x + b * imageStride + (c0 + c) * H * W
                    for oh in 0..<OH {
                        let dst = row + b * P + oh * OW
                        let ih = oh * g.strideH - g.padH + r
                        if ih < 0 || ih >= H || owRange.isEmpty {
                            zeroFloats(dst, count: OW)
                            continue
                        }
                        zeroFloats(dst, count: owRange.lowerBound)
                        let src = plane + ih * W - g.padW + s
                        if g.strideW == 1 {
                            copyFloats(src + owRange.lowerBound, to: dst + owRange.lowerBound, count: owRange.count)
                        } else {
                            for ow in owRange { dst[ow] = src[ow * g.strideW] }
                        }
                        zeroFloats(dst + owRange.upperBound, count: OW - owRange.upperBound)
                    }
                }
            }
        }
    }
}

/// Folds `col` (layout as in `im2col`) back, adding into channels c0..<c0+Cg of
/// `images` consecutive images at `dx`. Each dx element receives its terms in
/// (c, r, s, b, oh, ow) order, fixed by the geometry alone.
func col2im(_ col: UnsafePointer<Float>, images: Int, channelOffset c0: Int,
            geometry g: Conv2dGeometry, addingInto dx: UnsafeMutablePointer<Float>) {
    let cg = g.inChannels / g.groups
    let H = g.height, W = g.width, OH = g.outHeight, OW = g.outWidth, P = OH * OW
    let imageStride = g.inChannels * H * W, ld = images * P
    for c in 0..<cg {
        for r in 0..<g.kernelHeight {
            for s in 0..<g.kernelWidth {
                let row = col + ((c * g.kernelHeight + r) * g.kernelWidth + s) * ld
                let owRange = validOutputRange(kernelOffset: s, stride: g.strideW, pad: g.padW,
                                               inputExtent: W, outputExtent: OW)
                if owRange.isEmpty { continue }
                for b in 0..<images {
                    let plane = dx + b * imageStride + (c0 + c) * H * W
                    for oh in 0..<OH {
                        let ih = oh * g.strideH - g.padH + r
                        if ih < 0 || ih >= H { continue }
                        let src = row + b * P + oh * OW
                        let dst = plane + ih * W - g.padW + s
                        if g.strideW == 1 {
                            for ow in owRange { dst[ow] += src[ow] }
                        } else {
                            for ow in owRange { dst[ow * g.strideW] += src[ow] }
                        }
                    }
                }
            }
        }
    }
}

/// Copies rows k0..<k0+Kg of `images` consecutive NCHW maps (each K×P) into a Kg × images*P
/// matrix, so one GEMM covers the whole chunk.
func gatherChannelRows(_ y: UnsafePointer<Float>, images: Int, channels K: Int, rowOffset k0: Int,
                       rows kg: Int, pixels P: Int, into m: UnsafeMutablePointer<Float>) {
    for k in 0..<kg {
        for b in 0..<images {
            copyFloats(y + (b * K + k0 + k) * P, to: m + k * images * P + b * P, count: P)
        }
    }
}

/// Inverse of `gatherChannelRows`, optionally adding `bias[k]` to row k.
func scatterChannelRows(_ m: UnsafePointer<Float>, images: Int, channels K: Int, rowOffset k0: Int,
                        rows kg: Int, pixels P: Int, bias: UnsafePointer<Float>?,
                        into y: UnsafeMutablePointer<Float>) {
    for k in 0..<kg {
        let beta = bias?[k0 + k] ?? 0
        for b in 0..<images {
            let src = m + k * images * P + b * P, dst = y + (b * K + k0 + k) * P
            if bias == nil {
                copyFloats(src, to: dst, count: P)
            } else {
                for i in 0..<P { dst[i] = src[i] + beta }
            }
        }
    }
}
