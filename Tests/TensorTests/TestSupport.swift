import Testing
@testable import Tensor

/// A tensor of standard-normal draws.
func randomTensor(_ shape: [Int], _ rng: inout SeededGenerator) -> Tensor {
    Tensor(shape: shape, scalars: (0..<Tensor.count(of: shape)).map { _ in rng.nextNormal() })
}

/// Elementwise |got - expected| <= atol + rtol * |expected|, reporting the first few misses.
func expectClose(_ got: Tensor, _ expected: Tensor, rtol: Float = 1e-4, atol: Float = 1e-4,
                 _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(got.shape == expected.shape, "\(what): shape", sourceLocation: sourceLocation)
    guard got.shape == expected.shape else { return }
    var misses = 0
    for i in 0..<got.count {
        let e = expected.scalars[i], d = abs(got.scalars[i] - e)
        if !(d <= atol + rtol * abs(e)) {
            misses += 1
            if misses <= 3 {
                Issue.record("\(what): element \(i) is \(got.scalars[i]), expected \(e)",
                             sourceLocation: sourceLocation)
            }
        }
    }
    #expect(misses == 0, "\(what): \(misses) of \(got.count) elements off", sourceLocation: sourceLocation)
}

/// Bit-for-bit equality, NaN-safe.
func bitPattern(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }
