import Foundation
import Tensor
import Testing
@testable import Datasets

@Suite struct UserSplitSamplingTests {
    /// Gamma(a, 1) has mean a and variance a; with 20,000 draws the sample mean must be
    /// within 5 standard errors, sqrt(a / n), and the sample variance within 5 of its
    /// standard errors, sqrt((mu4 - a^2) / n) with the fourth central moment mu4 = 3a^2 + 6a.
    @Test(arguments: [0.05, 0.3, 1.0, 2.5, 10.0])
    func gammaHasMeanAndVarianceOfItsShape(shape: Double) {
        var rng = SeededGenerator(seed: 11)
        let n = 20_000
        let draws = (0..<n).map { _ in UserSplitSampling.gamma(shape: shape, &rng) }
        let mean = draws.reduce(0, +) / Double(n)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
        #expect(abs(mean - shape) < 5 * (shape / Double(n)).squareRoot(), "mean \(mean) for shape \(shape)")
        let varianceError = ((2 * shape * shape + 6 * shape) / Double(n)).squareRoot()
        #expect(abs(variance - shape) < 5 * varianceError, "variance \(variance) for shape \(shape)")
        #expect(draws.allSatisfy { $0 >= 0 && $0.isFinite })
    }

    @Test func logGammaStaysFiniteForTinyShapes() {
        var rng = SeededGenerator(seed: 3)
        for _ in 0..<1000 {
            let x = UserSplitSampling.logGamma(shape: 0.001, &rng)
            #expect(x.isFinite)
        }
    }

    /// Every component of Dirichlet(alpha, ..., alpha) over K has mean 1/K.
    @Test(arguments: [0.1, 1.0, 10.0])
    func dirichletComponentsAverageToUniform(alpha: Double) {
        var rng = SeededGenerator(seed: 5)
        let k = 5, n = 4000
        var sums = [Double](repeating: 0, count: k)
        for _ in 0..<n {
            let p = UserSplitSampling.dirichlet(alpha: alpha, count: k, &rng)
            #expect(abs(p.reduce(0, +) - 1) < 1e-12)
            #expect(p.allSatisfy { $0 >= 0 })
            for j in 0..<k { sums[j] += p[j] }
        }
        // Var(p_j) = (1/K)(1 - 1/K) / (K alpha + 1); 5 standard errors of the mean.
        let sd = ((1.0 / Double(k)) * (1 - 1.0 / Double(k)) / (Double(k) * alpha + 1)).squareRoot()
        for j in 0..<k {
            #expect(abs(sums[j] / Double(n) - 1.0 / Double(k)) < 5 * sd / Double(n).squareRoot(),
                    "component \(j) mean \(sums[j] / Double(n)) for alpha \(alpha)")
        }
    }

    @Test func largeAlphaIsNearUniformSmallAlphaIsConcentrated() {
        var rng = SeededGenerator(seed: 9)
        let k = 10
        for _ in 0..<100 {
            let p = UserSplitSampling.dirichlet(alpha: 10_000, count: k, &rng)
            #expect(p.allSatisfy { abs($0 - 0.1) < 0.01 })
        }
        var largest = 0.0
        for _ in 0..<200 { largest += UserSplitSampling.dirichlet(alpha: 0.05, count: k, &rng).max()! }
        // With alpha = 0.05 one class takes most of the mass on average (the expected
        // largest share is above 0.7); uniform proportions would give 0.1.
        #expect(largest / 200 > 0.7)
    }

    @Test func takeDrawsDistinctElementsAndRemovesThem() {
        var rng = SeededGenerator(seed: 1)
        var pool = Array(100..<150)
        let drawn = UserSplitSampling.take(20, from: &pool, &rng)
        #expect(drawn.count == 20 && Set(drawn).count == 20)
        #expect(pool.count == 30)
        #expect(Set(pool).isDisjoint(with: drawn))
        #expect(Set(pool).union(drawn) == Set(100..<150))
    }

    @Test func apportionIsExactAndBreaksTiesToTheLowerIndex() {
        #expect(UserSplitSampling.apportion(10, weights: [1, 1, 1]) == [4, 3, 3])
        #expect(UserSplitSampling.apportion(7, weights: [2, 0, 5]) == [2, 0, 5])
        #expect(UserSplitSampling.apportion(200, weights: [167, 167, 166]) == [67, 67, 66])
        #expect(UserSplitSampling.apportion(0, weights: [3, 4]) == [0, 0])
        // Quotas 0.5, 1.5, 3: remainders tie, the lower index gets the unit.
        #expect(UserSplitSampling.apportion(5, weights: [1, 3, 6]) == [1, 1, 3])
        let parts = UserSplitSampling.apportion(997, weights: [13, 101, 7, 0, 55])
        #expect(parts.reduce(0, +) == 997 && parts[3] == 0)
        for (part, w) in zip(parts, [13, 101, 7, 0, 55]) {
            #expect(abs(Double(part) - 997 * Double(w) / 176) < 1)
        }
    }

    @Test func apportionRespectsCaps() {
        // The tie would give the unit to index 0, whose cap is 0: it goes to index 1.
        #expect(UserSplitSampling.apportion(1, weights: [1, 1], caps: [0, 1]) == [0, 1])
        #expect(UserSplitSampling.apportion(10, weights: [5, 5], caps: [2, 100]) == [2, 8])
        // Caps summing to less than the total: every part at its cap.
        #expect(UserSplitSampling.apportion(10, weights: [1, 1], caps: [3, 4]) == [3, 4])
    }
}
