// Winograd F(2×2, 3×3) convolution (Lavin & Gray 2016, "Fast Algorithms for Convolutional
// Neural Networks"), for 3×3 kernels, stride 1, one group, any padding. Legend as in
// Conv2dGeometry.swift; TH = ceil(OH/2), TW = ceil(OW/2) output tiles of 2×2; T tile columns
// in a chunk of whole images; ξ in 0..<16 indexes the 4×4 transformed tile.
//
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A   for each 4×4 input tile d and 2×2 output tile Y
//   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],
//   Aᵀ = [1 1 1 0; 0 1 -1 -1]
//
// The sum over input channels becomes 16 GEMMs per chunk, M_ξ (K×T) = U_ξ (K×C) · V_ξ (C×T),
// with 2.25× fewer multiplies than direct convolution. The backward passes are the exact
// adjoints of this computation: dV_ξ = U_ξᵀ dM_ξ with dM = A dY Aᵀ and dd = B dV Bᵀ for the
// input, and dU_ξ = Σ_T dM_ξ V_ξᵀ, dg = Gᵀ dU G for the weights. Transforms run along whole
// rows so the compiler vectorises them.

/// Whether Winograd F(2×2, 3×3) computes this geometry.
func winogradApplies(_ g: Conv2dGeometry) -> Bool {
    g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1 && g.groups == 1
}

/// Tile bookkeeping of one geometry and chunk size.
struct WinogradPlan {
    let g: Conv2dGeometry
    let imagesPerChunk: Int
    var C: Int { g.inChannels }
    var K: Int { g.outChannels }
    var tilesH: Int { (g.outHeight + 1) / 2 }
    var tilesW: Int { (g.outWidth + 1) / 2 }
    var tilesPerImage: Int { tilesH * tilesW }
    /// Tile columns of a full chunk (leading dimension of V and M).
    var columns: Int { imagesPerChunk * tilesPerImage }
    var chunks: Int { ceilDiv(g.batch, imagesPerChunk) }
    /// Row scratch of every transform: the input transform's eight phase planes of
    /// (TH + 1) × TW and its padded plane of (2·TH + 2) × (2·TW + 2), each twice (a pipeline
    /// over the planes), or the other transforms' rows (16 padded rows plus a padded row).
    var rowScratch: Int {
        max(2 * (8 * (tilesH + 1) * tilesW + (2 * tilesH + 2) * (2 * tilesW + 2)), 18 * (tilesW + 1)) + 8
    }
}

/// Scratch of one worker: V or dV (16·C·T), M or dM (16·K·T), row scratch.
private func winogradScratchCount(_ p: WinogradPlan) -> Int {
    16 * p.C * p.columns + 16 * p.K * p.columns + p.rowScratch
}

func winogradConv2dForward(input: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry,
                           imagesPerChunk: Int) -> Tensor {
    precondition(winogradApplies(g))
    let p = WinogradPlan(g: g, imagesPerChunk: imagesPerChunk)
    let C = p.C, K = p.K, T = p.columns, inImage = C * g.height * g.width
    let outImage = K * g.outHeight * g.outWidth
    let biasValues = bias?.scalars
    return Tensor(shape: g.outputShape) { y in
        input.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in
            withScratch(16 * K * C) { u in
                winogradTransformWeights(wb.baseAddress!, K: K, C: C, into: u)
                Parallel.forEachChunk(count: p.chunks) { _, chunkRange in
                    withScratch(winogradScratchCount(p)) { scratch in
                        let v = scratch, m = scratch + 16 * C * T, rows = m + 16 * K * T
                        for chunk in chunkRange {
                            let n0 = chunk * imagesPerChunk, nb = min(imagesPerChunk, g.batch - n0)
                            let cols = nb * p.tilesPerImage
                            winogradTransformInput(xb.baseAddress! + n0 * inImage, images: nb, plan: p,
                                                   into: v, rows: rows)
                            for xi in 0..<16 {
                                sgemm(.none, .none, m: K, n: cols, k: C, a: u + xi * K * C, lda: C,
                                      b: v + xi * C * T, ldb: T, c: m + xi * K * T, ldc: T)
                            }
                            withOptionalPointer(biasValues) { bp in
                                winogradTransformOutput(m, images: nb, plan: p, bias: bp,
                                                        into: y + n0 * outImage, rows: rows)
                            }
                        }
                    }
                }
            }
        }}
    }
}

func winogradConv2dBackwardInput(dOutput: Tensor, weight: Tensor, geometry g: Conv2dGeometry,
                                 imagesPerChunk: Int) -> Tensor {
    precondition(winogradApplies(g))
    let p = WinogradPlan(g: g, imagesPerChunk: imagesPerChunk)
    let C = p.C, K = p.K, T = p.columns, inImage = C * g.height * g.width
    let outImage = K * g.outHeight * g.outWidth
    var dInput = Tensor(zeros: g.inputShape)
    dInput.withUnsafeMutableBufferPointer { dxb in
        dOutput.withUnsafeBufferPointer { dyb in weight.withUnsafeBufferPointer { wb in
            withScratch(16 * K * C) { u in
                winogradTransformWeights(wb.baseAddress!, K: K, C: C, into: u)
                Parallel.forEachChunk(count: p.chunks) { _, chunkRange in
                    withScratch(winogradScratchCount(p)) { scratch in
                        let dv = scratch, dm = scratch + 16 * C * T, rows = dm + 16 * K * T
                        for chunk in chunkRange {
                            let n0 = chunk * imagesPerChunk, nb = min(imagesPerChunk, g.batch - n0)
                            let cols = nb * p.tilesPerImage
                            winogradTransformOutputGradient(dyb.baseAddress! + n0 * outImage, images: nb, plan: p,
                                                            into: dm, rows: rows)
                            for xi in 0..<16 {
                                sgemm(.transposed, .none, m: C, n: cols, k: K, a: u + xi * K * C, lda: C,
                                      b: dm + xi * K * T, ldb: T, c: dv + xi * C * T, ldc: T)
                            }
                            winogradAddInputGradient(dv, images: nb, plan: p, into: dxb.baseAddress! + n0 * inImage,
                                                     rows: rows)
                        }
                    }
                }
            }
        }}
    }
    return dInput
}

func winogradConv2dBackwardWeight(dOutput: Tensor, input: Tensor, geometry g: Conv2dGeometry,
                                  imagesPerChunk: Int, accumulatingInto dWeight: inout Tensor) {
    precondition(winogradApplies(g))
    let p = WinogradPlan(g: g, imagesPerChunk: imagesPerChunk)
    let C = p.C, K = p.K, T = p.columns, inImage = C * g.height * g.width
    let outImage = K * g.outHeight * g.outWidth
    dWeight.withUnsafeMutableBufferPointer { dwb in
        dOutput.withUnsafeBufferPointer { dyb in input.withUnsafeBufferPointer { xb in
            withScratch(16 * K * C) { du in
                du.update(repeating: 0, count: 16 * K * C)
                reduceInLanes(chunks: p.chunks, size: 16 * K * C, scratch: winogradScratchCount(p),
                              addingInto: du) { chunk, partial, scratch in
                    let v = scratch, dm = scratch + 16 * C * T, rows = dm + 16 * K * T
                    let n0 = chunk * imagesPerChunk, nb = min(imagesPerChunk, g.batch - n0)
                    let cols = nb * p.tilesPerImage
                    winogradTransformInput(xb.baseAddress! + n0 * inImage, images: nb, plan: p, into: v, rows: rows)
                    winogradTransformOutputGradient(dyb.baseAddress! + n0 * outImage, images: nb, plan: p,
                                                    into: dm, rows: rows)
                    for xi in 0..<16 {
                        sgemm(.none, .transposed, m: K, n: C, k: cols, a: dm + xi * K * T, lda: T,
                              b: v + xi * C * T, ldb: T, beta: 1, c: partial + xi * K * C, ldc: C)
                    }
                }
                winogradAddWeightGradient(du, K: K, C: C, into: dwb.baseAddress!)
            }
        }}
    }
}

/// Both gradients in one pass over the batch, sharing the transform of dY. Bit-identical to
/// `winogradConv2dBackwardInput` followed by `winogradConv2dBackwardWeight` with the same
/// chunking: each chunk runs the same operations, and dU uses the same lanes.
func winogradConv2dBackward(dOutput: Tensor, input: Tensor, weight: Tensor, geometry g: Conv2dGeometry,
                            imagesPerChunk: Int, accumulatingInto dWeight: inout Tensor) -> Tensor {
    precondition(winogradApplies(g))
    let p = WinogradPlan(g: g, imagesPerChunk: imagesPerChunk)
    let C = p.C, K = p.K, T = p.columns, inImage = C * g.height * g.width
    let outImage = K * g.outHeight * g.outWidth
    var dInput = Tensor(zeros: g.inputShape)
    dInput.withUnsafeMutableBufferPointer { dxb in
        dWeight.withUnsafeMutableBufferPointer { dwb in
            dOutput.withUnsafeBufferPointer { dyb in input.withUnsafeBufferPointer { xb in
                weight.withUnsafeBufferPointer { wb in
                    withScratch(32 * K * C) { uBuffers in
                        let u = uBuffers, du = uBuffers + 16 * K * C
                        winogradTransformWeights(wb.baseAddress!, K: K, C: C, into: u)
                        du.update(repeating: 0, count: 16 * K * C)
                        let scratchCount = winogradScratchCount(p) + 16 * C * T
                        reduceInLanes(chunks: p.chunks, size: 16 * K * C, scratch: scratchCount,
                                      addingInto: du) { chunk, partial, scratch in
                            let v = scratch, dm = scratch + 16 * C * T, rows = dm + 16 * K * T
                            let dv = rows + p.rowScratch
                            let n0 = chunk * imagesPerChunk, nb = min(imagesPerChunk, g.batch - n0)
                            let cols = nb * p.tilesPerImage
                            winogradTransformOutputGradient(dyb.baseAddress! + n0 * outImage, images: nb, plan: p,
                                                            into: dm, rows: rows)
                            winogradTransformInput(xb.baseAddress! + n0 * inImage, images: nb, plan: p,
                                                   into: v, rows: rows)
                            for xi in 0..<16 {
                                sgemm(.transposed, .none, m: C, n: cols, k: K, a: u + xi * K * C, lda: C,
                                      b: dm + xi * K * T, ldb: T, c: dv + xi * C * T, ldc: T)
                                sgemm(.none, .transposed, m: K, n: C, k: cols, a: dm + xi * K * T, lda: T,
                                      b: v + xi * C * T, ldb: T, beta: 1, c: partial + xi * K * C, ldc: C)
                            }
                            winogradAddInputGradient(dv, images: nb, plan: p, into: dxb.baseAddress! + n0 * inImage,
                                                     rows: rows)
                        }
                        winogradAddWeightGradient(du, K: K, C: C, into: dwb.baseAddress!)
                    }
                }
            }}
        }
    }
    return dInput
}
