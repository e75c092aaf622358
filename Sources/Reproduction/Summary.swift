import Experiments
import Foundation

/// The `summary` table every experiment writes: per metric, the number of observations
/// (users x seeds, or users x seeds x rounds where stated), their mean and the half-width
/// of the 95% confidence interval of the mean, t(0.975, n-1) * s / sqrt(n) with s the
/// sample standard deviation (Student's t: the observations are few). n = 1 gives a
/// half-width of nan (no spread to estimate). Metrics keep the order they were first added.
struct Summary {
    static let schema = TableSchema("summary", columns: ["metric", "n", "mean", "ci95"])

    private var order: [String] = []
    private var values: [String: [Double]] = [:]

    mutating func add(_ metric: String, _ value: Double) {
        if values[metric] == nil { order.append(metric) }
        values[metric, default: []].append(value)
    }

    func rows() -> [[Cell]] {
        order.map { metric in
            let (mean, half) = meanAndHalfWidth(values[metric]!)
            return [.string(metric), .int(values[metric]!.count), .double(mean), .double(half)]
        }
    }
}

/// Mean and 95% CI half-width (Student's t) of `x`; the half-width is nan for one value.
public func meanAndHalfWidth(_ x: [Double]) -> (mean: Double, half: Double) {
    let n = x.count
    guard n > 0 else { return (.nan, .nan) }
    let mean = x.reduce(0, +) / Double(n)
    guard n > 1 else { return (mean, .nan) }
    let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
    return (mean, studentTQuantile975(degreesOfFreedom: n - 1) * (variance / Double(n)).squareRoot())
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom: bisection on the CDF,
/// which is 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2 for t >= 0 (I: regularised incomplete beta).
public func studentTQuantile975(degreesOfFreedom df: Int) -> Double {
    precondition(df >= 1)
    let v = Double(df)
    func cdf(_ t: Double) -> Double { 1 - 0.5 * regularisedIncompleteBeta(x: v / (v + t * t), a: v / 2, b: 0.5) }
    var lo = 0.0, hi = 20.0
    while cdf(hi) < 0.975 { hi *= 2 }
    for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if cdf(mid) < 0.975 { lo = mid } else { hi = mid }
    }
    return (lo + hi) / 2
}

/// I_x(a, b) by the continued fraction of Numerical Recipes (betacf), using the symmetry
/// I_x(a, b) = 1 - I_{1-x}(b, a) where the fraction converges slowly.
func regularisedIncompleteBeta(x: Double, a: Double, b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let logGamma: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
    let logPowers: Double = a * log(x) + b * log(1 - x)
    let front = exp(logGamma + logPowers)
    if x < (a + 1) / (a + b + 2) { return front * betaContinuedFraction(x: x, a: a, b: b) / a }
    return 1 - front * betaContinuedFraction(x: 1 - x, a: b, b: a) / b
}

private func betaContinuedFraction(x: Double, a: Double, b: Double) -> Double {
    let tiny = 1e-300
    var c = 1.0, d = 1 - (a + b) * x / (a + 1)
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var h = d
    for m in 1...300 {
        let m = Double(m), m2 = 2 * m
        var aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2))
        d = 1 + aa * d; if abs(d) < tiny { d = tiny }
        c = 1 + aa / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        h *= d * c
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1))
        d = 1 + aa * d; if abs(d) < tiny { d = tiny }
        c = 1 + aa / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        let delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15 { break }
    }
    return h
}
