import Models
@testable import Personalisation
import Tensor
import Testing
import Training

@Suite("Early-exit thresholds")
struct PolicyThresholdSearchTests {
    private let network = ExitNetFixture.model()

    /// Eight validation samples worked by hand (target class i % 3). The final classifier is
    /// right on samples 0-6 and wrong on 7 (7/8). Exit 0 is wrong on samples 3 and 6, with
    /// confidences 0.9, 0.8, ..., 0.2. Exit 1 is right on 3 and 4, wrong elsewhere. Exit 2 is
    /// perfect and sure of itself, but the selection leaves it out.
    private var handScores: ValidationScores {
        let targets = (0..<8).map { $0 % 3 }
        func predictions(wrongOn wrong: Set<Int>) -> [Int] { targets.enumerated().map { wrong.contains($0.offset) ? ($0.element + 1) % 3 : $0.element } }
        return ValidationScores(
            predictions: [predictions(wrongOn: [3, 6]), predictions(wrongOn: [0, 1, 2, 5, 6, 7]),
                          targets, predictions(wrongOn: [7])],
            confidences: [[0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2],
                          [0.5, 0.5, 0.5, 0.95, 0.9, 0.85, 0.1, 0.99],
                          [Float](repeating: 1, count: 8),
                          [Float](repeating: 0.6, count: 8)],
            targets: targets)
    }

    @Test("greedy sweep from the earliest exit picks the lowest admissible threshold per exit (worked example)")
    func handWorkedThresholds() throws {
        let result = try ThresholdSearch.search(scores: handScores, network: network, selected: [true, true, false],
                                                target: .withinFinal(tolerance: 0))
        // Exit 0: thresholds 0.2...0.6 give 6, 5, 6, 6, 6 correct; 0.7 gives 3 + 4 = 7 (the final's 7).
        // Exit 1, on samples 3-7: 0.1 gives 3 + 2, 0.85 gives 3 + 3, 0.9 gives 3 + 2 + 2 = 7.
        #expect(result.thresholds == [0.7, 0.9, nil])
        #expect(result.outcome.taken == [0, 0, 0, 1, 1, 3, 3, 1])
        #expect(result.outcome.correct == 7 && result.outcome.scored == 8)
        #expect(result.required == 7.0 / 8 && result.met)
        // One sample of slack: sending everything out at exit 0 (6 of 8) is now allowed.
        let loose = try ThresholdSearch.search(scores: handScores, network: network, selected: [true, true, false],
                                               target: .withinFinal(tolerance: 0.125))
        #expect(loose.thresholds == [0.2, nil, nil])
        #expect(loose.outcome.taken == [Int](repeating: 0, count: 8))
    }

    @Test("an unreachable absolute target drops every exit and says it was not met")
    func unreachableTarget() throws {
        let result = try ThresholdSearch.search(scores: handScores, network: network, selected: [true, true, false],
                                                target: .absolute(1))
        #expect(result.thresholds == [nil, nil, nil])
        #expect(!result.met && result.outcome.accuracy == 7.0 / 8)
        #expect(throws: OrchestratorError.self) {
            try ThresholdSearch.search(scores: handScores, network: network, selected: [true, true, false], target: .absolute(1.5))
        }
        #expect(throws: OrchestratorError.self) {
            try ThresholdSearch.search(scores: handScores, network: network, selected: [true], target: .default)
        }
    }

    /// Random scores: `n` samples, 3 exits and final, targets nil on every fifth sample.
    private func randomScores(seed: UInt64, n: Int = 60) -> ValidationScores {
        var g = SeededGenerator(seed: seed)
        let targets: [Int?] = (0..<n).map { $0 % 5 == 4 ? nil : g.nextInt(below: 3) }
        var predictions: [[Int]] = [], confidences: [[Float]] = []
        for accuracy in [0.6, 0.75, 0.85, 0.9] as [Float] {
            predictions.append(targets.map { t in
                let right = g.nextUniform() < accuracy
                return right ? (t ?? 0) : ((t ?? 0) + 1 + g.nextInt(below: 2)) % 3
            })
            // Coarse confidences so ties happen.
            confidences.append((0..<n).map { _ in Float(3 + g.nextInt(below: 8)) / 10 })
        }
        return ValidationScores(predictions: predictions, confidences: confidences, targets: targets)
    }

    @Test("on random validation outputs the policy meets its target, the search is deterministic, and each threshold is the lowest admissible")
    func meetsTargetAndIsDeterministic() throws {
        for seed in UInt64(1)...6 {
            let scores = randomScores(seed: seed)
            let finalAccuracy = Double(scores.correct(classifier: 3)) / Double(scores.scoredCount)
            for tolerance in [0.0, 0.02, 0.1] {
                let selected = [true, seed % 2 == 0, true]
                let a = try ThresholdSearch.search(scores: scores, network: network, selected: selected, target: .withinFinal(tolerance: tolerance))
                let b = try ThresholdSearch.search(scores: scores, network: network, selected: selected, target: .withinFinal(tolerance: tolerance))
                #expect(a == b)
                #expect(a.met && a.outcome.accuracy >= finalAccuracy - tolerance - 1e-9)
                // Independent replay of the chosen policy.
                let replay = ExitPolicy.earlyExit(thresholds: a.thresholds).outcome(on: scores, network: network)
                #expect(replay == a.outcome)
                for e in 0..<3 where !selected[e] { #expect(a.thresholds[e] == nil) }
                // Lowest admissible at the first exit: any lower candidate (others off) misses.
                if let t0 = a.thresholds[0] {
                    for c in Set(scores.confidences[0]) where c < t0 {
                        let lower = ExitPolicy.earlyExit(thresholds: [c, nil, nil]).outcome(on: scores, network: network)
                        #expect(lower.accuracy < finalAccuracy - tolerance - 1e-9)
                    }
                }
            }
        }
    }

    @Test("replaying a policy on stored outputs: histogram and mean FLOPs follow the exits taken")
    func outcomeReplay() throws {
        let policy = ExitPolicy.earlyExit(thresholds: [0.65, nil, 0.95])
        let outcome = policy.outcome(on: handScores, network: network)
        // Exit 0 takes 0-2 (0.9, 0.8, 0.7); exit 2 (confidence 1) takes the rest.
        #expect(outcome.taken == [0, 0, 0, 2, 2, 2, 2, 2])
        #expect(outcome.histogram(classifiers: 4) == [3, 0, 5, 0])
        let f0 = network.cumulativeFLOPs(ofExit: 0)
        let f2 = network.cumulativeFLOPs(ofExit: 2) + network.exits[0].headFLOPs
        #expect(outcome.meanFLOPs == Double(3 * f0 + 5 * f2) / 8)
        #expect(ExitPolicy.fixedExit(1).outcome(on: handScores, network: network).taken == [Int](repeating: 1, count: 8))
        // A head that does not run lets nobody out, whatever its confidence.
        #expect(!ExitPolicy.earlyExit(thresholds: [nil, 0.5, nil]).leaves(atHead: 0, confidence: 1))
        #expect(!ExitPolicy.fixedExit(1).leaves(atHead: 0, confidence: 1) && ExitPolicy.fixedExit(1).leaves(atHead: 1, confidence: 0))
        #expect(!ExitPolicy.fullNetwork.runsHead(0))
        #expect(ExitPolicy.fullNetwork.outcome(on: handScores, network: network).meanFLOPs == Double(network.fullNetworkFLOPs))
        #expect(ExitPolicy.earlyExit(thresholds: [0, 0, 0]).outcome(on: handScores, network: network).taken.allSatisfy { $0 == 0 })
        #expect(ExitPolicy.earlyExit(thresholds: [2, 2, 2]).outcome(on: handScores, network: network).meanFLOPs
                == Double(network.fullNetworkFLOPs + network.exits.reduce(0) { $0 + $1.headFLOPs }))
    }
}
