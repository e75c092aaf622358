import Foundation
import Tensor

/// A scalar loss and its gradient with respect to the logits, (N, K) like the logits.
public struct LossResult {
    public var loss: Float
    public var dLogits: Tensor
}

/// Classification losses on (N, K) logits. Log-softmax is computed stably (max
/// subtracted, log-sum-exp in Double) and sums run in Double.
///
/// Per-sample weights w_i >= 0 (default all 1): the loss is sum_i w_i * l_i / sum_i w_i.
/// A weight of 0 masks a sample (an unlabelled one: its label is never read). A batch
/// whose weights sum to 0 has loss 0 and a zero gradient, never NaN.
public enum Loss {
    /// Softmax cross-entropy on hard labels: l_i = -log softmax(z_i)[y_i].
    /// Gradient: w_i / sum(w) * (softmax(z_i) - onehot(y_i)).
    public static func softmaxCrossEntropy(logits: Tensor, labels: [Int], weights: [Float]? = nil) -> LossResult {
        let (n, k) = checkLogits(logits)
        precondition(labels.count == n, "\(labels.count) labels for \(n) samples")
        let w = checkWeights(weights, n)
        let total = w.reduce(0.0) { $0 + Double($1) }
        var dLogits = Tensor(zeros: logits.shape)
        guard total > 0 else { return LossResult(loss: 0, dLogits: dLogits) }
        let logp = logSoftmaxRows(logits.scalars, rows: n, columns: k)
        var loss = 0.0
        for i in 0..<n where w[i] > 0 {
            precondition(labels[i] >= 0 && labels[i] < k, "label \(labels[i]) of sample \(i) not in 0..<\(k)")
            loss -= Double(w[i]) * Double(logp[i * k + labels[i]])
            let scale = Float(Double(w[i]) / total)
            for j in 0..<k { dLogits.scalars[i * k + j] = scale * Float(exp(Double(logp[i * k + j]))) }
            dLogits.scalars[i * k + labels[i]] -= scale
        }
        return LossResult(loss: Float(loss / total), dLogits: dLogits)
    }

    /// Soft-target cross-entropy at temperature T (Hinton et al. 2015), scaled by T^2 so
    /// gradient magnitudes do not shrink as T grows:
    /// l_i = -T^2 * sum_k q_ik * log softmax(z_i / T)_k, with targets q (N, K) rows of
    /// probabilities. Gradient: w_i / sum(w) * T * (sum_k q_ik * p_i - q_i), p = softmax(z / T).
    public static func softTargetCrossEntropy(logits: Tensor, targets: Tensor, temperature: Float = 1,
                                              weights: [Float]? = nil) -> LossResult {
        let (n, k) = checkLogits(logits)
        precondition(targets.shape == logits.shape, "targets \(targets.shape) vs logits \(logits.shape)")
        precondition(temperature > 0, "temperature \(temperature) must be positive")
        let w = checkWeights(weights, n)
        let total = w.reduce(0.0) { $0 + Double($1) }
        var dLogits = Tensor(zeros: logits.shape)
        guard total > 0 else { return LossResult(loss: 0, dLogits: dLogits) }
        let t = Double(temperature)
        let logp = logSoftmaxRows(logits.scalars, rows: n, columns: k, temperature: temperature)
        var loss = 0.0
        for i in 0..<n where w[i] > 0 {
            var rowLoss = 0.0, mass = 0.0
            for j in 0..<k {
                let q = Double(targets.scalars[i * k + j])
                rowLoss -= q * Double(logp[i * k + j]); mass += q
            }
            loss += Double(w[i]) * t * t * rowLoss
            let scale = Double(w[i]) / total * t
            for j in 0..<k {
                let p = exp(Double(logp[i * k + j]))
                dLogits.scalars[i * k + j] = Float(scale * (mass * p - Double(targets.scalars[i * k + j])))
            }
        }
        return LossResult(loss: Float(loss / total), dLogits: dLogits)
    }

    /// Self-distillation: soft-target cross-entropy against softmax(teacherLogits / T).
    /// The teacher is a constant (no gradient flows to it).
    public static func distillation(logits: Tensor, teacherLogits: Tensor, temperature: Float,
                                    weights: [Float]? = nil) -> LossResult {
        let (n, k) = checkLogits(teacherLogits)
        let q = logSoftmaxRows(teacherLogits.scalars, rows: n, columns: k, temperature: temperature).map { Float(exp(Double($0))) }
        return softTargetCrossEntropy(logits: logits, targets: Tensor(shape: [n, k], scalars: q),
                                      temperature: temperature, weights: weights)
    }

    /// softmax(z / T) per row of (N, K) logits.
    public static func softmax(_ logits: Tensor, temperature: Float = 1) -> Tensor {
        let (n, k) = checkLogits(logits)
        let logp = logSoftmaxRows(logits.scalars, rows: n, columns: k, temperature: temperature)
        return Tensor(shape: logits.shape, scalars: logp.map { Float(exp(Double($0))) })
    }

    private static func checkLogits(_ logits: Tensor) -> (Int, Int) {
        precondition(logits.rank == 2 && logits.shape[1] > 0, "logits must be (N, K), got \(logits.shape)")
        return (logits.shape[0], logits.shape[1])
    }

    private static func checkWeights(_ weights: [Float]?, _ n: Int) -> [Float] {
        guard let weights else { return [Float](repeating: 1, count: n) }
        precondition(weights.count == n, "\(weights.count) weights for \(n) samples")
        precondition(weights.allSatisfy { $0 >= 0 && $0.isFinite }, "sample weights must be finite and >= 0")
        return weights
    }
}
