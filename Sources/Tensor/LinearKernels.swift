// GEMM helpers of a fully connected layer. Legend: N batch rows, I input features,
// O output features. x is (N, I), weight (O, I) as in PyTorch, bias (O), y (N, O).

/// y = x · Wᵀ + b, shape (N, O).
public func linearForward(input: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(input.rank == 2 && weight.rank == 2 && input.shape[1] == weight.shape[1],
                 "linearForward: input \(input.shape) and weight \(weight.shape) need (N, I) and (O, I)")
    let n = input.shape[0], i = input.shape[1], o = weight.shape[0]
    precondition(bias == nil || bias!.shape == [o], "linearForward: bias \(bias!.shape), expected [\(o)]")
    ensureSingleThreadedBLAS()
    return input.withUnsafeBufferPointer { x in weight.withUnsafeBufferPointer { w in
        Tensor(shape: [n, o]) { y in
            if let bias {
                // Start every row at the bias and let the GEMM add into it (beta = 1).
                bias.withUnsafeBufferPointer { b in
                    for row in 0..<n { (y + row * o).update(from: b.baseAddress!, count: o) }
                }
            } else if i == 0 {
                y.update(repeating: 0, count: n * o)
            }
            if i > 0 {
                sgemm(.none, .transposed, m: n, n: o, k: i, a: x.baseAddress!, lda: i,
                      b: w.baseAddress!, ldb: i, beta: bias == nil ? 0 : 1, c: y, ldc: o)
            }
        }
    }}
}

/// dx = dy · W, shape (N, I).
public func linearBackwardInput(dOutput: Tensor, weight: Tensor) -> Tensor {
    precondition(dOutput.rank == 2 && weight.rank == 2 && dOutput.shape[1] == weight.shape[0],
                 "linearBackwardInput: dOutput \(dOutput.shape) and weight \(weight.shape) need (N, O) and (O, I)")
    let n = dOutput.shape[0], o = weight.shape[0], i = weight.shape[1]
    ensureSingleThreadedBLAS()
    var dx = Tensor(zeros: [n, i])
    if o == 0 { return dx }
    dOutput.withUnsafeBufferPointer { dy in weight.withUnsafeBufferPointer { w in
        dx.withUnsafeMutableBufferPointer { dxp in
            sgemm(.none, .none, m: n, n: i, k: o, a: dy.baseAddress!, lda: o, b: w.baseAddress!, ldb: i,
                  c: dxp.baseAddress!, ldc: i)
        }
    }}
    return dx
}

/// dW += dyᵀ · x, dWeight of shape (O, I).
public func linearBackwardWeight(dOutput: Tensor, input: Tensor, accumulatingInto dWeight: inout Tensor) {
    precondition(dOutput.rank == 2 && input.rank == 2 && dOutput.shape[0] == input.shape[0],
                 "linearBackwardWeight: dOutput \(dOutput.shape) and input \(input.shape) need (N, O) and (N, I)")
    let n = input.shape[0], i = input.shape[1], o = dOutput.shape[1]
    precondition(dWeight.shape == [o, i], "linearBackwardWeight: dWeight \(dWeight.shape), expected [\(o), \(i)]")
    ensureSingleThreadedBLAS()
    if n == 0 { return }
    dOutput.withUnsafeBufferPointer { dy in input.withUnsafeBufferPointer { x in
        dWeight.withUnsafeMutableBufferPointer { dw in
            sgemm(.transposed, .none, m: o, n: i, k: n, a: dy.baseAddress!, lda: o, b: x.baseAddress!, ldb: i,
                  beta: 1, c: dw.baseAddress!, ldc: i)
        }
    }}
}

/// db += column sums of dy, dBias of shape (O).
public func linearBackwardBias(dOutput: Tensor, accumulatingInto dBias: inout Tensor) {
    precondition(dOutput.rank == 2 && dBias.shape == [dOutput.shape[1]],
                 "linearBackwardBias: dOutput \(dOutput.shape) and dBias \(dBias.shape) need (N, O) and (O)")
    dBias.add(dOutput.channelSums())
}
