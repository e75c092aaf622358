// Parameter update loops, with PyTorch's semantics (torch.optim.SGD, Adam, AdamW).
import Foundation

/// One SGD step on one parameter tensor.
/// g = grad + weightDecay * p; buf = momentum * buf + (1 - dampening) * g (buf = g on the
/// first step); g = nesterov ? g + momentum * buf : buf; p -= lr * g.
public func sgdUpdate(value: inout [Float], gradient: [Float], momentumBuffer: inout [Float],
                      learningRate: Float, momentum: Float, dampening: Float, weightDecay: Float,
                      nesterov: Bool, firstStep: Bool) {
    precondition(value.count == gradient.count && (momentum == 0 || momentumBuffer.count == value.count))
    value.withUnsafeMutableBufferPointer { p in gradient.withUnsafeBufferPointer { grad in
        momentumBuffer.withUnsafeMutableBufferPointer { buf in
            for i in 0..<p.count {
                var g = grad[i] + weightDecay * p[i]
                if momentum != 0 {
                    buf[i] = firstStep ? g : momentum * buf[i] + (1 - dampening) * g
                    g = nesterov ? g + momentum * buf[i] : buf[i]
                }
                p[i] -= learningRate * g
            }
        }
    }}
}

/// One Adam step (decoupled = AdamW: p *= 1 - lr * wd; else L2: g += wd * p).
/// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr * m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps).
public func adamUpdate(value: inout [Float], gradient: [Float], firstMoment: inout [Float],
                       secondMoment: inout [Float], learningRate: Float, beta1: Float, beta2: Float,
                       eps: Float, weightDecay: Float, decoupled: Bool, step: Int) {
    precondition(value.count == gradient.count && firstMoment.count == value.count
                 && secondMoment.count == value.count && step >= 1)
    let c1 = Float(1 - pow(Double(beta1), Double(step)))
    let c2 = Float(1 - pow(Double(beta2), Double(step)))
    let c2Root = c2.squareRoot()
    value.withUnsafeMutableBufferPointer { p in gradient.withUnsafeBufferPointer { grad in
        firstMoment.withUnsafeMutableBufferPointer { m in secondMoment.withUnsafeMutableBufferPointer { v in
            for i in 0..<p.count {
                var g = grad[i]
                if decoupled { p[i] *= 1 - learningRate * weightDecay } else { g += weightDecay * p[i] }
                m[i] = beta1 * m[i] + (1 - beta1) * g
                v[i] = beta2 * v[i] + (1 - beta2) * g * g
                // PyTorch's form: denom = sqrt(v) / sqrt(c2) + eps, step = lr / c1.
                p[i] -= (learningRate / c1) * m[i] / (v[i].squareRoot() / c2Root + eps)
            }
        }}
    }}
}
