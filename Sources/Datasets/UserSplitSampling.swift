import Foundation
import Tensor

/// The random and rounding primitives behind `UserSplit`: Gamma and Dirichlet draws,
/// drawing without replacement, and largest-remainder apportionment. All draws come from
/// an explicit `SeededGenerator` and are computed in Double, so a seed fixes them.
enum UserSplitSampling {
    /// Uniform in (0, 1] with 53 random bits; never 0, so its logarithm is finite.
    static func uniformOpen(_ rng: inout SeededGenerator) -> Double {
        Double((rng.next() >> 11) + 1) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal by Box-Muller in Double (SeededGenerator's own is Float).
    static func normal(_ rng: inout SeededGenerator) -> Double {
        let u1 = uniformOpen(&rng)
        let u2 = Double(rng.next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        return (-2.0 * log(u1)).squareRoot() * cos(2.0 * Double.pi * u2)
    }

    /// log X for X ~ Gamma(shape, 1), by Marsaglia & Tsang (2000), "A simple method for
    /// generating gamma variables", ACM TOMS 26(3).
    ///
    /// For shape >= 1: d = shape - 1/3, c = 1/sqrt(9d); draw x ~ N(0,1), v = (1 + c x)^3,
    /// accept d v when v > 0 and u < 1 - 0.0331 x^4 (the squeeze) or
    /// log u < x^2/2 + d (1 - v + log v). For shape < 1 the paper's boost:
    /// Gamma(a) = Gamma(a + 1) * U^(1/a). The result is returned as a logarithm because
    /// U^(1/a) underflows to 0 for small a (alpha = 0.01 gives exponents near -1e4),
    /// and a Dirichlet draw only needs ratios, which stay exact in log space.
    static func logGamma(shape: Double, _ rng: inout SeededGenerator) -> Double {
        precondition(shape > 0 && shape.isFinite, "Gamma shape must be positive and finite")
        if shape < 1 {
            return logGamma(shape: shape + 1, &rng) + log(uniformOpen(&rng)) / shape
        }
        let d = shape - 1.0 / 3.0
        let c = 1.0 / (9.0 * d).squareRoot()
        while true {
            let x = normal(&rng)
            let t = 1.0 + c * x
            guard t > 0 else { continue }
            let v = t * t * t
            let u = uniformOpen(&rng)
            let x2 = x * x
            if u < 1.0 - 0.0331 * x2 * x2 || log(u) < 0.5 * x2 + d * (1.0 - v + log(v)) {
                return log(d) + log(v)
            }
        }
    }

    /// X ~ Gamma(shape, 1) (may underflow to 0 for tiny shapes; see `logGamma`).
    static func gamma(shape: Double, _ rng: inout SeededGenerator) -> Double {
        exp(logGamma(shape: shape, &rng))
    }

    /// p ~ Dirichlet(alpha, ..., alpha) over `count` categories: independent Gamma(alpha)
    /// draws normalised to sum 1, normalised in log space (subtracting the largest) so that
    /// the largest component is always positive, however small alpha is.
    static func dirichlet(alpha: Double, count: Int, _ rng: inout SeededGenerator) -> [Double] {
        precondition(count > 0)
        let logs = (0..<count).map { _ in logGamma(shape: alpha, &rng) }
        let top = logs.max()!
        let scaled = logs.map { exp($0 - top) }
        let sum = scaled.reduce(0, +)
        return scaled.map { $0 / sum }
    }

    /// Draws `count` elements of `pool` uniformly without replacement and removes them from
    /// it (partial Fisher-Yates into the tail). The returned elements are in draw order;
    /// the pool's remaining order is changed deterministically.
    static func take(_ count: Int, from pool: inout [Int], _ rng: inout SeededGenerator) -> [Int] {
        precondition(count >= 0 && count <= pool.count)
        var drawn = [Int]()
        drawn.reserveCapacity(count)
        for i in 0..<count {
            let last = pool.count - 1 - i
            pool.swapAt(rng.nextInt(below: last + 1), last)
            drawn.append(pool[last])
        }
        pool.removeLast(count)
        return drawn
    }

    /// Splits `total` into integer parts proportional to `weights` (non-negative, not all
    /// zero) by the largest-remainder (Hamilton) method, in exact integer arithmetic: part k
    /// gets floor(total w_k / W), and the units left go one each to the largest remainders,
    /// ties to the lower index. With `caps`, a part never exceeds its cap: capped parts are
    /// fixed and the rest re-apportioned among the others; if the caps sum to less than
    /// `total`, every part ends at its cap (the caller checks the sum).
    static func apportion(_ total: Int, weights: [Int], caps: [Int]? = nil) -> [Int] {
        precondition(total >= 0 && weights.allSatisfy { $0 >= 0 })
        var parts = [Int](repeating: 0, count: weights.count)
        var open = weights.indices.filter { weights[$0] > 0 }
        var left = total
        while left > 0 && !open.isEmpty {
            let sum = open.reduce(0) { $0 + weights[$1] }
            var share = [Int: Int]()
            var remainders = [(index: Int, remainder: Int)]()
            var given = 0
            for k in open {
                let (high, low) = left.multipliedFullWidth(by: weights[k])
                let (q, r) = sum.dividingFullWidth((high, low))
                share[k] = q
                given += q
                remainders.append((k, r))
            }
            remainders.sort { $0.remainder != $1.remainder ? $0.remainder > $1.remainder : $0.index < $1.index }
            for j in 0..<(left - given) { share[remainders[j].index]! += 1 }
            guard let caps else {
                for k in open { parts[k] = share[k]! }
                return parts
            }
            let over = open.filter { parts[$0] + share[$0]! > caps[$0] }
            if over.isEmpty {
                for k in open { parts[k] += share[k]! }
                return parts
            }
            // Fix the parts that would pass their caps and share what remains among the rest.
            for k in over {
                left -= caps[k] - parts[k]
                parts[k] = caps[k]
            }
            open.removeAll { over.contains($0) }
        }
        return parts
    }

    /// `weights` scaled to integers (2^32 for the whole), so Double proportions can be
    /// apportioned with the exact integer method.
    static func integerWeights(_ proportions: [Double]) -> [Int] {
        proportions.map { Int(($0 * 4_294_967_296.0).rounded()) }
    }

    /// Round half away from zero, the one rounding rule of user splits.
    static func round(_ x: Double) -> Int { Int(x.rounded(.toNearestOrAwayFromZero)) }
}
