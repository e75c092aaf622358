// The tile transforms of Winograd F(2×2, 3×3) (see WinogradConv2d.swift for the algorithm and
// the legend). Each works on whole rows of tiles: input rows are split by column parity so
// the stride-2 tile walk becomes unit-stride, and the arithmetic runs 8, then 4, then 1 lanes
// at a time through the same generic code (Lanes.swift).

/// U[ξ][k][c] = (G g_kc Gᵀ)[ξ]: 16·K·C floats. Vectorised over input channels as the
/// F(4×4, 3×3) weight transform: the nine taps of 8 (4, 1) channels gathered, transformed
/// together, stored along c.
func winogradTransformWeights(_ w: UnsafePointer<Float>, K: Int, C: Int, into u: UnsafeMutablePointer<Float>) {
    let KC = K * C
    for k in 0..<K {
        @inline(__always) func channels<L: FloatLanes>(_: L.Type, _ c: Int) {
            let g = w + (k * C + c) * 9
            let out = u + k * C + c
            // (G g): 4×3, column s; then row i of it times Gᵀ.
            @inline(__always) func row(_ r0: L, _ r1: L, _ r2: L, _ i: Int) {
                r0.store(out + 4 * i * KC)
                ((r0 + r1 + r2) * 0.5).store(out + (4 * i + 1) * KC)
                ((r0 - r1 + r2) * 0.5).store(out + (4 * i + 2) * KC)
                r2.store(out + (4 * i + 3) * KC)
            }
            let a0 = L.gather(g, stride: 9), a1 = L.gather(g + 1, stride: 9), a2 = L.gather(g + 2, stride: 9)
            let b0 = L.gather(g + 3, stride: 9), b1 = L.gather(g + 4, stride: 9), b2 = L.gather(g + 5, stride: 9)
            let c0 = L.gather(g + 6, stride: 9), c1 = L.gather(g + 7, stride: 9), c2 = L.gather(g + 8, stride: 9)
            row(a0, a1, a2, 0)
            row((a0 + b0 + c0) * 0.5, (a1 + b1 + c1) * 0.5, (a2 + b2 + c2) * 0.5, 1)
            row((a0 - b0 + c0) * 0.5, (a1 - b1 + c1) * 0.5, (a2 - b2 + c2) * 0.5, 2)
            row(c0, c1, c2, 3)
        }
        forEachLane(C, { channels(SIMD8<Float>.self, $0) }, { channels(SIMD4<Float>.self, $0) },
                    { channels(Float.self, $0) })
    }
}

/// dW[k][c] += Gᵀ dU_kc G, with dU[ξ][k][c] as produced by the weight-gradient GEMMs;
/// vectorised over input channels as `winogradTransformWeights`.
func winogradAddWeightGradient(_ du: UnsafePointer<Float>, K: Int, C: Int, into dw: UnsafeMutablePointer<Float>) {
    let KC = K * C
    for k in 0..<K {
        @inline(__always) func channels<L: FloatLanes>(_: L.Type, _ c: Int) {
            let x = du + k * C + c
            // (Gᵀ X): 3×4, column j.
            @inline(__always) func column(_ j: Int) -> (L, L, L) {
                let x0 = L.load(x + j * KC), x1 = L.load(x + (4 + j) * KC)
                let x2 = L.load(x + (8 + j) * KC), x3 = L.load(x + (12 + j) * KC)
                return (x0 + (x1 + x2) * 0.5, (x1 - x2) * 0.5, (x1 + x2) * 0.5 + x3)
            }
            let t0 = column(0), t1 = column(1), t2 = column(2), t3 = column(3)
            let g = dw + (k * C + c) * 9
            @inline(__always) func row(_ t0: L, _ t1: L, _ t2: L, _ t3: L, _ r: Int) {
                (t0 + (t1 + t2) * 0.5).addScattered(into: g + r * 3, stride: 9)
                ((t1 - t2) * 0.5).addScattered(into: g + r * 3 + 1, stride: 9)
                ((t1 + t2) * 0.5 + t3).addScattered(into: g + r * 3 + 2, stride: 9)
            }
            row(t0.0, t1.0, t2.0, t3.0, 0)
            row(t0.1, t1.1, t2.1, t3.1, 1)
            row(t0.2, t1.2, t2.2, t3.2, 2)
        }
        forEachLane(C, { channels(SIMD8<Float>.self, $0) }, { channels(SIMD4<Float>.self, $0) },
                    { channels(Float.self, $0) })
    }
}

/// V[ξ][c][t] = (Bᵀ d B)[ξ] for every tile of `images` images starting at `x`;
/// `rows` is scratch of `WinogradPlan.rowScratch` floats.
///
/// Each plane is copied into a zero-bordered padded plane, whose rows are then split into
/// eight "phase planes" of (TH + 1) rows × TW, one per row parity, column parity and column
/// shift (0 or one tile): phase (i mod 2, j mod 2, j / 2) holds padded pixel
/// (2·r' + i mod 2, 2·tx + j) at r'·TW + tx. Input value d_ij of tile t = ty·TW + tx is then
/// at t + (i / 2)·TW in phase (i mod 2, j mod 2, j / 2): a linear function of t, so one
/// vector loop runs over all TH·TW tiles of the plane instead of one short loop per strip
/// of tiles (a 28-pixel row has 14 tiles: 8 + 4 + 2 scalar lanes).
///
/// The three stages run as a pipeline over the planes, each buffer doubled: plane i + 2 is
/// copied and plane i + 1 split while the tiles of plane i are transformed, so no stage
/// reads what the stage before it has only just stored: a vector load spanning two
/// recent stores cannot take their values forwarded and waits until they reach the cache
/// (run stage after stage, one such load took a seventh of the transform's samples).
func winogradTransformInput(_ x: UnsafePointer<Float>, images: Int, plan p: WinogradPlan,
                            into v: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
    let g = p.g, C = p.C, H = g.height, W = g.width, T = p.columns, CT = C * T
    let TH = p.tilesH, TW = p.tilesW, tiles = p.tilesPerImage, planes = images * C
    let phaseSize = (TH + 1) * TW, phaseSetSize = 8 * phaseSize
    // Padded planes of 2·TH + 2 rows × 2·TW + 2 columns: padded pixel (r, q) is input pixel
    // (r - padH, q - padW), zero outside. Both are zeroed once; copies rewrite only the inside.
    let paddedRows = 2 * TH + 2, Wq = 2 * TW + 2, paddedSize = paddedRows * Wq
    let paddedPlanes = rows + 2 * phaseSetSize
    zeroFloats(paddedPlanes, count: 2 * paddedSize)
    // phase(i, rowParity, colParity, shift): the phase planes of plane i.
    @inline(__always) func phase(_ i: Int, _ rp: Int, _ cp: Int, _ shift: Int) -> UnsafeMutablePointer<Float> {
        rows + (i % 2) * phaseSetSize + ((rp * 2 + cp) * 2 + shift) * phaseSize
    }
    @inline(__always) func copyPlane(_ i: Int) {
        copyIntoPaddedPlane(x + i * H * W, height: H, width: W, padH: g.padH, padW: g.padW,
                            rowWidth: Wq, into: paddedPlanes + (i % 2) * paddedSize)
    }
    @inline(__always) func splitPlane(_ i: Int) {
        let padded = UnsafePointer(paddedPlanes + (i % 2) * paddedSize)
        for r in 0..<paddedRows {
            let rp = r % 2, o = (r / 2) * TW, row = padded + r * Wq
            // Shift 1 starts one tile (two padded columns) later.
            splitRowByParity(row, half: TW, even: phase(i, rp, 0, 0) + o, odd: phase(i, rp, 1, 0) + o)
            splitRowByParity(row + 2, half: TW, even: phase(i, rp, 0, 1) + o, odd: phase(i, rp, 1, 1) + o)
        }
    }
    @inline(__always) func transformTiles(_ i: Int) {
        // d_ij of tile t: phase(i % 2, j % 2, j / 2)[t + (i / 2) * TW].
        let p00 = UnsafePointer(phase(i, 0, 0, 0)), p01 = UnsafePointer(phase(i, 0, 1, 0))
        let p02 = UnsafePointer(phase(i, 0, 0, 1)), p03 = UnsafePointer(phase(i, 0, 1, 1))
        let p10 = UnsafePointer(phase(i, 1, 0, 0)), p11 = UnsafePointer(phase(i, 1, 1, 0))
        let p12 = UnsafePointer(phase(i, 1, 0, 1)), p13 = UnsafePointer(phase(i, 1, 1, 1))
        let out = v + (i % C) * T + (i / C) * tiles
        @inline(__always) func tile<L: FloatLanes>(_: L.Type, _ t: Int) {
            let d00 = L.load(p00 + t), d01 = L.load(p01 + t), d02 = L.load(p02 + t), d03 = L.load(p03 + t)
            let d10 = L.load(p10 + t), d11 = L.load(p11 + t), d12 = L.load(p12 + t), d13 = L.load(p13 + t)
            let u = t + TW
            let d20 = L.load(p00 + u), d21 = L.load(p01 + u), d22 = L.load(p02 + u), d23 = L.load(p03 + u)
            let d30 = L.load(p10 + u), d31 = L.load(p11 + u), d32 = L.load(p12 + u), d33 = L.load(p13 + u)
            // Bᵀ d
            let r00 = d00 - d20, r01 = d01 - d21, r02 = d02 - d22, r03 = d03 - d23
            let r10 = d10 + d20, r11 = d11 + d21, r12 = d12 + d22, r13 = d13 + d23
            let r20 = d20 - d10, r21 = d21 - d11, r22 = d22 - d12, r23 = d23 - d13
            let r30 = d10 - d30, r31 = d11 - d31, r32 = d12 - d32, r33 = d13 - d33
            // (Bᵀ d) B
            let o = out + t
            (r00 - r02).store(o); (r01 + r02).store(o + CT); (r02 - r01).store(o + 2 * CT); (r01 - r03).store(o + 3 * CT)
            (r10 - r12).store(o + 4 * CT); (r11 + r12).store(o + 5 * CT)
            (r12 - r11).store(o + 6 * CT); (r11 - r13).store(o + 7 * CT)
            (r20 - r22).store(o + 8 * CT); (r21 + r22).store(o + 9 * CT)
            (r22 - r21).store(o + 10 * CT); (r21 - r23).store(o + 11 * CT)
            (r30 - r32).store(o + 12 * CT); (r31 + r32).store(o + 13 * CT)
            (r32 - r31).store(o + 14 * CT); (r31 - r33).store(o + 15 * CT)
        }
        forEachLane(tiles, { tile(SIMD8<Float>.self, $0) }, { tile(SIMD4<Float>.self, $0) }, { tile(Float.self, $0) })
    }
    runPlanePipeline(planes: planes, copy: copyPlane, split: splitPlane, transform: transformTiles)
}

/// y (NCHW, `images` images) = Aᵀ m A for every tile, plus bias; `rows` is scratch of
/// `WinogradPlan.rowScratch` floats.
///
/// One vector loop runs over all TH·TW tiles of a plane (as in the input transform, instead
/// of one short loop per strip of tiles: a 14-pixel row has 7 tiles, 4 + 3 scalar lanes),
/// writing output pixel (2ty + i, 2tx + j) of tile t = ty·TW + tx to phase plane (i, j) at
/// t; each pair of output rows is then interleaved from its strip of the phase planes, with
/// the bias added. Every output element gets the same operations as per strip.
func winogradTransformOutput(_ m: UnsafePointer<Float>, images: Int, plan p: WinogradPlan,
                             bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                             rows: UnsafeMutablePointer<Float>) {
    let g = p.g, K = p.K, OH = g.outHeight, OW = g.outWidth, T = p.columns
    let TH = p.tilesH, TW = p.tilesW, KT = K * T, tiles = p.tilesPerImage
    // Phase planes (row parity, column parity) of TH × TW: 4·TH·TW <= rowScratch floats.
    let ye0 = rows, yo0 = rows + tiles, ye1 = rows + 2 * tiles, yo1 = rows + 3 * tiles
    for b in 0..<images {
        for k in 0..<K {
            let bk = bias?[k] ?? 0
            let plane = y + (b * K + k) * OH * OW
            let mk = m + k * T + b * tiles
            @inline(__always) func tile<L: FloatLanes>(_: L.Type, _ t: Int) {
                let s = mk + t
                let m00 = L.load(s), m01 = L.load(s + KT), m02 = L.load(s + 2 * KT), m03 = L.load(s + 3 * KT)
                let m10 = L.load(s + 4 * KT), m11 = L.load(s + 5 * KT), m12 = L.load(s + 6 * KT), m13 = L.load(s + 7 * KT)
                let m20 = L.load(s + 8 * KT), m21 = L.load(s + 9 * KT), m22 = L.load(s + 10 * KT), m23 = L.load(s + 11 * KT)
                let m30 = L.load(s + 12 * KT), m31 = L.load(s + 13 * KT), m32 = L.load(s + 14 * KT), m33 = L.load(s + 15 * KT)
                // m A, then Aᵀ (m A)
                let a00 = m00 + m01 + m02, a01 = m01 - m02 - m03
                let a10 = m10 + m11 + m12, a11 = m11 - m12 - m13
                let a20 = m20 + m21 + m22, a21 = m21 - m22 - m23
                let a30 = m30 + m31 + m32, a31 = m31 - m32 - m33
                (a00 + a10 + a20).store(ye0 + t)
                (a01 + a11 + a21).store(yo0 + t)
                (a10 - a20 - a30).store(ye1 + t)
                (a11 - a21 - a31).store(yo1 + t)
            }
            forEachLane(tiles, { tile(SIMD8<Float>.self, $0) }, { tile(SIMD4<Float>.self, $0) }, { tile(Float.self, $0) })
            for ty in 0..<TH {
                let top = plane + 2 * ty * OW, strip = ty * TW
                storeInterleaved(even: ye0 + strip, odd: yo0 + strip, count: OW, bias: bk, into: top)
                if 2 * ty + 1 < OH {
                    storeInterleaved(even: ye1 + strip, odd: yo1 + strip, count: OW, bias: bk, into: top + OW)
                }
            }
        }
    }
}

/// dM[ξ][k][t] = (A dY Aᵀ)[ξ] for every 2×2 tile of dY (zero beyond OH, OW);
/// `rows` is scratch of `WinogradPlan.rowScratch` floats. As in the input transform, each
/// plane is split into four phase planes (row parity × column parity, TH × TW each) so one
/// vector loop runs over all tiles of the plane, and the stages (copy into a zero-bordered
/// plane where OH or OW is odd, split, tiles) run as a pipeline over the planes.
func winogradTransformOutputGradient(_ dy: UnsafePointer<Float>, images: Int, plan p: WinogradPlan,
                                     into dm: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
    let g = p.g, K = p.K, OH = g.outHeight, OW = g.outWidth, T = p.columns
    let TH = p.tilesH, TW = p.tilesW, KT = K * T, tiles = p.tilesPerImage, planes = images * K
    // Two sets of phase planes (e0, o0, e1, o1: 4·tiles floats each), then two padded planes
    // of 2·TH × 2·TW (4·tiles each), used only where OH or OW is odd; otherwise dY is read in place.
    let needsPadding = OH != 2 * TH || OW != 2 * TW, paddedPlanes = rows + 8 * tiles
    if needsPadding { zeroFloats(paddedPlanes, count: 8 * tiles) }
    @inline(__always) func copyPlane(_ i: Int) {
        if needsPadding {
            copyIntoPaddedPlane(dy + i * OH * OW, height: OH, width: OW, padH: 0, padW: 0, rowWidth: 2 * TW,
                                into: paddedPlanes + (i % 2) * 4 * tiles)
        }
    }
    @inline(__always) func splitPlane(_ i: Int) {
        let plane = needsPadding ? UnsafePointer(paddedPlanes + (i % 2) * 4 * tiles) : dy + i * OH * OW
        let e0 = rows + (i % 2) * 4 * tiles, o0 = e0 + tiles, e1 = o0 + tiles, o1 = e1 + tiles
        for ty in 0..<TH {
            splitRowByParity(plane + 2 * ty * 2 * TW, half: TW, even: e0 + ty * TW, odd: o0 + ty * TW)
            splitRowByParity(plane + (2 * ty + 1) * 2 * TW, half: TW, even: e1 + ty * TW, odd: o1 + ty * TW)
        }
    }
    @inline(__always) func transformTiles(_ i: Int) {
        let e0 = UnsafePointer(rows + (i % 2) * 4 * tiles), o0 = e0 + tiles, e1 = o0 + tiles, o1 = e1 + tiles
        let mk = dm + (i % K) * T + (i / K) * tiles
        @inline(__always) func tile<L: FloatLanes>(_: L.Type, _ t: Int) {
            let d00 = L.load(e0 + t), d01 = L.load(o0 + t)
            let d10 = L.load(e1 + t), d11 = L.load(o1 + t)
            // f = dY Aᵀ (2×4), then dM = A f (4×4).
            let f00 = d00, f01 = d00 + d01, f02 = d00 - d01, f03 = -d01
            let f10 = d10, f11 = d10 + d11, f12 = d10 - d11, f13 = -d11
            let s = mk + t
            f00.store(s); f01.store(s + KT); f02.store(s + 2 * KT); f03.store(s + 3 * KT)
            (f00 + f10).store(s + 4 * KT); (f01 + f11).store(s + 5 * KT)
            (f02 + f12).store(s + 6 * KT); (f03 + f13).store(s + 7 * KT)
            (f00 - f10).store(s + 8 * KT); (f01 - f11).store(s + 9 * KT)
            (f02 - f12).store(s + 10 * KT); (f03 - f13).store(s + 11 * KT)
            (-f10).store(s + 12 * KT); (-f11).store(s + 13 * KT)
            (-f12).store(s + 14 * KT); (-f13).store(s + 15 * KT)
        }
        forEachLane(tiles, { tile(SIMD8<Float>.self, $0) }, { tile(SIMD4<Float>.self, $0) }, { tile(Float.self, $0) })
    }
    runPlanePipeline(planes: planes, copy: copyPlane, split: splitPlane, transform: transformTiles)
}
