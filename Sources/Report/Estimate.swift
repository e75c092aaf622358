import Foundation
import Reproduction

/// A mean over users x seeds with the half-width of its 95% confidence interval
/// (Student's t with n - 1 degrees of freedom, as in every `summary` table) and the
/// extremes of the observations. `half` is nan for n < 2: nothing can be decided then.
public struct Estimate: Equatable, Sendable {
    public var n: Int
    public var mean: Double
    public var half: Double
    public var minimum: Double
    public var maximum: Double

    public init(_ values: [Double]) {
        let (mean, half) = meanAndHalfWidth(values)
        n = values.count
        self.mean = mean
        self.half = half
        minimum = values.min() ?? .nan
        maximum = values.max() ?? .nan
    }

    /// Whether the interval exists (n >= 2).
    public var decided: Bool { !half.isNaN }
    public var lower: Double { mean - half }
    public var upper: Double { mean + half }

    /// `12.34 ± 1.23 pts (n=60)`, or `12.34 pts (n=1, no CI)`; values as given, `digits` decimals.
    public func text(_ digits: Int = 2, unit: String = "", signed: Bool = false) -> String {
        let m = format(mean, digits, signed: signed)
        guard n > 0 else { return "no data" }
        return decided ? "\(m) ± \(format(half, digits))\(unit) (n=\(n))" : "\(m)\(unit) (n=\(n), no CI)"
    }
}

/// The estimate of `values`, nil when there are none (a phase that was not timed).
func nonEmpty(_ values: [Double]) -> Estimate? { values.isEmpty ? nil : Estimate(values) }

/// Least-squares slope of y on x (nil with fewer than two distinct x).
func leastSquaresSlope(x: [Double], y: [Double]) -> Double? {
    precondition(x.count == y.count)
    guard x.count >= 2 else { return nil }
    let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
    let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
    guard sxx > 0 else { return nil }
    let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
    return sxy / sxx
}

/// Fixed decimals, `nan` for a missing value; a leading `+` when `signed` and positive;
/// never `-0.00`.
func format(_ x: Double, _ digits: Int, signed: Bool = false) -> String {
    if x.isNaN { return "nan" }
    if x.isInfinite { return x > 0 ? "inf" : "-inf" }
    var text = String(format: "%.\(digits)f", x)
    if text.hasPrefix("-") && Double(text) == 0 { text.removeFirst() }
    return signed && Double(text)! > 0 ? "+" + text : text
}
