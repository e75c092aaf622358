import Models
@testable import Personalisation
import Testing
import Training

@Suite("Classifier selection and plans")
struct OrchestratorSelectionTests {
    private let network = ExitNetFixture.model()

    /// A profile with the given exit and final accuracies (out of 200, so 0.005 steps),
    /// and stored outputs from the threshold tests' shape (not used by selection).
    /// Exit e costs 10 (e + 1) FLOPs unless `exitFLOPs` says otherwise; the final classifier 100.
    private func profile(exits: [Int], final: Int, exitFLOPs: [Int]? = nil, scores: ValidationScores? = nil) -> UserProfile {
        let p = { (name: String, exit: Int?, correct: Int) in
            ClassifierProfile(name: name, exit: exit, correct: correct, scored: 200,
                              flops: exit.map { exitFLOPs?[$0] ?? 10 * ($0 + 1) } ?? 100, latency: nil)
        }
        let placeholder = ValidationScores(predictions: [[0], [0], [0], [0]], confidences: [[1], [1], [1], [1]], targets: [0])
        return UserProfile(basis: .labels(count: 200),
                           exits: exits.enumerated().map { p("block\($0.offset + 1)", $0.offset, $0.element) },
                           final: p("final", nil, final), scores: scores ?? placeholder)
    }

    @Test("within tolerance of the final classifier, or above an absolute target")
    func selectionRules() throws {
        // 0.80, 0.875, 0.895, final 0.90.
        let prof = profile(exits: [160, 175, 179], final: 180)
        #expect(try SelectionRule().select(prof) == [false, false, true])           // within 1 point
        #expect(try SelectionRule(tolerance: 0.025).select(prof) == [false, true, true]) // exactly at the bar counts
        #expect(try SelectionRule(tolerance: 0).select(prof) == [false, false, false])
        #expect(try SelectionRule(tolerance: nil, target: 0.8).select(prof) == [true, true, true])
        #expect(try SelectionRule(tolerance: 0.01, target: 0.85).select(prof) == [false, true, true])
        #expect(try SelectionRule.all.select(prof) == [true, true, true])
        // An exit better than the final classifier is always within tolerance.
        #expect(try SelectionRule(tolerance: 0).select(profile(exits: [190, 0, 0], final: 180)) == [true, false, false])
        #expect(throws: OrchestratorError.self) { try SelectionRule(tolerance: nil, target: nil).select(prof) }
        #expect(throws: OrchestratorError.self) { try SelectionRule(tolerance: 2).select(prof) }
        #expect(throws: OrchestratorError.self) { try SelectionRule(tolerance: -0.1).select(prof) }
    }

    @Test("an exit costing at least the full network is never enabled, however accurate")
    func costlyExitsAreNeverSelected() throws {
        let prof = profile(exits: [190, 190, 190], final: 180, exitFLOPs: [50, 100, 119])
        #expect(try SelectionRule().select(prof) == [true, false, false])
        #expect(try SelectionRule.all.select(prof) == [true, false, false])
        #expect(try SelectionRule(tolerance: nil, target: 0).select(prof) == [true, false, false])
    }

    @Test("plans: searched, explicit, uniform and fixed-exit thresholds apply to the selected exits")
    func plans() throws {
        let model = ExitNetFixture.model()
        let samples = try ExitNetFixture.samples(count: 24)
        let profile = try Profiler.profile(model, validation: samples, options: ProfilerOptions(latency: nil))
        let all = SelectionRule.all
        // The fixture's third head sits on ResNet-8's last block and costs more than the
        // full network: never enabled.
        let early = profile.exits.map { $0.flops < profile.final.flops }
        #expect(early == [true, true, false])
        let searched = try Orchestrator.plan(profile: profile, network: model, options: OrchestratorOptions(selection: all))
        #expect(searched.selected == early)
        #expect(searched.targetMet == true && searched.validation.accuracy >= profile.final.accuracy - 0.01 - 1e-9)
        let explicit = try Orchestrator.plan(profile: profile, network: model,
                                             options: OrchestratorOptions(selection: SelectionRule(tolerance: nil, target: 0),
                                                                          thresholds: .explicit([0.2, 0.5, 0.7])))
        #expect(explicit.policy == .earlyExit(thresholds: [0.2, 0.5, nil]) && explicit.required == nil)
        let impossible = SelectionRule(tolerance: nil, target: 1)
        let none = try Orchestrator.plan(profile: profile, network: model,
                                         options: OrchestratorOptions(selection: impossible, thresholds: .uniform(0.5)))
        let expectedSelected = profile.exits.map { $0.accuracy >= 1 - 1e-9 && $0.flops < profile.final.flops }
        #expect(none.selected == expectedSelected)
        #expect(none.thresholds == expectedSelected.map { $0 ? 0.5 : nil })
        let fixed = try Orchestrator.plan(profile: profile, network: model, options: OrchestratorOptions(thresholds: .fixedExit(2)))
        #expect(fixed.policy == .fixedExit(2) && fixed.thresholds == [nil, nil, 0])
        #expect(fixed.validation.meanFLOPs == Double(model.cumulativeFLOPs(of: model.exits[2])))
        #expect(throws: OrchestratorError.self) {
            try Orchestrator.plan(profile: profile, network: model, options: OrchestratorOptions(thresholds: .explicit([0.5])))
        }
        #expect(throws: OrchestratorError.self) {
            try Orchestrator.plan(profile: profile, network: model, options: OrchestratorOptions(thresholds: .fixedExit(5)))
        }
    }
}
