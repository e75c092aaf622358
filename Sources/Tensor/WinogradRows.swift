// Row and plane plumbing shared by the Winograd transforms of both tile sizes
// (WinogradTransforms.swift, Winograd4x4Transforms.swift): copies into zero-bordered planes,
// row splits into phase planes (by column parity for F(2×2), by column modulo 4 for
// F(4×4)), the interleaves back into rows, and the pipeline that runs a transform's stages
// over the planes.

/// Copies every row of `plane` (H×W) into `padded` (rows × width floats) at row ih + padH,
/// columns padW..<padW + W; the rest of `padded` is left as it is. The transforms zero
/// `padded` once per call, so across planes of the same geometry only the rows are copied
/// and the zero border stays. (Splitting rows straight from the source instead took one
/// column at a time at every edge: at 7×7 and 14×14 planes most of each row.)
@inline(__always)
func copyIntoPaddedPlane(_ plane: UnsafePointer<Float>, height H: Int, width W: Int, padH: Int, padW: Int,
                         rowWidth Wq: Int, into padded: UnsafeMutablePointer<Float>) {
    for ih in 0..<H {
        copyVectors(plane + ih * W, to: padded + (ih + padH) * Wq + padW, count: W)
    }
}

/// even[j] = row[2j], odd[j] = row[2j + 1] for j in 0..<half (`row` holds 2·half floats):
/// splitting by column parity turns the stride-2 tile walk into unit strides. Each 8-float
/// load splits into both halves; where half is not a multiple of 4 the last load overlaps
/// the one before (it rewrites the same values).
@inline(__always)
func splitRowByParity(_ row: UnsafePointer<Float>, half: Int,
                      even: UnsafeMutablePointer<Float>, odd: UnsafeMutablePointer<Float>) {
    @inline(__always) func split(_ j: Int) {
        let v = SIMD8<Float>.load(row + 2 * j)
        v.evenHalf.store(even + j)
        v.oddHalf.store(odd + j)
    }
    forEachOverlappingStepOf4(count: half, split) { j in even[j] = row[2 * j]; odd[j] = row[2 * j + 1] }
}

/// vector(j) for j = 0, 4, 8, ... and, where `count` is not a multiple of 4, once more at
/// count - 4 (overlapping the step before: it rewrites the same values); with fewer than 4,
/// scalar(j) for each j instead.
@inline(__always)
func forEachOverlappingStepOf4(count: Int, _ vector: (Int) -> Void, _ scalar: (Int) -> Void) {
    guard count >= 4 else {
        for j in 0..<count { scalar(j) }
        return
    }
    var j = 0
    while j + 4 <= count { vector(j); j += 4 }
    if j < count { vector(count - 4) }
}

/// out[2j] = even[j] + bias, out[2j + 1] = odd[j] + bias for the first `count` of those
/// (count <= 2·half): the interleave and the bias add in one pass.
@inline(__always)
func storeInterleaved(even: UnsafePointer<Float>, odd: UnsafePointer<Float>, count: Int, bias: Float,
                      into out: UnsafeMutablePointer<Float>) {
    let b = SIMD8<Float>(repeating: bias)
    var j = 0
    while 2 * j + 8 <= count {
        let e = SIMD4<Float>.load(even + j), o = SIMD4<Float>.load(odd + j)
        (SIMD8<Float>(e[0], o[0], e[1], o[1], e[2], o[2], e[3], o[3]) + b).store(out + 2 * j)
        j += 4
    }
    while 2 * j < count {
        out[2 * j] = even[j] + bias
        if 2 * j + 1 < count { out[2 * j + 1] = odd[j] + bias }
        j += 1
    }
}

/// Runs the three per-plane stages of a transform as a pipeline over planes 0..<planes,
/// each stage writing buffer i % 2 of plane i: plane i + 1 is split and plane i + 2 copied
/// before the tiles of plane i are transformed, so every stage reads what the stage before
/// stored one step earlier, never just before.
@inline(__always)
func runPlanePipeline(planes: Int, copy: (Int) -> Void, split: (Int) -> Void, transform: (Int) -> Void) {
    guard planes > 0 else { return }
    copy(0)
    split(0)
    if planes > 1 { copy(1) }
    for i in 0..<planes {
        if i + 1 < planes { split(i + 1) }   // copied one step ago
        if i + 2 < planes { copy(i + 2) }    // into the buffer plane i was split from
        transform(i)                         // split one step ago
    }
}

// Column modulo 4 (F(4×4, 3×3)).

/// p_j[m] = row[4m + j] for m in 0..<count and j in 0..<4 (only j < 2 where `onlyFirstTwo`);
/// `row` holds 4·count floats. Each 16-float load splits into the four phases; where count
/// is not a multiple of 4 the last load overlaps the one before.
@inline(__always)
func splitRowByPhase4(_ row: UnsafePointer<Float>, count: Int, onlyFirstTwo: Bool,
                      _ p0: UnsafeMutablePointer<Float>, _ p1: UnsafeMutablePointer<Float>,
                      _ p2: UnsafeMutablePointer<Float>, _ p3: UnsafeMutablePointer<Float>) {
    @inline(__always) func split(_ m: Int) {
        let v = SIMD16<Float>.load(row + 4 * m), e = v.evenHalf, o = v.oddHalf
        e.evenHalf.store(p0 + m)
        o.evenHalf.store(p1 + m)
        if !onlyFirstTwo {
            e.oddHalf.store(p2 + m)
            o.oddHalf.store(p3 + m)
        }
    }
    forEachOverlappingStepOf4(count: count, split) { m in
        p0[m] = row[4 * m]; p1[m] = row[4 * m + 1]
        if !onlyFirstTwo { p2[m] = row[4 * m + 2]; p3[m] = row[4 * m + 3] }
    }
}

/// dst[i] (+)= phase((i + offset) mod 4)[(i + offset) / 4] (+ bias) for i in 0..<count, where
/// phase j starts at base + j·stride: the interleave by column modulo 4 and the add (or the
/// store with the bias) in one pass. Each dst element gets one operation.
@inline(__always)
func interleave4(_ base: UnsafePointer<Float>, stride: Int, offset: Int, count: Int, bias: Float,
                         adding: Bool, into dst: UnsafeMutablePointer<Float>) {
    // dst[4m + j] takes q_j[m].
    @inline(__always) func q(_ j: Int) -> UnsafePointer<Float> {
        base + ((j + offset) % 4) * stride + (j + offset) / 4
    }
    let q0 = q(0), q1 = q(1), q2 = q(2), q3 = q(3)
    let b = SIMD16<Float>(repeating: bias)
    var m = 0
    while 4 * m + 16 <= count {
        let a0 = SIMD4<Float>.load(q0 + m), a1 = SIMD4<Float>.load(q1 + m)
        let a2 = SIMD4<Float>.load(q2 + m), a3 = SIMD4<Float>.load(q3 + m)
        let v = SIMD16<Float>(a0[0], a1[0], a2[0], a3[0], a0[1], a1[1], a2[1], a3[1],
                              a0[2], a1[2], a2[2], a3[2], a0[3], a1[3], a2[3], a3[3])
        (adding ? SIMD16<Float>.load(dst + 4 * m) + v : v + b).store(dst + 4 * m)
        m += 4
    }
    var i = 4 * m
    while i < count {
        let j = i % 4, value = (j == 0 ? q0 : j == 1 ? q1 : j == 2 ? q2 : q3)[i / 4]
        if adding { dst[i] += value } else { dst[i] = value + bias }
        i += 1
    }
}
