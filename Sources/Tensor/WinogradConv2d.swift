// Winograd convolution (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural
// Networks") F(m×m, 3×3) for m = 2 or 4, for 3×3 kernels, stride 1, one group, any padding.
// Legend as in Conv2dGeometry.swift; TH = ceil(OH/m), TW = ceil(OW/m) output tiles of m×m;
// T tile columns in a chunk of whole images; ξ in 0..<n² (n = m + 2) indexes the n×n
// transformed tile.
//
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A   for each n×n input tile d and m×m output tile Y
//
// F(2×2, 3×3) (WinogradTransforms.swift):
//   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],
//   Aᵀ = [1 1 1 0; 0 1 -1 -1]
// F(4×4, 3×3): the matrices in Winograd4x4Transforms.swift.
//
// The sum over input channels becomes n² GEMMs per chunk, M_ξ (K×T) = U_ξ (K×C) · V_ξ (C×T):
// 2.25× (m = 2) or 4× (m = 4) fewer multiplies than direct convolution. The weight gradient
// is the exact adjoint of this computation: dU_ξ = Σ_T dM_ξ V_ξᵀ with dM = A dY Aᵀ, and
// dg = Gᵀ dU G. The input gradient of a stride-1 3×3 convolution is itself one: the forward
// of dY with the kernel rotated 180° and its channels swapped, at padding 2 - pad, so it
// runs this forward (whose input transform writes each tile once, where the adjoint's would
// add the overlapping tiles into dx). Transforms run along whole rows so the compiler
// vectorises them.

/// Whether Winograd computes this geometry (padding at most 2: the input gradient's forward
/// pads by 2 - pad).
func winogradApplies(_ g: Conv2dGeometry) -> Bool {
    g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideH == 1 && g.strideW == 1 && g.groups == 1
        && g.padH <= 2 && g.padW <= 2
}

/// Tile bookkeeping of one geometry, output tile size and chunk size.
struct WinogradPlan {
    let g: Conv2dGeometry
    /// m of F(m×m, 3×3): 2 or 4.
    let outputTile: Int
    let imagesPerChunk: Int
    var C: Int { g.inChannels }
    var K: Int { g.outChannels }
    /// n² transformed positions per tile (n = m + 2): the GEMMs per chunk.
    var positions: Int { (outputTile + 2) * (outputTile + 2) }
    var tilesH: Int { ceilDiv(g.outHeight, outputTile) }
    var tilesW: Int { ceilDiv(g.outWidth, outputTile) }
    var tilesPerImage: Int { tilesH * tilesW }
    /// Tile columns of a full chunk (leading dimension of V and M).
    var columns: Int { imagesPerChunk * tilesPerImage }
    var chunks: Int { ceilDiv(g.batch, imagesPerChunk) }
    /// Row scratch of every transform. F(2×2): the input transform's eight phase planes of
    /// (TH + 1) × TW and its padded plane of (2·TH + 2) × (2·TW + 2), each twice (a pipeline
    /// over the planes), which holds the output transform's four phase planes and the dY
    /// transform's 16·TH·TW floats too; F(4×4): `winograd4RowScratch`.
    var rowScratch: Int {
        let TH = tilesH, TW = tilesW
        if outputTile == 4 { return winograd4RowScratch(tilesH: TH, tilesW: TW) }
        return 2 * (8 * (TH + 1) * TW + (2 * TH + 2) * (2 * TW + 2)) + 8
    }

    init(g: Conv2dGeometry, outputTile: Int, imagesPerChunk: Int) {
        precondition(outputTile == 2 || outputTile == 4, "Winograd F(m×m, 3×3) is built for m = 2 or 4")
        self.g = g
        self.outputTile = outputTile
        self.imagesPerChunk = imagesPerChunk
    }

    // The transforms of this plan's tile size.
    func transformWeights(_ w: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>) {
        if outputTile == 4 { winograd4TransformWeights(w, K: K, C: C, into: u) }
        else { winogradTransformWeights(w, K: K, C: C, into: u) }
    }
    func addWeightGradient(_ du: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>) {
        if outputTile == 4 { winograd4AddWeightGradient(du, K: K, C: C, into: dw) }
        else { winogradAddWeightGradient(du, K: K, C: C, into: dw) }
    }
    func transformInput(_ x: UnsafePointer<Float>, images: Int, into v: UnsafeMutablePointer<Float>,
                        rows: UnsafeMutablePointer<Float>) {
        if outputTile == 4 { winograd4TransformInput(x, images: images, plan: self, into: v, rows: rows) }
        else { winogradTransformInput(x, images: images, plan: self, into: v, rows: rows) }
    }
    func transformOutput(_ m: UnsafePointer<Float>, images: Int, bias: UnsafePointer<Float>?,
                         into y: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
        if outputTile == 4 { winograd4TransformOutput(m, images: images, plan: self, bias: bias, into: y, rows: rows) }
        else { winogradTransformOutput(m, images: images, plan: self, bias: bias, into: y, rows: rows) }
    }
    func transformOutputGradient(_ dy: UnsafePointer<Float>, images: Int, into dm: UnsafeMutablePointer<Float>,
                                 rows: UnsafeMutablePointer<Float>) {
        if outputTile == 4 { winograd4TransformOutputGradient(dy, images: images, plan: self, into: dm, rows: rows) }
        else { winogradTransformOutputGradient(dy, images: images, plan: self, into: dm, rows: rows) }
    }
}

/// Floats of V for every chunk of the batch (n²·C·T each), as a training forward keeps them.
func winogradInputTransformCount(_ p: WinogradPlan) -> Int { p.chunks * p.positions * p.C * p.columns }

/// Scratch of one worker: V or dV (n²·C·T), M or dM (n²·K·T), row scratch.
private func winogradScratchCount(_ p: WinogradPlan) -> Int {
    p.positions * p.C * p.columns + p.positions * p.K * p.columns + p.rowScratch
}

func winogradConv2dForward(input: Tensor, weight: Tensor, bias: Tensor?, geometry g: Conv2dGeometry,
                           outputTile: Int, imagesPerChunk: Int,
                           keepingInputTransformIn kept: UnsafeMutablePointer<Float>? = nil,
                           epilogue: ConvolutionEpilogue? = nil) -> Tensor {
    precondition(winogradApplies(g))
    let p = WinogradPlan(g: g, outputTile: outputTile, imagesPerChunk: imagesPerChunk)
    let n2 = p.positions
    let C = p.C, K = p.K, T = p.columns, inImage = C * g.height * g.width
    let outImage = K * g.outHeight * g.outWidth
    let biasValues = bias?.scalars
    return Tensor(shape: g.outputShape) { y in
        input.withUnsafeBufferPointer { xb in weight.withUnsafeBufferPointer { wb in
            withScratch(n2 * K * C) { u in
                p.transformWeights(wb.baseAddress!, into: u)
                Parallel.forEachChunk(count: p.chunks) { _, chunkRange in
                    withScratch(winogradScratchCount(p)) { scratch in
                        let m = scratch + n2 * C * T, rows = m + n2 * K * T
                        for chunk in chunkRange {
                            let n0 = chunk * imagesPerChunk, nb = min(imagesPerChunk, g.batch - n0)
                            let cols = nb * p.tilesPerImage
                            let v = kept.map { $0 + chunk * n2 * C * T } ?? scratch
                            p.transformInput(xb.baseAddress! + n0 * inImage, images: nb, into: v, rows: rows)
                            for xi in 0..<n2 {
                                chainGemm(m: K, n: cols, k: C, a: u + xi * K * C, rowStride: C, columnStride: 1,
                                          b: v + xi * C * T, ldb: T, c: m + xi * K * T, ldc: T)
                            }
                            withOptionalPointer(biasValues) { bp in
                                p.transformOutput(m, images: nb, bias: bp, into: y + n0 * outImage, rows: rows)
                            }
                            epilogue?.apply(to: y, images: n0..<(n0 + nb), channels: K, plane: g.outHeight * g.outWidth)
                        }
                    }
                }
            }
        }}
    }
}

func winogradConv2dBackwardInput(dOutput: Tensor, weight: Tensor, geometry g: Conv2dGeometry,
                                 outputTile: Int, imagesPerChunk: Int) -> Tensor {
    precondition(winogradApplies(g))
    let K = g.outChannels, C = g.inChannels
    let transposed = Conv2dGeometry(batch: g.batch, inChannels: K, height: g.outHeight, width: g.outWidth,
                                    outChannels: C, kernelSize: (3, 3), padding: (2 - g.padH, 2 - g.padW))
    // w'[c][k][r][s] = w[k][c][2 - r][2 - s].
    let rotated = Tensor(shape: transposed.weightShape) { wt in
        weight.withUnsafeBufferPointer { w in
            for k in 0..<K {
                for c in 0..<C {
                    for tap in 0..<9 { wt[(c * K + k) * 9 + 8 - tap] = w[(k * C + c) * 9 + tap] }
                }
            }
        }
    }
    return winogradConv2dForward(input: dOutput, weight: rotated, bias: nil, geometry: transposed,
                                 outputTile: outputTile, imagesPerChunk: imagesPerChunk)
}

func winogradConv2dBackwardWeight(dOutput: Tensor, input: Tensor, geometry g: Conv2dGeometry,
                                  outputTile: Int, imagesPerChunk: Int,
                                  inputTransform kept: UnsafePointer<Float>? = nil,
                                  accumulatingInto dWeight: inout Tensor) {
    precondition(winogradApplies(g))
    let p = WinogradPlan(g: g, outputTile: outputTile, imagesPerChunk: imagesPerChunk)
    let n2 = p.positions
    let C = p.C, K = p.K, T = p.columns, inImage = C * g.height * g.width
    let outImage = K * g.outHeight * g.outWidth
    dWeight.withUnsafeMutableBufferPointer { dwb in
        dOutput.withUnsafeBufferPointer { dyb in input.withUnsafeBufferPointer { xb in
            withScratch(n2 * K * C) { du in
                du.update(repeating: 0, count: n2 * K * C)
                reduceInLanes(chunks: p.chunks, size: n2 * K * C, scratch: winogradScratchCount(p),
                              addingInto: du) { chunk, partial, scratch in
                    let dm = scratch + n2 * C * T, rows = dm + n2 * K * T
                    let n0 = chunk * imagesPerChunk, nb = min(imagesPerChunk, g.batch - n0)
                    let cols = nb * p.tilesPerImage
                    let v = UnsafePointer(kept.map { $0 + chunk * n2 * C * T }) ?? UnsafePointer(scratch)
                    if kept == nil {
                        p.transformInput(xb.baseAddress! + n0 * inImage, images: nb, into: scratch, rows: rows)
                    }
                    p.transformOutputGradient(dyb.baseAddress! + n0 * outImage, images: nb, into: dm, rows: rows)
                    for xi in 0..<n2 {
                        chainGemmTransposedB(m: K, n: C, k: cols, a: dm + xi * K * T, lda: T, b: v + xi * C * T, ldb: T,
                                             c: partial + xi * K * C, ldc: C, accumulate: true)
                    }
                }
                p.addWeightGradient(du, into: dwb.baseAddress!)
            }
        }}
    }
}
