// Row-wise log-softmax for (N, K) logits, the numerically stable way: subtract the row
// maximum before exponentiating and take log(sum exp) in Double.
import Foundation

/// log softmax(z / T) per row of a (rows, columns) row-major matrix.
public func logSoftmaxRows(_ logits: [Float], rows: Int, columns: Int, temperature: Float = 1) -> [Float] {
    precondition(logits.count == rows * columns && columns > 0 && temperature > 0)
    var out = [Float](repeating: 0, count: logits.count)
    let invT = Double(1 / temperature)
    for r in 0..<rows {
        let base = r * columns
        var mx = -Double.infinity
        for k in 0..<columns { mx = max(mx, Double(logits[base + k]) * invT) }
        var sum = 0.0
        for k in 0..<columns { sum += exp(Double(logits[base + k]) * invT - mx) }
        let logSum = mx + log(sum)
        for k in 0..<columns { out[base + k] = Float(Double(logits[base + k]) * invT - logSum) }
    }
    return out
}
