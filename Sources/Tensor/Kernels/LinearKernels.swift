// Fully connected layer through sgemm. Legend: N batch, I input features,
// O output features; x is (N, I), W is (O, I) as in PyTorch, y is (N, O).

/// y = x W^T + b.
public func linearForward(input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(input.rank == 2 && weight.rank == 2 && input.shape[1] == weight.shape[1],
                 "linear input \(input.shape) vs weight \(weight.shape)")
    let n = input.shape[0], i = input.shape[1], o = weight.shape[0]
    precondition(bias == nil || bias!.shape == [o], "bias \(bias!.shape) for \(o) outputs")
    return Tensor.filled(shape: [n, o]) { y in
        if let bias {
            bias.withUnsafeBufferPointer { b in
                for row in 0..<n { for j in 0..<o { y[row * o + j] = b[j] } }
            }
        }
        input.withUnsafeBufferPointer { x in weight.withUnsafeBufferPointer { w in
            sgemm(.none, .transposed, m: n, n: o, k: i, a: x.baseAddress!, lda: i,
                  b: w.baseAddress!, ldb: i, beta: bias == nil ? 0 : 1, c: y.baseAddress!, ldc: o)
        }}
    }
}

/// dx = dy W, (N, I).
public func linearBackwardInput(dOutput: Tensor, weight: Tensor) -> Tensor {
    precondition(dOutput.rank == 2 && weight.rank == 2 && dOutput.shape[1] == weight.shape[0])
    let n = dOutput.shape[0], o = weight.shape[0], i = weight.shape[1]
    return Tensor.filled(shape: [n, i]) { dx in
        dOutput.withUnsafeBufferPointer { dy in weight.withUnsafeBufferPointer { w in
            sgemm(.none, .none, m: n, n: i, k: o, a: dy.baseAddress!, lda: o,
                  b: w.baseAddress!, ldb: i, c: dx.baseAddress!, ldc: i)
        }}
    }
}

/// dW += dy^T x (O, I); dB += column sums of dy (O) when given.
public func linearBackwardWeight(dOutput: Tensor, input: Tensor,
                                 accumulatingInto dWeight: inout Tensor, bias dBias: inout Tensor?) {
    precondition(dOutput.rank == 2 && input.rank == 2 && dOutput.shape[0] == input.shape[0])
    let n = input.shape[0], i = input.shape[1], o = dOutput.shape[1]
    precondition(dWeight.shape == [o, i], "dWeight \(dWeight.shape) vs (\(o), \(i))")
    dOutput.withUnsafeBufferPointer { dy in input.withUnsafeBufferPointer { x in
        dWeight.withUnsafeMutableBufferPointer { dw in
            sgemm(.transposed, .none, m: o, n: i, k: n, a: dy.baseAddress!, lda: o,
                  b: x.baseAddress!, ldb: i, beta: 1, c: dw.baseAddress!, ldc: i)
        }
        if dBias != nil {
            dBias!.withUnsafeMutableBufferPointer { db in
                for j in 0..<o {
                    var s: Float = 0
                    for row in 0..<n { s += dy[row * o + j] }
                    db[j] += s
                }
            }
        }
    }}
}
