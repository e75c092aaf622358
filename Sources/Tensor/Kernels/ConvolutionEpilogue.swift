// What an inference forward applies to a convolution's output while it is still in cache:
// the batch norm after it (running statistics, as a per-channel affine map), then either
// its activation or the residual join of a block. The operations and their order are
// those of the separate kernels (`channelAffine`, then `clampedReLUForward` or
// `addForward`), so the bits are too; what goes is one or two passes over the output in
// memory each.

/// y = conv(x) (+ bias), then per output channel k: y = y * scale[k] + shift[k], then
/// either y = min(max(y, 0), cap) (`activationCap`) or y = y + residual, and
/// y = max(y, 0) when `reLUAfterResidual`.
public struct ConvolutionEpilogue {
    public var scale: [Float]
    public var shift: [Float]
    /// The activation after the affine map (ReLU: .infinity, ReLU6: 6); nil for none.
    public var activationCap: Float?
    /// Added after the affine map (a residual block's shortcut), shape of the output.
    public var residual: Tensor?
    /// ReLU after the residual add (a basic block's join).
    public var reLUAfterResidual: Bool

    public init(scale: [Float], shift: [Float], activationCap: Float? = nil, residual: Tensor? = nil,
                reLUAfterResidual: Bool = false) {
        precondition(scale.count == shift.count, "epilogue scale \(scale.count) vs shift \(shift.count)")
        precondition(activationCap == nil || residual == nil, "an epilogue has an activation or a residual join, not both")
        precondition(residual != nil || !reLUAfterResidual, "reLUAfterResidual without a residual")
        self.scale = scale; self.shift = shift; self.activationCap = activationCap
        self.residual = residual; self.reLUAfterResidual = reLUAfterResidual
    }

    /// The same epilogue with `residual` joined after the affine map.
    public func joining(_ residual: Tensor, reLU: Bool) -> ConvolutionEpilogue {
        ConvolutionEpilogue(scale: scale, shift: shift, residual: residual, reLUAfterResidual: reLU)
    }

    func check(outputShape: [Int]) {
        precondition(outputShape.count >= 2 && scale.count == outputShape[1],
                     "epilogue of \(scale.count) channels on output \(outputShape)")
        precondition(residual == nil || residual!.shape == outputShape,
                     "epilogue residual \(residual!.shape) vs output \(outputShape)")
    }

    /// Applies the epilogue in place to images `images` of the NCHW output `y` (K channels
    /// of `plane` values each).
    func apply(to y: UnsafeMutablePointer<Float>, images: Range<Int>, channels K: Int, plane: Int) {
        withOptionalPointer(residual) { r in
            for n in images {
                for k in 0..<K {
                    let base = (n * K + k) * plane
                    channelAffinePlane(UnsafePointer(y + base), into: y + base, count: plane, scale: scale[k], shift: shift[k],
                                       activationCap: activationCap, residual: r.map { $0 + base },
                                       reLUAfterResidual: reLUAfterResidual)
                }
            }
        }
    }

    /// Applies the epilogue to a whole output tensor (for the kernels that do not apply it
    /// chunk by chunk), in place.
    func applied(to output: Tensor) -> Tensor {
        var output = output
        let shape = output.shape, count = output.count
        let plane = count / max(1, shape[0] * shape[1])
        output.withUnsafeMutableBufferPointer { buffer in
            let y = buffer.baseAddress!
            if count < parallelElementThreshold {
                apply(to: y, images: 0..<shape[0], channels: shape[1], plane: plane)
            } else {
                Parallel.forEachChunk(count: shape[0]) { _, range in
                    apply(to: y, images: range, channels: shape[1], plane: plane)
                }
            }
        }
        return output
    }
}

/// out[j] = x[j] * a + b, then min(max(., 0), cap) with `activationCap`, or + residual[j]
/// (then max(., 0) with `reLUAfterResidual`): one plane of batch norm in evaluation mode
/// and what follows it. `out` may be `x`.
@inline(__always)
func channelAffinePlane(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int,
                        scale a: Float, shift b: Float, activationCap: Float?,
                        residual: UnsafePointer<Float>? = nil, reLUAfterResidual: Bool = false) {
    if let r = residual {
        if reLUAfterResidual {
            for j in 0..<count { out[j] = max((x[j] * a + b) + r[j], 0) }
        } else {
            for j in 0..<count { out[j] = (x[j] * a + b) + r[j] }
        }
    } else if let cap = activationCap {
        for j in 0..<count { out[j] = min(max(x[j] * a + b, 0), cap) }
    } else {
        for j in 0..<count { out[j] = x[j] * a + b }
    }
}
