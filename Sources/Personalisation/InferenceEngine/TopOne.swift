import NN
import Tensor

/// Top-1 class and its softmax probability for each row of (N, K) logits. The arg max takes
/// the first of equal scores, so ties resolve the same way on every run.
func topOne(_ logits: Tensor) -> (classes: [Int], confidences: [Float]) {
    let n = logits.shape[0], k = logits.shape[1]
    let probabilities = Loss.softmax(logits).scalars
    var classes = [Int](repeating: 0, count: n), confidences = [Float](repeating: 0, count: n)
    for r in 0..<n {
        var best = 0
        for j in 1..<max(k, 1) where logits.scalars[r * k + j] > logits.scalars[r * k + best] { best = j }
        classes[r] = best
        confidences[r] = probabilities[r * k + best]
    }
    return (classes, confidences)
}

/// Median of a non-empty list (mean of the two middle values for an even count).
func medianValue(_ values: [Double]) -> Double {
    precondition(!values.isEmpty)
    let s = values.sorted(), m = s.count / 2
    return s.count % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2
}
