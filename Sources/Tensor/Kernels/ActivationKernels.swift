// Elementwise activation and residual-add kernels, each one pass over memory.
// Elementwise work needs no fixed chunking for determinism: every element is
// computed independently, so any split gives the same bits.

/// y = min(max(x, 0), cap); `cap = .infinity` is ReLU, `cap = 6` is ReLU6.
public func clampedReLUForward(_ input: Tensor, cap: Float = .infinity) -> Tensor {
    Tensor.filled(shape: input.shape) { y in
        input.withUnsafeBufferPointer { x in
            forEachElementChunk(count: x.count) { range in
                for i in range { y[i] = min(max(x[i], 0), cap) }
            }
        }
    }
}

/// dx = dy where 0 < y < cap, else 0, from the forward output y (which has the same
/// support as the input, so the input need not be kept).
public func clampedReLUBackward(dOutput: Tensor, output: Tensor, cap: Float = .infinity) -> Tensor {
    precondition(dOutput.shape == output.shape, "dOutput \(dOutput.shape) vs output \(output.shape)")
    return Tensor.filled(shape: output.shape) { dx in
        dOutput.withUnsafeBufferPointer { dy in output.withUnsafeBufferPointer { y in
            forEachElementChunk(count: y.count) { range in
                // Both loads unconditional so the select vectorises (no branch per element).
                if cap == .infinity {
                    for i in range { let g = dy[i]; dx[i] = y[i] > 0 ? g : 0 }
                } else {
                    for i in range { let g = dy[i], v = y[i]; dx[i] = (v > 0) == (v < cap) ? g : 0 }
                }
            }
        }}
    }
}

/// y = a + b, then ReLU when `relu` (the residual join of a basic block).
public func addForward(_ a: Tensor, _ b: Tensor, relu: Bool) -> Tensor {
    precondition(a.shape == b.shape, "residual add of \(a.shape) and \(b.shape)")
    return Tensor.filled(shape: a.shape) { y in
        a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
            forEachElementChunk(count: pa.count) { range in
                if relu {
                    for i in range { y[i] = max(pa[i] + pb[i], 0) }
                } else {
                    for i in range { y[i] = pa[i] + pb[i] }
                }
            }
        }}
    }
}

/// Naive reference for the activation kernels.
public func clampedReLUReference(_ input: Tensor, cap: Float = .infinity) -> Tensor {
    Tensor(shape: input.shape, scalars: input.scalars.map { $0 > 0 ? ($0 < cap ? $0 : cap) : 0 })
}
