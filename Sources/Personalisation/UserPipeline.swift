import Datasets
import Foundation
import Models
import Tensor
import Training

/// Everything one simulated user goes through, in the order of the paper's system figure:
/// the global model is scored on the user's test set, the exits are personalised on the
/// user's training samples (training engine), profiled on the user's validation share
/// (profiler), selected and given thresholds (orchestrator), and the resulting policy runs
/// on the user's test set (inference engine) beside the full network. Optionally the
/// whole-network fine-tuning baseline runs on the same data for comparison.
public struct UserPipelineOptions: Sendable {
    public var personalisation: PersonalisationConfig
    public var profiler: ProfilerOptions
    public var orchestrator: OrchestratorOptions
    /// How test-set inference runs: `.batchOne` measures per-sample latency.
    public var inference: InferenceMode
    /// "Equal accuracy" for the latency comparison: the policy's test accuracy within this
    /// many points of the full network's.
    public var accuracyTolerance: Double
    /// Also fine-tune the whole network on the same data (the paper's baseline).
    public var baseline: Bool
    /// The baseline's configuration (nil: `personalisation`'s). Whole-network fine-tuning
    /// usually wants a lower learning rate than the heads.
    public var baselineConfiguration: PersonalisationConfig?

    public init(personalisation: PersonalisationConfig = PersonalisationConfig(),
                profiler: ProfilerOptions = ProfilerOptions(),
                orchestrator: OrchestratorOptions = OrchestratorOptions(),
                inference: InferenceMode = .default, accuracyTolerance: Double = 0.01, baseline: Bool = true,
                baselineConfiguration: PersonalisationConfig? = nil) {
        self.personalisation = personalisation; self.profiler = profiler; self.orchestrator = orchestrator
        self.inference = inference; self.accuracyTolerance = accuracyTolerance; self.baseline = baseline
        self.baselineConfiguration = baselineConfiguration
    }
}

/// The outcome for one user. Accuracies are fractions in [0, 1] on the user's test set.
public struct UserPipelineResult: Sendable {
    public var user: Int
    public var classes: [Int]
    public var trainSamples: Int
    public var labelledSamples: Int
    public var validationSamples: Int
    public var testSamples: Int
    /// Exit names in network order (`block2`, ...); the final classifier comes after them.
    public var exitNames: [String]
    /// Cumulative forward FLOPs per sample of each exit, then of the final classifier.
    public var classifierFLOPs: [Int]
    /// The global model's offline exits, then its final classifier.
    public var globalAccuracy: [Double]
    /// The personalised exits, then the (unchanged) final classifier.
    public var personalisedAccuracy: [Double]
    /// How the profiler estimated accuracy on the validation share.
    public var profileBasis: AccuracyBasis
    /// The profiler's validation accuracy per exit, then the final classifier.
    public var profiledAccuracy: [Double]
    /// Measured batch-1 latency (median, seconds) per exit, then the final classifier.
    public var profiledLatency: [Double?]
    public var selected: [Bool]
    public var thresholds: [Float?]
    /// The early-exit policy on the test set, and the full network on the same samples.
    public var policy: InferenceSummary
    public var fullNetwork: InferenceSummary
    public var speedUp: InferenceSpeedUp
    public var exitCost: CostReport
    /// Whole-network fine-tuning: its final classifier's test accuracy and its cost.
    public var baselineAccuracy: Double?
    public var baselineCost: CostReport?
}

public enum UserPipeline {
    /// Runs one user. `train` and `test` are the dataset splits the user's indices point into
    /// (images in [0, 1]; the model's own normalisation is applied inside).
    public static func run(model: MultiExitModel, user: SimulatedUser, train: DatasetSplit, test: DatasetSplit,
                           options: UserPipelineOptions) throws -> UserPipelineResult {
        let trainData = try UserSamples(trainOf: user, in: train)
        let testData = try UserSamples(testOf: user, in: test)

        let global = PersonalisationBenchmark.accuracies(of: model.forward, on: testData,
                                                         normalization: model.normalization)
        var config = options.personalisation
        config.seed = config.seed &+ UInt64(user.index)
        let personalised = try ExitPersonaliser(configuration: config).personalise(model, on: trainData)
        let p = personalised.model
        let after = PersonalisationBenchmark.accuracies(of: p.forward, on: testData, normalization: p.normalization)

        let validation = try UserSamples(validationOf: user, in: train)
        let profile = try Profiler.profile(p, validation: validation, options: options.profiler)
        let plan = try Orchestrator.plan(profile: profile, network: p, options: options.orchestrator)
        let comparison = try InferenceEngine.compareWithFullNetwork(p, policy: plan.policy, samples: testData,
                                                                    mode: options.inference,
                                                                    accuracyTolerance: options.accuracyTolerance)

        var baselineAccuracy: Double?, baselineCost: CostReport?
        if options.baseline {
            var baselineConfig = options.baselineConfiguration ?? options.personalisation
            baselineConfig.seed = baselineConfig.seed &+ UInt64(user.index)
            let tuned = try WholeNetworkFineTuner(configuration: baselineConfig).fineTune(model, on: trainData)
            baselineAccuracy = PersonalisationBenchmark.accuracies(of: tuned.model.forward, on: testData,
                                                                   normalization: tuned.model.normalization).final
            baselineCost = tuned.report
        }

        return UserPipelineResult(
            user: user.index, classes: user.classes, trainSamples: user.train.count,
            labelledSamples: user.trainLabelled.filter { $0 }.count, validationSamples: user.validation.count,
            testSamples: user.test.count, exitNames: p.exits.map(\.point.name),
            classifierFLOPs: p.exits.map { p.cumulativeFLOPs(of: $0) } + [p.backbone.forwardFLOPs],
            globalAccuracy: global.exits + [global.final], personalisedAccuracy: after.exits + [after.final],
            profileBasis: profile.basis, profiledAccuracy: profile.classifiers.map(\.accuracy),
            profiledLatency: profile.classifiers.map { $0.latency?.median },
            selected: plan.selected, thresholds: plan.thresholds,
            policy: comparison.policy.summary, fullNetwork: comparison.full.summary, speedUp: comparison.speedUp,
            exitCost: personalised.report, baselineAccuracy: baselineAccuracy, baselineCost: baselineCost)
    }
}
