// The tile transforms of Winograd F(4×4, 3×3): 6×6 input tiles at stride 4, 36 transformed
// positions ξ = 6i + j, 4×4 output tiles (see WinogradConv2d.swift for the algorithm, the
// adjoints and the legend). Interpolation points 0, ±1, ±2 and ∞:
//
//   Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G  = [¼ 0 0; -⅙ -⅙ -⅙; -⅙ ⅙ -⅙; 1/24 1/12 ⅙; 1/24 -1/12 ⅙; 0 0 1]
//   Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
//
// 36 multiplies per 16 outputs and channel pair (2.25 per output) against F(2×2, 3×3)'s 16 per
// 4 (4 per output). As in WinogradTransforms.swift, rows are split into phase planes (here by
// column modulo 4) so one vector loop runs over all tiles of a plane, and each 2-D transform
// is the 1-D one applied to the rows and then to the columns of the tile.

// MARK: - The 1-D transforms

/// Bᵀ d for one column (or row) of six values.
@inline(__always)
private func inputTransform6<L: FloatLanes>(_ d: (L, L, L, L, L, L)) -> (L, L, L, L, L, L) {
    let d13 = d.1 + d.2, d31 = d.3 - d.1, d42 = d.4 - d.2
    return (d.0 * 4 - d.2 * 5 + d.4,
            (d.3 + d.4) - d13 * 4,
            (d.4 - d.3) + (d.1 - d.2) * 4,
            d42 + d31 * 2,
            d42 - d31 * 2,
            d.1 * 4 - d.3 * 5 + d.5)
}

/// Aᵀ m: six transformed values to four outputs.
@inline(__always)
private func outputTransform6<L: FloatLanes>(_ m: (L, L, L, L, L, L)) -> (L, L, L, L) {
    let p12 = m.1 + m.2, n12 = m.1 - m.2, p34 = m.3 + m.4, n34 = m.3 - m.4
    return (m.0 + p12 + p34, n12 + n34 * 2, p12 + p34 * 4, n12 + n34 * 8 + m.5)
}

/// A y: the adjoint of `outputTransform6`, four output gradients to six.
@inline(__always)
private func outputAdjoint4<L: FloatLanes>(_ y: (L, L, L, L)) -> (L, L, L, L, L, L) {
    let e = y.0 + y.2, o = y.1 + y.3, e4 = y.0 + y.2 * 4, o4 = y.1 * 2 + y.3 * 8
    return (y.0, e + o, e - o, e4 + o4, e4 - o4, y.3)
}

private let sixth: Float = 1 / 6

/// G g: three weights to six.
@inline(__always)
private func weightTransform3<L: FloatLanes>(_ g0: L, _ g1: L, _ g2: L) -> (L, L, L, L, L, L) {
    let q0 = g0 * 0.25, h1 = g1 * 0.5
    return (q0, (g0 + g1 + g2) * -sixth, (g0 - g1 + g2) * -sixth, (q0 + h1 + g2) * sixth, (q0 - h1 + g2) * sixth, g2)
}

/// Gᵀ x: the adjoint of `weightTransform3`, six weight gradients to three.
@inline(__always)
private func weightAdjoint6<L: FloatLanes>(_ x: (L, L, L, L, L, L)) -> (L, L, L) {
    let x12 = x.1 + x.2, x34 = x.3 + x.4
    return (x.0 * 0.25 + (x34 * 0.25 - x12) * sixth,
            ((x.2 - x.1) + (x.3 - x.4) * 0.5) * sixth,
            (x34 - x12) * sixth + x.5)
}

/// Tuple element `j` of a six-tuple (constant-folded where `j` is a constant).
@inline(__always)
private func element<L>(_ t: (L, L, L, L, L, L), _ j: Int) -> L {
    switch j {
    case 0: return t.0
    case 1: return t.1
    case 2: return t.2
    case 3: return t.3
    case 4: return t.4
    default: return t.5
    }
}

@inline(__always)
private func element<L>(_ t: (L, L, L, L), _ j: Int) -> L {
    switch j {
    case 0: return t.0
    case 1: return t.1
    case 2: return t.2
    default: return t.3
    }
}

/// The 2-D form of a six-point 1-D transform `f` on a 6×6 tile: `f` along each row a (its
/// values `load(a, 0..<6)`), then `f` down each column j, value (i, j) to `store(i, j, ·)`.
@inline(__always)
private func separable6x6<L: FloatLanes>(_ f: ((L, L, L, L, L, L)) -> (L, L, L, L, L, L),
                                         load: (Int, Int) -> L, store: (Int, Int, L) -> Void) {
    @inline(__always) func row(_ a: Int) -> (L, L, L, L, L, L) {
        f((load(a, 0), load(a, 1), load(a, 2), load(a, 3), load(a, 4), load(a, 5)))
    }
    let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
    for j in 0..<6 {
        let c = f((element(r0, j), element(r1, j), element(r2, j), element(r3, j), element(r4, j), element(r5, j)))
        store(0, j, c.0); store(1, j, c.1); store(2, j, c.2)
        store(3, j, c.3); store(4, j, c.4); store(5, j, c.5)
    }
}

// MARK: - Weights

/// U[ξ][k][c] = (G g_kc Gᵀ)[ξ]: 36·K·C floats. Vectorised over input channels: the nine
/// taps of 8 (4, 1) channels are gathered, transformed together and stored along c.
func winograd4TransformWeights(_ w: UnsafePointer<Float>, K: Int, C: Int, into u: UnsafeMutablePointer<Float>) {
    let KC = K * C
    for k in 0..<K {
        @inline(__always) func channels<L: FloatLanes>(_: L.Type, _ c: Int) {
            let g = w + (k * C + c) * 9
            @inline(__always) func tap(_ i: Int) -> L { L.gather(g + i, stride: 9) }
            // G g (6×3), column by column, then each of its rows times Gᵀ.
            let c0 = weightTransform3(tap(0), tap(3), tap(6)), c1 = weightTransform3(tap(1), tap(4), tap(7))
            let c2 = weightTransform3(tap(2), tap(5), tap(8))
            let out = u + k * C + c
            for i in 0..<6 {
                let r = weightTransform3(element(c0, i), element(c1, i), element(c2, i))
                r.0.store(out + 6 * i * KC); r.1.store(out + (6 * i + 1) * KC); r.2.store(out + (6 * i + 2) * KC)
                r.3.store(out + (6 * i + 3) * KC); r.4.store(out + (6 * i + 4) * KC); r.5.store(out + (6 * i + 5) * KC)
            }
        }
        forEachLane(C, { channels(SIMD8<Float>.self, $0) }, { channels(SIMD4<Float>.self, $0) },
                    { channels(Float.self, $0) })
    }
}

/// dW[k][c] += Gᵀ dU_kc G, with dU[ξ][k][c] as produced by the weight-gradient GEMMs;
/// vectorised over input channels as `winograd4TransformWeights`.
func winograd4AddWeightGradient(_ du: UnsafePointer<Float>, K: Int, C: Int, into dw: UnsafeMutablePointer<Float>) {
    let KC = K * C
    for k in 0..<K {
        @inline(__always) func channels<L: FloatLanes>(_: L.Type, _ c: Int) {
            let x = du + k * C + c
            @inline(__always) func column(_ j: Int) -> (L, L, L) {
                weightAdjoint6((L.load(x + j * KC), L.load(x + (6 + j) * KC), L.load(x + (12 + j) * KC),
                                L.load(x + (18 + j) * KC), L.load(x + (24 + j) * KC), L.load(x + (30 + j) * KC)))
            }
            // Gᵀ dU (3×6), column by column, then each of its rows times G.
            let t0 = column(0), t1 = column(1), t2 = column(2), t3 = column(3), t4 = column(4), t5 = column(5)
            let g = dw + (k * C + c) * 9
            let r0 = weightAdjoint6((t0.0, t1.0, t2.0, t3.0, t4.0, t5.0))
            let r1 = weightAdjoint6((t0.1, t1.1, t2.1, t3.1, t4.1, t5.1))
            let r2 = weightAdjoint6((t0.2, t1.2, t2.2, t3.2, t4.2, t5.2))
            r0.0.addScattered(into: g, stride: 9); r0.1.addScattered(into: g + 1, stride: 9)
            r0.2.addScattered(into: g + 2, stride: 9); r1.0.addScattered(into: g + 3, stride: 9)
            r1.1.addScattered(into: g + 4, stride: 9); r1.2.addScattered(into: g + 5, stride: 9)
            r2.0.addScattered(into: g + 6, stride: 9); r2.1.addScattered(into: g + 7, stride: 9)
            r2.2.addScattered(into: g + 8, stride: 9)
        }
        forEachLane(C, { channels(SIMD8<Float>.self, $0) }, { channels(SIMD4<Float>.self, $0) },
                    { channels(Float.self, $0) })
    }
}

// MARK: - Scratch

/// Row scratch of the F(4×4, 3×3) transforms, the largest of: the input transform's 24
/// phase planes of (TH + 1) × TW and its padded plane of (4·TH + 2) × (4·TW + 4), each
/// twice; the output transform's 16 phase planes; the dY transform's 16 phase planes and
/// 16 of padding, each twice.
func winograd4RowScratch(tilesH TH: Int, tilesW TW: Int) -> Int {
    let input = 2 * (24 * (TH + 1) * TW + (4 * TH + 2) * (4 * TW + 4))
    return max(input, 64 * TH * TW) + 16
}

// MARK: - Input

/// V[ξ][c][t] = (Bᵀ d B)[ξ] for every 6×6 tile of `images` images starting at `x`; `rows`
/// is scratch of `WinogradPlan.rowScratch` floats.
///
/// Each plane is copied into a zero-bordered padded plane of 4·TH + 2 rows × 4·TW + 4 columns
/// (padded pixel (r, q) is input pixel (r - padH, q - padW)), whose rows are split into 24
/// phase planes of (TH + 1) rows × TW: phase (r, j) for r in 0..<4 and j in 0..<6 holds
/// padded pixel (4·R + r, 4·tx + j) at R·TW + tx. Input value d_ij of tile t = ty·TW + tx is
/// then at t + (i / 4)·TW in phase (i mod 4, j). The copy, the split and the tile transform
/// run as a pipeline over the planes (`runPlanePipeline`).
func winograd4TransformInput(_ x: UnsafePointer<Float>, images: Int, plan p: WinogradPlan,
                             into v: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
    let g = p.g, C = p.C, H = g.height, W = g.width, T = p.columns, CT = C * T
    let TH = p.tilesH, TW = p.tilesW, tiles = p.tilesPerImage, planes = images * C
    let phaseSize = (TH + 1) * TW, phaseSetSize = 24 * phaseSize
    let paddedRows = 4 * TH + 2, Wq = 4 * TW + 4, paddedSize = paddedRows * Wq
    let paddedPlanes = rows + 2 * phaseSetSize
    zeroFloats(paddedPlanes, count: 2 * paddedSize)
    @inline(__always) func phase(_ i: Int, _ r: Int, _ j: Int) -> UnsafeMutablePointer<Float> {
        rows + (i % 2) * phaseSetSize + (r * 6 + j) * phaseSize
    }
    @inline(__always) func copyPlane(_ i: Int) {
        copyIntoPaddedPlane(x + i * H * W, height: H, width: W, padH: g.padH, padW: g.padW,
                            rowWidth: Wq, into: paddedPlanes + (i % 2) * paddedSize)
    }
    @inline(__always) func splitPlane(_ i: Int) {
        let padded = UnsafePointer(paddedPlanes + (i % 2) * paddedSize)
        for pr in 0..<paddedRows {
            let r = pr % 4, o = (pr / 4) * TW, row = padded + pr * Wq
            splitRowByPhase4(row, count: TW, onlyFirstTwo: false, phase(i, r, 0) + o, phase(i, r, 1) + o,
                             phase(i, r, 2) + o, phase(i, r, 3) + o)
            // Columns 4 and 5 of a tile are columns 0 and 1 of the next.
            splitRowByPhase4(row + 4, count: TW, onlyFirstTwo: true, phase(i, r, 4) + o, phase(i, r, 5) + o,
                             phase(i, r, 4) + o, phase(i, r, 5) + o)
        }
    }
    @inline(__always) func transformTiles(_ i: Int) {
        let out = v + (i % C) * T + (i / C) * tiles
        let base = UnsafePointer(phase(i, 0, 0))
        @inline(__always) func tile<L: FloatLanes>(_: L.Type, _ t: Int) {
            // Row a of the tile times B (the 1-D transform along the row), then each column times Bᵀ.
            separable6x6(inputTransform6,
                         load: { a, j in L.load(base + ((a % 4) * 6 + j) * phaseSize + t + (a / 4) * TW) },
                         store: { i, j, value in value.store(out + t + (6 * i + j) * CT) })
        }
        forEachLane(tiles, { tile(SIMD8<Float>.self, $0) }, { tile(SIMD4<Float>.self, $0) }, { tile(Float.self, $0) })
    }
    runPlanePipeline(planes: planes, copy: copyPlane, split: splitPlane, transform: transformTiles)
}

// MARK: - Output

/// y (NCHW, `images` images) = Aᵀ m A for every tile, plus bias; `rows` is scratch of
/// `WinogradPlan.rowScratch` floats. One vector loop over all tiles of a plane writes output
/// pixel (4ty + i, 4tx + j) of tile t to phase plane (i, j) at t; each output row is then
/// interleaved from its four phase planes, with the bias added.
func winograd4TransformOutput(_ m: UnsafePointer<Float>, images: Int, plan p: WinogradPlan,
                              bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                              rows: UnsafeMutablePointer<Float>) {
    let g = p.g, K = p.K, OH = g.outHeight, OW = g.outWidth, T = p.columns
    let TH = p.tilesH, TW = p.tilesW, KT = K * T, tiles = p.tilesPerImage
    for b in 0..<images {
        for k in 0..<K {
            let bk = bias?[k] ?? 0
            let plane = y + (b * K + k) * OH * OW
            let mk = m + k * T + b * tiles
            @inline(__always) func tile<L: FloatLanes>(_: L.Type, _ t: Int) {
                let s = mk + t
                @inline(__always) func row(_ a: Int) -> (L, L, L, L) {
                    let r = s + 6 * a * KT
                    return outputTransform6((L.load(r), L.load(r + KT), L.load(r + 2 * KT), L.load(r + 3 * KT),
                                             L.load(r + 4 * KT), L.load(r + 5 * KT)))
                }
                let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
                for j in 0..<4 {
                    let c = outputTransform6((element(r0, j), element(r1, j), element(r2, j), element(r3, j),
                                              element(r4, j), element(r5, j)))
                    c.0.store(rows + j * tiles + t); c.1.store(rows + (4 + j) * tiles + t)
                    c.2.store(rows + (8 + j) * tiles + t); c.3.store(rows + (12 + j) * tiles + t)
                }
            }
            forEachLane(tiles, { tile(SIMD8<Float>.self, $0) }, { tile(SIMD4<Float>.self, $0) }, { tile(Float.self, $0) })
            for ty in 0..<TH {
                for i in 0..<4 where 4 * ty + i < OH {
                    interleave4(rows + 4 * i * tiles + ty * TW, stride: tiles, offset: 0, count: OW, bias: bk,
                                adding: false, into: plane + (4 * ty + i) * OW)
                }
            }
        }
    }
}

// MARK: - Output gradient

/// dM[ξ][k][t] = (A dY Aᵀ)[ξ] for every 4×4 tile of dY (zero beyond OH, OW); `rows` is
/// scratch of `WinogradPlan.rowScratch` floats. Each plane is split into 16 phase planes
/// (row and column modulo 4, TH × TW each), through a zero-bordered copy where OH or OW is
/// not a multiple of 4, the stages running as a pipeline over the planes.
func winograd4TransformOutputGradient(_ dy: UnsafePointer<Float>, images: Int, plan p: WinogradPlan,
                                      into dm: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
    let g = p.g, K = p.K, OH = g.outHeight, OW = g.outWidth, T = p.columns
    let TH = p.tilesH, TW = p.tilesW, KT = K * T, tiles = p.tilesPerImage, planes = images * K
    let needsPadding = OH != 4 * TH || OW != 4 * TW, paddedPlanes = rows + 32 * tiles
    if needsPadding { zeroFloats(paddedPlanes, count: 32 * tiles) }
    @inline(__always) func copyPlane(_ i: Int) {
        if needsPadding {
            copyIntoPaddedPlane(dy + i * OH * OW, height: OH, width: OW, padH: 0, padW: 0, rowWidth: 4 * TW,
                                into: paddedPlanes + (i % 2) * 16 * tiles)
        }
    }
    @inline(__always) func splitPlane(_ i: Int) {
        let plane = needsPadding ? UnsafePointer(paddedPlanes + (i % 2) * 16 * tiles) : dy + i * OH * OW
        let e = rows + (i % 2) * 16 * tiles
        for ty in 0..<TH {
            for a in 0..<4 {
                let phases = e + 4 * a * tiles + ty * TW
                splitRowByPhase4(plane + (4 * ty + a) * 4 * TW, count: TW, onlyFirstTwo: false, phases,
                                 phases + tiles, phases + 2 * tiles, phases + 3 * tiles)
            }
        }
    }
    @inline(__always) func transformTiles(_ i: Int) {
        let e = UnsafePointer(rows + (i % 2) * 16 * tiles)
        let mk = dm + (i % K) * T + (i / K) * tiles
        @inline(__always) func tile<L: FloatLanes>(_: L.Type, _ t: Int) {
            // Row a of the dY tile times Aᵀ, then each of the six columns times A.
            @inline(__always) func row(_ a: Int) -> (L, L, L, L, L, L) {
                let s = e + 4 * a * tiles + t
                return outputAdjoint4((L.load(s), L.load(s + tiles), L.load(s + 2 * tiles), L.load(s + 3 * tiles)))
            }
            let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3)
            let s = mk + t
            for j in 0..<6 {
                let c = outputAdjoint4((element(r0, j), element(r1, j), element(r2, j), element(r3, j)))
                c.0.store(s + j * KT); c.1.store(s + (6 + j) * KT); c.2.store(s + (12 + j) * KT)
                c.3.store(s + (18 + j) * KT); c.4.store(s + (24 + j) * KT); c.5.store(s + (30 + j) * KT)
            }
        }
        forEachLane(tiles, { tile(SIMD8<Float>.self, $0) }, { tile(SIMD4<Float>.self, $0) }, { tile(Float.self, $0) })
    }
    runPlanePipeline(planes: planes, copy: copyPlane, split: splitPlane, transform: transformTiles)
}
