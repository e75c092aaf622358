// Elementwise kernels, in place where a layer or optimizer updates a buffer it owns.
// Every loop runs in index order on one thread, so results are the same bits on every run.

extension Tensor {
    /// self += other (same shape).
    public mutating func add(_ other: Tensor) {
        addScaled(other, by: 1)
    }

    /// self -= other (same shape).
    public mutating func subtract(_ other: Tensor) {
        addScaled(other, by: -1)
    }

    /// self += alpha * other (BLAS axpy), same shape.
    public mutating func addScaled(_ other: Tensor, by alpha: Float) {
        precondition(shape == other.shape, "addScaled: shape \(other.shape) into \(shape)")
        other.withUnsafeBufferPointer { src in
            withUnsafeMutableBufferPointer { dst in
                if alpha == 1 {
                    for i in 0..<dst.count { dst[i] += src[i] }
                } else {
                    for i in 0..<dst.count { dst[i] += alpha * src[i] }
                }
            }
        }
    }

    /// self *= alpha.
    public mutating func scale(by alpha: Float) {
        withUnsafeMutableBufferPointer { dst in
            for i in 0..<dst.count { dst[i] *= alpha }
        }
    }

    /// self *= other elementwise (Hadamard product), same shape.
    public mutating func multiplyElementwise(by other: Tensor) {
        precondition(shape == other.shape, "multiplyElementwise: shape \(other.shape) into \(shape)")
        other.withUnsafeBufferPointer { src in
            withUnsafeMutableBufferPointer { dst in
                for i in 0..<dst.count { dst[i] *= src[i] }
            }
        }
    }

    /// Sets every element to `value` (for example zeroing a gradient).
    public mutating func fill(with value: Float) {
        withUnsafeMutableBufferPointer { dst in dst.update(repeating: value) }
    }

    /// Adds `bias[c]` to every element of channel c of an NCHW (or NC) tensor.
    public mutating func addChannelBias(_ bias: Tensor) {
        precondition(rank >= 2 && bias.shape == [shape[1]],
                     "addChannelBias: bias \(bias.shape) for tensor \(shape) (need [\(rank >= 2 ? shape[1] : -1)])")
        let n = shape[0], c = shape[1], plane = shape.dropFirst(2).reduce(1, *)
        bias.withUnsafeBufferPointer { b in
            withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    for j in 0..<c {
                        let v = b[j], base = (i * c + j) * plane
                        for p in 0..<plane { dst[base + p] += v }
                    }
                }
            }
        }
    }

    /// a + b elementwise, same shape.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        var out = a
        out.add(b)
        return out
    }

    /// a - b elementwise, same shape.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        var out = a
        out.subtract(b)
        return out
    }

    /// alpha * t.
    public static func * (alpha: Float, t: Tensor) -> Tensor {
        var out = t
        out.scale(by: alpha)
        return out
    }
}
