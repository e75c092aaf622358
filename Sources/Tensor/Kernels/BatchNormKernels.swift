// Batch normalisation over NCHW in training mode (Ioffe & Szegedy 2015).
// Legend: N batch, C channels, HW = H * W plane size, M = N * HW values per channel.
// Each channel is reduced by one worker: per-plane Float sums (HW <= a few thousand,
// vectorised, see KernelSupport.swift) added in Double, in a fixed order, so results do
// not depend on the chunking. Mean and variance take two passes (sum, then squared
// deviations) for accuracy; a channel's data stays in L2 between the passes.

/// Per-channel batch statistics cached by the forward pass for backward.
public struct BatchNormStatistics: Sendable {
    /// Batch mean per channel, (C).
    public var mean: [Float]
    /// Biased batch variance per channel (divides by M), (C).
    public var variance: [Float]
    /// 1 / sqrt(variance + eps) per channel, (C).
    public var invStd: [Float]
}

/// y = (x - mean) * invStd * gamma + beta with batch statistics; returns y and the statistics.
/// With `residual` r, y + r in the same pass (a residual block's join after its last batch
/// norm); with `activationCap` c, then min(max(·, 0), c): batch norm (and the join) followed by
/// ReLU (c = .infinity) or ReLU6 (c = 6). The same bits as the kernels one after the other
/// (`addForward`, `clampedReLUForward`).
public func batchNormForwardTraining(_ input: Tensor, gamma: [Float], beta: [Float], eps: Float,
                                     activationCap: Float? = nil, adding residual: Tensor? = nil)
    -> (output: Tensor, statistics: BatchNormStatistics) {
    precondition(input.rank == 4, "batch norm needs NCHW, got \(input.shape)")
    precondition(residual == nil || residual!.shape == input.shape,
                 "residual \(residual!.shape) vs batch norm input \(input.shape)")
    let n = input.shape[0], c = input.shape[1], hw = input.shape[2] * input.shape[3]
    precondition(gamma.count == c && beta.count == c, "\(c) channels, gamma \(gamma.count), beta \(beta.count)")
    precondition(n * hw > 0, "batch norm over an empty batch \(input.shape)")
    let m = Double(n * hw)
    var mean = [Float](repeating: 0, count: c)
    var variance = [Float](repeating: 0, count: c)
    var invStd = [Float](repeating: 0, count: c)
    let output = Tensor.filled(shape: input.shape) { y in
        input.withUnsafeBufferPointer { x in withOptionalPointer(residual) { r in
            mean.withUnsafeMutableBufferPointer { pMean in
            variance.withUnsafeMutableBufferPointer { pVar in
            invStd.withUnsafeMutableBufferPointer { pInv in
                Parallel.forEachChunk(count: c) { _, range in
                    for ch in range {
                        let x0 = x.baseAddress!
                        var sum: Double = 0
                        for i in 0..<n { sum += Double(runSum(x0 + (i * c + ch) * hw, hw)) }
                        let mu = Float(sum / m)
                        var sq: Double = 0
                        for i in 0..<n { sq += Double(runSquaredDeviation(x0 + (i * c + ch) * hw, hw, mean: mu)) }
                        let v = Float(sq / m)
                        let inv = 1 / (v + eps).squareRoot()
                        pMean[ch] = mu; pVar[ch] = v; pInv[ch] = inv
                        let a = gamma[ch] * inv, b = beta[ch] - mu * a
                        for i in 0..<n {
                            let base = (i * c + ch) * hw
                            switch (activationCap, r) {
                            case (let cap?, let r?):
                                for j in base..<(base + hw) { y[j] = min(max(x[j] * a + b + r[j], 0), cap) }
                            case (let cap?, nil):
                                for j in base..<(base + hw) { y[j] = min(max(x[j] * a + b, 0), cap) }
                            case (nil, let r?):
                                for j in base..<(base + hw) { y[j] = x[j] * a + b + r[j] }
                            case (nil, nil):
                                for j in base..<(base + hw) { y[j] = x[j] * a + b }
                            }
                        }
                    }
                }
            }}}
        }}
    }
    return (output, BatchNormStatistics(mean: mean, variance: variance, invStd: invStd))
}

/// Backward of training-mode batch norm. With xhat = (x - mean) * invStd:
/// dGamma = sum dy * xhat, dBeta = sum dy,
/// dx = gamma * invStd * (dy - dBeta / M - xhat * dGamma / M).
/// With `activation` (the output y and cap c of a fused `activationCap` forward), dOutput is
/// the gradient at the activation's output and dy is taken as dOutput where 0 < y < c, else
/// 0: the same bits as `clampedReLUBackward` followed by this kernel, without the pass.
public func batchNormBackwardTraining(dOutput: Tensor, input: Tensor, statistics: BatchNormStatistics,
                                      gamma: [Float], activation: (output: Tensor, cap: Float)? = nil)
    -> (dInput: Tensor, dGamma: [Float], dBeta: [Float]) {
    precondition(dOutput.shape == input.shape && input.rank == 4, "dOutput \(dOutput.shape) vs input \(input.shape)")
    if let activation {
        precondition(activation.output.shape == input.shape, "activation output \(activation.output.shape) vs input \(input.shape)")
    }
    let n = input.shape[0], c = input.shape[1], hw = input.shape[2] * input.shape[3]
    precondition(gamma.count == c && statistics.mean.count == c)
    let m = Float(n * hw)
    var dGamma = [Float](repeating: 0, count: c)
    var dBeta = [Float](repeating: 0, count: c)
    let cap = activation?.cap ?? .infinity
    let activationOutput = activation?.output ?? Tensor(zeros: [0])
    let dInput = Tensor.filled(shape: input.shape) { dx in
        input.withUnsafeBufferPointer { x in dOutput.withUnsafeBufferPointer { dOut in
        activationOutput.withUnsafeBufferPointer { yb in
        dGamma.withUnsafeMutableBufferPointer { pdg in dBeta.withUnsafeMutableBufferPointer { pdb in
            let x0 = x.baseAddress!, dx0 = dx.baseAddress!
            Parallel.forEachChunk(count: c) { _, range in
                for ch in range {
                    let mu = statistics.mean[ch], inv = statistics.invStd[ch]
                    // dy of each plane: dOutput itself, or (fused activation) its masked copy,
                    // written where that plane's dInput goes and overwritten by it below.
                    let dyBase = activation == nil ? dOut.baseAddress! : UnsafePointer(dx0)
                    var sumDy: Double = 0, sumDyXc: Double = 0
                    for i in 0..<n {
                        let base = (i * c + ch) * hw
                        if activation != nil {
                            maskActivationGradient(dOut.baseAddress! + base, output: yb.baseAddress! + base, cap: cap,
                                                   count: hw, into: dx0 + base)
                        }
                        let (s, sx) = runGradientSums(dyBase + base, x0 + base, hw, mean: mu)
                        sumDy += Double(s); sumDyXc += Double(sx)
                    }
                    let dg = Float(sumDyXc) * inv, db = Float(sumDy)
                    pdg[ch] = dg; pdb[ch] = db
                    let a = gamma[ch] * inv, meanDy = db / m, meanDyXhat = dg / m
                    for i in 0..<n {
                        let base = (i * c + ch) * hw
                        runBatchNormInputGradient(dyBase + base, x0 + base, hw, mean: mu, invStd: inv, scale: a,
                                                  meanDy: meanDy, meanDyXhat: meanDyXhat, into: dx0 + base)
                    }
                }
            }
        }}}}}
    }
    return (dInput, dGamma, dBeta)
}

/// out[j] = dy[j] where 0 < y[j] < cap, else 0 (the activation's backward, as in
/// `clampedReLUBackward`), 8 lanes at a time: the same selects, the same bits.
@inline(__always)
func maskActivationGradient(_ dy: UnsafePointer<Float>, output y: UnsafePointer<Float>, cap: Float, count: Int,
                            into out: UnsafeMutablePointer<Float>) {
    let zero = SIMD8<Float>(repeating: 0), capV = SIMD8<Float>(repeating: cap)
    var j = 0
    if cap == .infinity {
        while j + 8 <= count {
            SIMD8<Float>.load(dy + j).replacing(with: 0, where: .!(SIMD8<Float>.load(y + j) .> zero)).store(out + j)
            j += 8
        }
        while j < count { let g = dy[j]; out[j] = y[j] > 0 ? g : 0; j += 1 }
    } else {
        while j + 8 <= count {
            let v = SIMD8<Float>.load(y + j)
            SIMD8<Float>.load(dy + j).replacing(with: 0, where: (v .> zero) .^ (v .< capV)).store(out + j)
            j += 8
        }
        while j < count { let g = dy[j], v = y[j]; out[j] = (v > 0) == (v < cap) ? g : 0; j += 1 }
    }
}

/// out[j] = scale * (dy[j] - meanDy - xhat * meanDyXhat), xhat = (x[j] - mean) * invStd: batch
/// norm's input gradient over one plane, 8 lanes at a time (the same operations per
/// element as the scalar tail). `out` may be `dy` itself.
@inline(__always)
func runBatchNormInputGradient(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int,
                               mean: Float, invStd: Float, scale: Float, meanDy: Float, meanDyXhat: Float,
                               into out: UnsafeMutablePointer<Float>) {
    let mu = SIMD8<Float>(repeating: mean), inv = SIMD8<Float>(repeating: invStd)
    let a = SIMD8<Float>(repeating: scale), md = SIMD8<Float>(repeating: meanDy)
    let mdx = SIMD8<Float>(repeating: meanDyXhat)
    var j = 0
    while j + 8 <= count {
        let xhat = (SIMD8<Float>.load(x + j) - mu) * inv
        (a * (SIMD8<Float>.load(dy + j) - md - xhat * mdx)).store(out + j)
        j += 8
    }
    while j < count {
        let xhat = (x[j] - mean) * invStd
        out[j] = scale * (dy[j] - meanDy - xhat * meanDyXhat)
        j += 1
    }
}

/// Naive reference for `batchNormForwardTraining`, in Double.
public func batchNormForwardTrainingReference(_ input: Tensor, gamma: [Float], beta: [Float], eps: Float)
    -> (output: Tensor, mean: [Double], variance: [Double]) {
    let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
    let m = Double(n * h * w)
    var out = Tensor(zeros: input.shape)
    var means = [Double](), vars = [Double]()
    for ch in 0..<c {
        var s = 0.0
        for i in 0..<n { for y in 0..<h { for x in 0..<w { s += Double(input[i, ch, y, x]) } } }
        let mu = s / m
        var v = 0.0
        for i in 0..<n { for y in 0..<h { for x in 0..<w { let d = Double(input[i, ch, y, x]) - mu; v += d * d } } }
        v /= m
        means.append(mu); vars.append(v)
        let inv = 1 / (v + Double(eps)).squareRoot()
        for i in 0..<n { for y in 0..<h { for x in 0..<w {
            out[i, ch, y, x] = Float((Double(input[i, ch, y, x]) - mu) * inv * Double(gamma[ch]) + Double(beta[ch]))
        }}}
    }
    return (out, means, vars)
}

/// Naive reference for `batchNormBackwardTraining`, in Double.
public func batchNormBackwardTrainingReference(dOutput: Tensor, input: Tensor, gamma: [Float], eps: Float)
    -> (dInput: Tensor, dGamma: [Double], dBeta: [Double]) {
    let n = input.shape[0], c = input.shape[1], h = input.shape[2], w = input.shape[3]
    let m = Double(n * h * w)
    let (_, means, vars) = batchNormForwardTrainingReference(input, gamma: gamma, beta: gamma, eps: eps)
    var dx = Tensor(zeros: input.shape)
    var dGamma = [Double](), dBeta = [Double]()
    for ch in 0..<c {
        let inv = 1 / (vars[ch] + Double(eps)).squareRoot()
        var sdy = 0.0, sdyx = 0.0
        for i in 0..<n { for y in 0..<h { for x in 0..<w {
            let dy = Double(dOutput[i, ch, y, x])
            sdy += dy; sdyx += dy * (Double(input[i, ch, y, x]) - means[ch]) * inv
        }}}
        dGamma.append(sdyx); dBeta.append(sdy)
        for i in 0..<n { for y in 0..<h { for x in 0..<w {
            let xhat = (Double(input[i, ch, y, x]) - means[ch]) * inv
            let dy = Double(dOutput[i, ch, y, x])
            dx[i, ch, y, x] = Float(Double(gamma[ch]) * inv * (dy - sdy / m - xhat * sdyx / m))
        }}}
    }
    return (dx, dGamma, dBeta)
}
