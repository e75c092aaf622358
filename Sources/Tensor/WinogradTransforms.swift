// The tile transforms of Winograd F(2×2, 3×3) (see WinogradConv2d.swift for the algorithm and
// the legend). Each works on whole rows of tiles: input rows are split by column parity so
// the stride-2 tile walk becomes unit-stride, and the arithmetic runs 8, then 4, then 1 lanes
// at a time through the same generic code (Lanes.swift).

/// U[ξ][k][c] = (G g_kc Gᵀ)[ξ]: 16·K·C floats.
func winogradTransformWeights(_ w: UnsafePointer<Float>, K: Int, C: Int, into u: UnsafeMutablePointer<Float>) {
    withScratch(12) { gg in   // (G g): 4×3
        for k in 0..<K {
            for c in 0..<C {
                let g = w + (k * C + c) * 9
                for s in 0..<3 {
                    let g0 = g[s], g1 = g[3 + s], g2 = g[6 + s]
                    gg[s] = g0
                    gg[3 + s] = 0.5 * (g0 + g1 + g2)
                    gg[6 + s] = 0.5 * (g0 - g1 + g2)
                    gg[9 + s] = g2
                }
                for i in 0..<4 {
                    let r0 = gg[i * 3], r1 = gg[i * 3 + 1], r2 = gg[i * 3 + 2]
                    let out = u + (i * 4 * K + k) * C + c, KC = K * C
                    out[0] = r0
                    out[KC] = 0.5 * (r0 + r1 + r2)
                    out[2 * KC] = 0.5 * (r0 - r1 + r2)
                    out[3 * KC] = r2
                }
            }
        }
    }
}

/// dW[k][c] += Gᵀ dU_kc G, with dU[ξ][k][c] as produced by the weight-gradient GEMMs.
func winogradAddWeightGradient(_ du: UnsafePointer<Float>, K: Int, C: Int, into dw: UnsafeMutablePointer<Float>) {
    withScratch(12) { t in   // (Gᵀ X): 3×4
        let KC = K * C
        for k in 0..<K {
            for c in 0..<C {
                let x = du + k * C + c
                for j in 0..<4 {
                    let x0 = x[j * KC], x1 = x[(4 + j) * KC], x2 = x[(8 + j) * KC], x3 = x[(12 + j) * KC]
                    t[j] = x0 + 0.5 * (x1 + x2)
                    t[4 + j] = 0.5 * (x1 - x2)
                    t[8 + j] = 0.5 * (x1 + x2) + x3
                }
                let g = dw + (k * C + c) * 9
                for r in 0..<3 {
                    let t0 = t[r * 4], t1 = t[r * 4 + 1], t2 = t[r * 4 + 2], t3 = t[r * 4 + 3]
                    g[r * 3] += t0 + 0.5 * (t1 + t2)
                    g[r * 3 + 1] += 0.5 * (t1 - t2)
                    g[r * 3 + 2] += 0.5 * (t1 + t2) + t3
                }
            }
        }
    }
}

/// Copies input row `src` (W wide) into its even and odd padded columns: padded column
/// q holds input column q - pad (zero outside the row), `even[j]` is padded column 2j and
/// `odd[j]` column 2j + 1, for j in 0..<half. Splitting by parity turns the stride-2 tile
/// walk into unit strides. `temp` holds 2·half + 8 floats.
@inline(__always)
func deinterleavePaddedRow(_ src: UnsafePointer<Float>?, width W: Int, pad: Int, half: Int,
                           even: UnsafeMutablePointer<Float>, odd: UnsafeMutablePointer<Float>,
                           temp: UnsafeMutablePointer<Float>) {
    guard let src else {
        zeroFloats(even, count: half)
        zeroFloats(odd, count: half)
        return
    }
    let n = 2 * half, end = min(n, W + pad)
    zeroFloats(temp, count: min(pad, n))
    if end > pad { copyFloats(src, to: temp + pad, count: end - pad) }
    if end < n { zeroFloats(temp + max(end, pad), count: n - max(end, pad)) }
    var j = 0
    while j + 4 <= half {
        let v = SIMD8<Float>.load(temp + 2 * j)
        v.evenHalf.store(even + j)
        v.oddHalf.store(odd + j)
        j += 4
    }
    while j < half {
        even[j] = temp[2 * j]
        odd[j] = temp[2 * j + 1]
        j += 1
    }
}

/// out[2j] = even[j], out[2j + 1] = odd[j] for j in 0..<half (out holds 2·half floats).
@inline(__always)
func interleave(even: UnsafePointer<Float>, odd: UnsafePointer<Float>, half: Int,
                into out: UnsafeMutablePointer<Float>) {
    var j = 0
    while j + 4 <= half {
        let e = SIMD4<Float>.load(even + j), o = SIMD4<Float>.load(odd + j)
        SIMD8<Float>(e[0], o[0], e[1], o[1], e[2], o[2], e[3], o[3]).store(out + 2 * j)
        j += 4
    }
    while j < half {
        out[2 * j] = even[j]
        out[2 * j + 1] = odd[j]
        j += 1
    }
}

/// V[ξ][c][t] = (Bᵀ d B)[ξ] for every tile of `images` images starting at `x`;
/// `rows` is scratch of `WinogradPlan.rowScratch` floats.
func winogradTransformInput(_ x: UnsafePointer<Float>, images: Int, plan p: WinogradPlan,
                            into v: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
    let g = p.g, C = p.C, H = g.height, W = g.width, T = p.columns, CT = C * T
    let TH = p.tilesH, TW = p.tilesW, half = TW + 1, paddedRows = 2 * TH + 2
    // Every padded row r of the plane (input row r - padH) by column parity:
    // even part at evens + r·half, odd part at odds + r·half.
    let evens = rows, odds = rows + paddedRows * half, temp = odds + paddedRows * half
    for b in 0..<images {
        for c in 0..<C {
            let plane = x + (b * C + c) * H * W
            for r in 0..<paddedRows {
                let ih = r - g.padH
                deinterleavePaddedRow(ih >= 0 && ih < H ? plane + ih * W : nil, width: W, pad: g.padW,
                                      half: half, even: evens + r * half, odd: odds + r * half, temp: temp)
            }
            for ty in 0..<TH {
                // Strip rows 2ty..2ty+3.
                let e0 = UnsafePointer(evens + 2 * ty * half), e1 = e0 + half, e2 = e1 + half, e3 = e2 + half
                let o0 = UnsafePointer(odds + 2 * ty * half), o1 = o0 + half, o2 = o1 + half, o3 = o2 + half
                let out = v + c * T + b * p.tilesPerImage + ty * TW
                @inline(__always) func tiles<L: FloatLanes>(_: L.Type, _ tx: Int) {
                    // d_ij: strip row i, tile column j (0..3 = even, odd, next even, next odd).
                    let d00 = L.load(e0 + tx), d01 = L.load(o0 + tx), d02 = L.load(e0 + tx + 1), d03 = L.load(o0 + tx + 1)
                    let d10 = L.load(e1 + tx), d11 = L.load(o1 + tx), d12 = L.load(e1 + tx + 1), d13 = L.load(o1 + tx + 1)
                    let d20 = L.load(e2 + tx), d21 = L.load(o2 + tx), d22 = L.load(e2 + tx + 1), d23 = L.load(o2 + tx + 1)
                    let d30 = L.load(e3 + tx), d31 = L.load(o3 + tx), d32 = L.load(e3 + tx + 1), d33 = L.load(o3 + tx + 1)
                    // Bᵀ d
                    let r00 = d00 - d20, r01 = d01 - d21, r02 = d02 - d22, r03 = d03 - d23
                    let r10 = d10 + d20, r11 = d11 + d21, r12 = d12 + d22, r13 = d13 + d23
                    let r20 = d20 - d10, r21 = d21 - d11, r22 = d22 - d12, r23 = d23 - d13
                    let r30 = d10 - d30, r31 = d11 - d31, r32 = d12 - d32, r33 = d13 - d33
                    // (Bᵀ d) B
                    let t = out + tx
                    (r00 - r02).store(t); (r01 + r02).store(t + CT); (r02 - r01).store(t + 2 * CT); (r01 - r03).store(t + 3 * CT)
                    (r10 - r12).store(t + 4 * CT); (r11 + r12).store(t + 5 * CT)
                    (r12 - r11).store(t + 6 * CT); (r11 - r13).store(t + 7 * CT)
                    (r20 - r22).store(t + 8 * CT); (r21 + r22).store(t + 9 * CT)
                    (r22 - r21).store(t + 10 * CT); (r21 - r23).store(t + 11 * CT)
                    (r30 - r32).store(t + 12 * CT); (r31 + r32).store(t + 13 * CT)
                    (r32 - r31).store(t + 14 * CT); (r31 - r33).store(t + 15 * CT)
                }
                forEachLane(TW, { tiles(SIMD8<Float>.self, $0) }, { tiles(SIMD4<Float>.self, $0) }, { tiles(Float.self, $0) })
            }
        }
    }
}

/// y (NCHW, `images` images) = Aᵀ m A for every tile, plus bias; `rows` is scratch of
/// `WinogradPlan.rowScratch` floats.
func winogradTransformOutput(_ m: UnsafePointer<Float>, images: Int, plan p: WinogradPlan,
                             bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                             rows: UnsafeMutablePointer<Float>) {
    let g = p.g, K = p.K, OH = g.outHeight, OW = g.outWidth, T = p.columns
    let TH = p.tilesH, TW = p.tilesW, KT = K * T
    // Output rows 2ty and 2ty + 1 of the strip, by column parity.
    let ye0 = rows, yo0 = rows + TW, ye1 = rows + 2 * TW, yo1 = rows + 3 * TW, temp = rows + 4 * TW
    for b in 0..<images {
        for k in 0..<K {
            let bk = bias?[k] ?? 0
            let plane = y + (b * K + k) * OH * OW
            for ty in 0..<TH {
                let mk = m + k * T + b * p.tilesPerImage + ty * TW
                @inline(__always) func tiles<L: FloatLanes>(_: L.Type, _ tx: Int) {
                    let s = mk + tx
                    let m00 = L.load(s), m01 = L.load(s + KT), m02 = L.load(s + 2 * KT), m03 = L.load(s + 3 * KT)
                    let m10 = L.load(s + 4 * KT), m11 = L.load(s + 5 * KT), m12 = L.load(s + 6 * KT), m13 = L.load(s + 7 * KT)
                    let m20 = L.load(s + 8 * KT), m21 = L.load(s + 9 * KT), m22 = L.load(s + 10 * KT), m23 = L.load(s + 11 * KT)
                    let m30 = L.load(s + 12 * KT), m31 = L.load(s + 13 * KT), m32 = L.load(s + 14 * KT), m33 = L.load(s + 15 * KT)
                    // m A, then Aᵀ (m A)
                    let a00 = m00 + m01 + m02, a01 = m01 - m02 - m03
                    let a10 = m10 + m11 + m12, a11 = m11 - m12 - m13
                    let a20 = m20 + m21 + m22, a21 = m21 - m22 - m23
                    let a30 = m30 + m31 + m32, a31 = m31 - m32 - m33
                    (a00 + a10 + a20).store(ye0 + tx)
                    (a01 + a11 + a21).store(yo0 + tx)
                    (a10 - a20 - a30).store(ye1 + tx)
                    (a11 - a21 - a31).store(yo1 + tx)
                }
                forEachLane(TW, { tiles(SIMD8<Float>.self, $0) }, { tiles(SIMD4<Float>.self, $0) }, { tiles(Float.self, $0) })
                let top = plane + 2 * ty * OW
                interleave(even: ye0, odd: yo0, half: TW, into: temp)
                for j in 0..<OW { top[j] = temp[j] + bk }
                if 2 * ty + 1 < OH {
                    let bottom = top + OW
                    interleave(even: ye1, odd: yo1, half: TW, into: temp)
                    for j in 0..<OW { bottom[j] = temp[j] + bk }
                }
            }
        }
    }
}

/// dM[ξ][k][t] = (A dY Aᵀ)[ξ] for every 2×2 tile of dY (zero beyond OH, OW);
/// `rows` is scratch of `WinogradPlan.rowScratch` floats.
func winogradTransformOutputGradient(_ dy: UnsafePointer<Float>, images: Int, plan p: WinogradPlan,
                                     into dm: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
    let g = p.g, K = p.K, OH = g.outHeight, OW = g.outWidth, T = p.columns
    let TH = p.tilesH, TW = p.tilesW, KT = K * T
    let de0 = rows, do0 = rows + TW, de1 = rows + 2 * TW, do1 = rows + 3 * TW, temp = rows + 4 * TW
    for b in 0..<images {
        for k in 0..<K {
            let plane = dy + (b * K + k) * OH * OW
            for ty in 0..<TH {
                deinterleavePaddedRow(plane + 2 * ty * OW, width: OW, pad: 0, half: TW, even: de0, odd: do0,
                                      temp: temp)
                deinterleavePaddedRow(2 * ty + 1 < OH ? plane + (2 * ty + 1) * OW : nil, width: OW, pad: 0,
                                      half: TW, even: de1, odd: do1, temp: temp)
                let mk = dm + k * T + b * p.tilesPerImage + ty * TW
                @inline(__always) func tiles<L: FloatLanes>(_: L.Type, _ tx: Int) {
                    let d00 = L.load(de0 + tx), d01 = L.load(do0 + tx)
                    let d10 = L.load(de1 + tx), d11 = L.load(do1 + tx)
                    // f = dY Aᵀ (2×4), then dM = A f (4×4).
                    let f00 = d00, f01 = d00 + d01, f02 = d00 - d01, f03 = -d01
                    let f10 = d10, f11 = d10 + d11, f12 = d10 - d11, f13 = -d11
                    let s = mk + tx
                    f00.store(s); f01.store(s + KT); f02.store(s + 2 * KT); f03.store(s + 3 * KT)
                    (f00 + f10).store(s + 4 * KT); (f01 + f11).store(s + 5 * KT)
                    (f02 + f12).store(s + 6 * KT); (f03 + f13).store(s + 7 * KT)
                    (f00 - f10).store(s + 8 * KT); (f01 - f11).store(s + 9 * KT)
                    (f02 - f12).store(s + 10 * KT); (f03 - f13).store(s + 11 * KT)
                    (-f10).store(s + 12 * KT); (-f11).store(s + 13 * KT)
                    (-f12).store(s + 14 * KT); (-f13).store(s + 15 * KT)
                }
                forEachLane(TW, { tiles(SIMD8<Float>.self, $0) }, { tiles(SIMD4<Float>.self, $0) }, { tiles(Float.self, $0) })
            }
        }
    }
}

/// dx (NCHW, `images` images) += B dV Bᵀ summed over the overlapping 4×4 input tiles;
/// `rows` is scratch of `WinogradPlan.rowScratch` floats. Each dx element receives its terms in a fixed
/// order (tile strips top to bottom).
func winogradAddInputGradient(_ dv: UnsafePointer<Float>, images: Int, plan p: WinogradPlan,
                              into dx: UnsafeMutablePointer<Float>, rows: UnsafeMutablePointer<Float>) {
    let g = p.g, C = p.C, H = g.height, W = g.width, T = p.columns
    let TH = p.tilesH, TW = p.tilesW, CT = C * T, half = TW + 1
    // z_i = dV_i· Bᵀ over the strip, by padded-column parity: ze_i = rows + i·half,
    // zo_i = rows + (4 + i)·half; then s = B z in the next 8·half floats.
    let z = rows, s = rows + 8 * half, temp = rows + 16 * half
    // Input columns 0..<validWidth are covered by padded columns (padW + iw < 2·half).
    let validWidth = min(W, 2 * half - g.padW)
    for b in 0..<images {
        for c in 0..<C {
            let plane = dx + (b * C + c) * H * W
            for ty in 0..<TH {
                let t0 = b * p.tilesPerImage + ty * TW
                for i in 0..<4 {
                    let ze = z + i * half, zo = z + (4 + i) * half
                    let x0 = dv + (i * 4) * CT + c * T + t0, x1 = x0 + CT, x2 = x1 + CT, x3 = x2 + CT
                    // Tile tx covers padded columns 2tx..2tx+3: its terms (x0, x1 - x2 + x3) land on
                    // parity slot tx and (x1 + x2 - x0, -x3) on slot tx + 1.
                    @inline(__always) func own<L: FloatLanes>(_: L.Type, _ tx: Int) {
                        L.load(x0 + tx).store(ze + tx)
                        (L.load(x1 + tx) - L.load(x2 + tx) + L.load(x3 + tx)).store(zo + tx)
                    }
                    forEachLane(TW, { own(SIMD8<Float>.self, $0) }, { own(SIMD4<Float>.self, $0) }, { own(Float.self, $0) })
                    ze[TW] = 0; zo[TW] = 0
                    @inline(__always) func next<L: FloatLanes>(_: L.Type, _ tx: Int) {
                        (L.load(ze + tx + 1) + (L.load(x1 + tx) + L.load(x2 + tx) - L.load(x0 + tx))).store(ze + tx + 1)
                        (L.load(zo + tx + 1) - L.load(x3 + tx)).store(zo + tx + 1)
                    }
                    forEachLane(TW, { next(SIMD8<Float>.self, $0) }, { next(SIMD4<Float>.self, $0) }, { next(Float.self, $0) })
                }
                // Rows: s0 = z0, s1 = z1 - z2 + z3, s2 = -z0 + z1 + z2, s3 = -z3 (both parities at once).
                let z0 = UnsafePointer(z), z1 = z0 + half, z2 = z1 + half, z3 = z2 + half
                let s0 = s, s1 = s + half, s2 = s1 + half, s3 = s2 + half
                @inline(__always) func rowsOf<L: FloatLanes>(_: L.Type, _ q: Int) {
                    for parity in 0..<2 {
                        let o = q + parity * 4 * half
                        let a0 = L.load(z0 + o), a1 = L.load(z1 + o), a2 = L.load(z2 + o), a3 = L.load(z3 + o)
                        a0.store(s0 + o)
                        (a1 - a2 + a3).store(s1 + o)
                        (a1 + a2 - a0).store(s2 + o)
                        (-a3).store(s3 + o)
                    }
                }
                forEachLane(half, { rowsOf(SIMD8<Float>.self, $0) }, { rowsOf(SIMD4<Float>.self, $0) }, { rowsOf(Float.self, $0) })
                for a in 0..<4 {
                    let ih = 2 * ty - g.padH + a
                    if ih < 0 || ih >= H { continue }
                    interleave(even: s + a * half, odd: s + (4 + a) * half, half: half, into: temp)
                    // Padded column q is input column q - padW.
                    let dst = plane + ih * W, src = temp + g.padW
                    for iw in 0..<validWidth { dst[iw] += src[iw] }
                }
            }
        }
    }
}
