// Layout changes: transposes. Legend: N batch, C channels, H W height and width.

extension Tensor {
    /// The transpose of a matrix: (rows, cols) -> (cols, rows).
    public func transposed() -> Tensor {
        precondition(rank == 2, "transposed() needs a matrix, got shape \(shape)")
        let rows = shape[0], cols = shape[1]
        return withUnsafeBufferPointer { src in
            Tensor(shape: [cols, rows]) { dst in
                // Blocked so both sides stay in cache for large matrices.
                let block = 32
                for i0 in stride(from: 0, to: rows, by: block) {
                    for j0 in stride(from: 0, to: cols, by: block) {
                        for i in i0..<min(i0 + block, rows) {
                            for j in j0..<min(j0 + block, cols) { dst[j * rows + i] = src[i * cols + j] }
                        }
                    }
                }
            }
        }
    }

    /// NCHW -> NHWC (channels last).
    public func nchwToNHWC() -> Tensor {
        precondition(rank == 4, "nchwToNHWC needs rank 4, got \(shape)")
        let n = shape[0], c = shape[1], hw = shape[2] * shape[3]
        return withUnsafeBufferPointer { src in
            Tensor(shape: [n, shape[2], shape[3], c]) { dst in
                for i in 0..<n {
                    for j in 0..<c {
                        for p in 0..<hw { dst[(i * hw + p) * c + j] = src[(i * c + j) * hw + p] }
                    }
                }
            }
        }
    }

    /// NHWC -> NCHW.
    public func nhwcToNCHW() -> Tensor {
        precondition(rank == 4, "nhwcToNCHW needs rank 4, got \(shape)")
        let n = shape[0], c = shape[3], hw = shape[1] * shape[2]
        return withUnsafeBufferPointer { src in
            Tensor(shape: [n, c, shape[1], shape[2]]) { dst in
                for i in 0..<n {
                    for j in 0..<c {
                        for p in 0..<hw { dst[(i * c + j) * hw + p] = src[(i * hw + p) * c + j] }
                    }
                }
            }
        }
    }
}
