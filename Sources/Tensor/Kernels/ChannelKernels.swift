// Per-channel affine maps and reductions over NCHW tensors.
// Legend: N batch, C channels, HW = H * W plane size.
// Reductions are per channel by one worker in a fixed order, so the chunking never
// changes the bits.

/// y[n, c, :, :] = x[n, c, :, :] * scale[c] + shift[c] (batch norm in evaluation mode, and
/// its input gradient with shift 0). With `activationCap` c, y = min(max(that, 0), c): batch
/// norm followed by ReLU or ReLU6 in one pass (same bits as the two kernels). With
/// `mask` (an activation's output y and cap c), x is first zeroed where not 0 < y < c: the
/// activation's backward fused into the input gradient of a running-statistics batch norm.
public func channelAffine(_ input: Tensor, scale: [Float], shift: [Float]?, activationCap: Float? = nil,
                          mask: (output: Tensor, cap: Float)? = nil) -> Tensor {
    precondition(input.rank >= 2, "channelAffine needs (N, C, ...), got \(input.shape)")
    let n = input.shape[0], c = input.shape[1], hw = input.count / max(1, n * c)
    precondition(scale.count == c && (shift?.count ?? c) == c, "\(c) channels, scale \(scale.count)")
    precondition(mask == nil || mask!.output.shape == input.shape, "mask \(mask!.output.shape) vs input \(input.shape)")
    let shift = shift ?? [Float](repeating: 0, count: c)
    let maskOutput = mask?.output ?? Tensor(zeros: [0]), maskCap = mask?.cap ?? .infinity
    return Tensor.filled(shape: input.shape) { y in
        input.withUnsafeBufferPointer { x in maskOutput.withUnsafeBufferPointer { m in
            let planes = n * c
            let run = { (range: Range<Int>) in
                for plane in range {
                    let a = scale[plane % c], b = shift[plane % c], base = plane * hw
                    if mask != nil {
                        // Zero where the activation was off, then the affine map, as two kernels would.
                        maskActivationGradient(x.baseAddress! + base, output: m.baseAddress! + base, cap: maskCap,
                                               count: hw, into: y.baseAddress! + base)
                        for j in base..<(base + hw) { y[j] = y[j] * a + b }
                    } else {
                        channelAffinePlane(x.baseAddress! + base, into: y.baseAddress! + base, count: hw,
                                           scale: a, shift: b, activationCap: activationCap)
                    }
                }
            }
            if input.count < parallelElementThreshold { run(0..<planes) } else {
                Parallel.forEachChunk(count: planes) { _, range in run(range) }
            }
        }}
    }
}

/// sums[c] += sum over n, h, w of x[n, c, h, w] (bias gradients).
public func addChannelSums(of input: Tensor, into sums: inout [Float]) {
    precondition(input.rank >= 2 && sums.count == input.shape[1])
    let n = input.shape[0], c = input.shape[1], hw = input.count / max(1, n * c)
    var partial = [Double](repeating: 0, count: c)
    input.withUnsafeBufferPointer { x in partial.withUnsafeMutableBufferPointer { p in
        Parallel.forEachChunk(count: c) { _, range in
            for ch in range {
                var total: Double = 0
                for i in 0..<n {
                    var s: Float = 0
                    let base = (i * c + ch) * hw
                    for j in base..<(base + hw) { s += x[j] }
                    total += Double(s)
                }
                p[ch] = total
            }
        }
    }}
    for ch in 0..<c { sums[ch] += Float(partial[ch]) }
}
