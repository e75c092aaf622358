// Per-channel affine maps and reductions over NCHW tensors.
// Legend: N batch, C channels, HW = H * W plane size.
// Reductions are per channel by one worker in a fixed order, so the chunking never
// changes the bits.

/// y[n, c, :, :] = x[n, c, :, :] * scale[c] + shift[c] (batch norm in evaluation mode, and
/// its input gradient with shift 0).
public func channelAffine(_ input: Tensor, scale: [Float], shift: [Float]?) -> Tensor {
    precondition(input.rank >= 2, "channelAffine needs (N, C, ...), got \(input.shape)")
    let n = input.shape[0], c = input.shape[1], hw = input.count / max(1, n * c)
    precondition(scale.count == c && (shift?.count ?? c) == c, "\(c) channels, scale \(scale.count)")
    let shift = shift ?? [Float](repeating: 0, count: c)
    return Tensor.filled(shape: input.shape) { y in
        input.withUnsafeBufferPointer { x in
            let planes = n * c
            let run = { (range: Range<Int>) in
                for plane in range {
                    let a = scale[plane % c], b = shift[plane % c], base = plane * hw
                    for j in base..<(base + hw) { y[j] = x[j] * a + b }
                }
            }
            if input.count < parallelElementThreshold { run(0..<planes) } else {
                Parallel.forEachChunk(count: planes) { _, range in run(range) }
            }
        }
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
