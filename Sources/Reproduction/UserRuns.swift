import Codecs
import Datasets
import Experiments
import Foundation
import NN
import Personalisation
import Training

/// The units of work of the paper's experiments: one simulated user under one method
/// (docs/runner.md, "Units"). Each unit's identity holds what its record depends on: the
/// checkpoint's and dataset's fingerprints (not their paths), the user split, the seed and
/// the user's index, and the method's canonical configuration. Experiments that need the
/// same user under the same method share the unit; its record holds everything any of
/// them reads (per-sample outputs where policies are derived from them).
enum UserRuns {
    /// Every simulated user of `data` under each seed, seeds outer: the order in which the
    /// experiments list their units and read them back in their rows.
    static func each(_ data: DataSection, seeds: [Int]) throws -> [(seed: Int, user: Int)] {
        let users = try data.userCount()
        return seeds.flatMap { seed in (0..<users).map { (seed, $0) } }
    }

    /// The units of every user of `data` under each seed: `perUser` lists one user's.
    static func units(_ data: DataSection, seeds: [Int],
                      perUser: (_ seed: Int, _ user: Int) throws -> [WorkUnit]) throws -> [WorkUnit] {
        try each(data, seeds: seeds).flatMap { try perUser($0.seed, $0.user) }
    }

    /// `exits`: the global model scored on the user's test set, the exits personalised on
    /// the user's training samples, and the personalised exits' outputs on the user's
    /// validation and test samples. Timings: `personalise`, `latency.<global|personalised>.<classifier>`.
    ///
    /// `timed` units also measure batch-1 latency (each classifier, the full network, and the
    /// personalised early-exit policy at every threshold of `policyThresholds`): seconds of
    /// wall clock per unit that only latency-accuracy reads, so they are their own units
    /// (`extra.timed`), and the untimed ones the other experiments share cost no timing.
    static func exits(_ data: DataSection, _ train: TrainSection, seed: Int, user: Int, timed: Bool = false) throws -> WorkUnit {
        var identity = UserRunIdentity(method: "exits", data: try DataIdentity(data), seed: seed, user: user,
                                       train: TrainIdentity(train, labelled: data.labelled, baseline: false))
        if timed { identity.extra = ["timed": "batch-1 latency of every classifier and policy"] }
        return WorkUnit.typed(identity: identity, label: "seed \(seed), user \(user): exits") {
            (progress: PointProgress) throws -> (record: ExitsRecord, timings: [PointResult.Timing]) in
            let work = try Workload.load(data)
            let u = try work.user(data, seed: seed, index: user)
            progress.report("personalising the exits")
            var timings: [PointResult.Timing] = []
            let trainData = PersonalisationData(split: work.train, indices: u.train, isLabelled: u.trainLabelled)
            // Units of the same user's samples (other loss mixes, labelled fractions) reuse the
            // backbone's features: same checkpoint, dataset and sample indices, same bytes.
            let fingerprints = InputFingerprints.of(data)
            let samples = FNV1a.hex(FNV1a.hash(u.train.map(String.init).joined(separator: ",").utf8))
            let key = "\(fingerprints.checkpoint)|\(fingerprints.dataset)|train:\(samples)"
            let personalised = try ExitPersonaliser(configuration: train.personalisation(labelled: data.labelled, seed: seed, user: user),
                                                    shelf: (featureShelf, key))
                .personalise(work.model, on: trainData)
            timings.append(.init(phase: "personalise", seconds: personalised.report.wallSeconds))
            let p = personalised.model
            let global = try InferenceNetwork(work.model)
            let mine = try InferenceNetwork(backbone: p.backbone, heads: p.heads, normalization: p.normalization)
            let test = try InferenceSamples(testOf: u, in: work.test)
            let validation = try InferenceSamples(validationOf: u, in: work.train)
            progress.report("scoring the exits")
            // Measured batch-1 latency of early-exit policies on the user's test samples (C3 of the
            // report): the full network, and one uniform threshold at a time over `policyThresholds`.
            if timed { try measurePolicies(global: global, personalised: mine, test: test, into: &timings) }
            let record = ExitsRecord(
                classes: u.classes, trainSamples: u.train.count, labelledSamples: u.trainLabelled.filter { $0 }.count,
                costs: ClassifierCosts(global),
                global: try ClassifierOutputs(global, on: test, latency: timed ? "latency.global" : nil, timings: &timings),
                personalised: try ClassifierOutputs(mine, on: test, latency: timed ? "latency.personalised" : nil, timings: &timings),
                validation: try ClassifierOutputs(mine, on: validation, latency: nil, timings: &timings),
                cost: personalised.report.deterministic,
                trainedParameters: p.heads.reduce(0) { $0 + trainableCount($1.head.parameters) })
            return (record, timings)
        }
    }

    /// `whole-network`: the paper's baseline, every layer fine-tuned on the same samples
    /// with `train.baseline_lr`; its final classifier's outputs on the user's test set.
    static func wholeNetwork(_ data: DataSection, _ train: TrainSection, seed: Int, user: Int) throws -> WorkUnit {
        let identity = UserRunIdentity(method: "whole-network", data: try DataIdentity(data), seed: seed, user: user,
                                       train: TrainIdentity(train, labelled: data.labelled, baseline: true))
        return WorkUnit.typed(identity: identity, label: "seed \(seed), user \(user): whole network") {
            (progress: PointProgress) throws -> (record: WholeNetworkRecord, timings: [PointResult.Timing]) in
            let work = try Workload.load(data)
            let u = try work.user(data, seed: seed, index: user)
            progress.report("fine-tuning the whole network")
            let trainData = PersonalisationData(split: work.train, indices: u.train, isLabelled: u.trainLabelled)
            let tuned = try WholeNetworkFineTuner(configuration: train.baseline(train.personalisation(labelled: data.labelled, seed: seed, user: user)))
                .fineTune(work.model, on: trainData)
            var timings = [PointResult.Timing(phase: "whole-network", seconds: tuned.report.wallSeconds)]
            let network = try InferenceNetwork(tuned.model)
            let test = try InferenceSamples(testOf: u, in: work.test)
            let outputs = try ClassifierOutputs(network, on: test, latency: nil, timings: &timings)
            let record = WholeNetworkRecord(final: outputs.finalOnly, fullNetworkFLOPs: network.fullNetworkFLOPs,
                                            cost: tuned.report.deterministic,
                                            trainedParameters: trainableCount(tuned.model.backbone.network.parameters),
                                            diverged: tuned.diverged)
            return (record, timings)
        }
    }
}

/// The feature caches the `exits` units of one process share (FeatureCacheShelf).
let featureShelf = FeatureCacheShelf()

extension UserRuns {
    /// The uniform thresholds whose personalised early-exit policy an `exits` unit times at
    /// batch 1 (latency-accuracy's default grid): its rows pass on the one at the cheapest
    /// threshold of equal accuracy, when that threshold is one of these.
    static let policyThresholds = LatencyAccuracyConfig().thresholds

    /// `latency.policy.global-full` (the full network) and
    /// `latency.policy.personalised-exits.t=<t>`: mean batch-1 seconds per test sample.
    static func measurePolicies(global: InferenceNetwork, personalised: InferenceNetwork, test: InferenceSamples,
                                into timings: inout [PointResult.Timing]) throws {
        if let full = try InferenceEngine(network: global, policy: .fullNetwork).run(test, mode: .default).summary.meanLatency {
            timings.append(.init(phase: "latency.policy.global-full", seconds: full))
        }
        for t in policyThresholds {
            let policy = ExitPolicy.earlyExit(thresholds: personalised.heads.map { _ in Float(t) })
            if let seconds = try InferenceEngine(network: personalised, policy: policy).run(test, mode: .default).summary.meanLatency {
                timings.append(.init(phase: "latency.policy.personalised-exits.t=\(Cell.double(t).text)", seconds: seconds))
            }
        }
    }
}

/// Trainable scalars among `parameters`.
func trainableCount(_ parameters: [Parameter]) -> Int {
    parameters.filter(\.isTrainable).reduce(0) { $0 + $1.value.count }
}

// MARK: Identities

/// What a user run's result depends on (with the code fingerprint the runner adds).
struct UserRunIdentity: Encodable {
    var method: String
    var data: DataIdentity
    var seed: Int
    var user: Int
    var train: TrainIdentity
    /// Method-specific settings (data growth's schedule and orchestrator), nil otherwise.
    var extra: [String: String]? = nil
}

/// The data section by content: fingerprints instead of paths, so a moved or copied file
/// keeps its units and a changed one gets new ones. The user count is not part of it: the
/// split deals users in index order and adding users at the end leaves the earlier ones
/// unchanged (UserSplit), so user u of a 5-user spec is user u of a 20-user one and a
/// smaller scale's units are a larger one's.
struct DataIdentity: Encodable {
    var checkpoint: String
    var dataset: String
    var split: String
    var samples: Int
    var test: Int
    var labelled: Double

    init(_ data: DataSection) throws {
        let fingerprints = InputFingerprints.of(data)
        checkpoint = fingerprints.checkpoint
        dataset = fingerprints.dataset
        split = data.split
        samples = data.samples
        test = data.test
        labelled = data.labelled
    }
}

/// The training settings a method's result depends on, normalised: `auto` is the mix it
/// chooses, and with every sample labelled, self-supervision has no unlabelled sample to act on, so `sup+selfsup` trains
/// exactly as `sup` does (and `sup+selfsup+distill` as `sup+distill`) and they share units.
struct TrainIdentity: Encodable {
    var epochs: Int
    var batch: Int
    var lr: Double
    var losses: String
    /// The exits' feature-cache bound (changes their cost report, not their outputs).
    var featureCacheMB: Int?

    init(_ train: TrainSection, labelled: Double, baseline: Bool) {
        featureCacheMB = baseline ? nil : train.featureCacheMB
        epochs = train.epochs
        batch = train.batch
        lr = baseline ? train.baselineLR : train.lr
        var terms = train.losses.terms(labelled: labelled)
        if labelled >= 1 && terms.sup { terms.selfsup = false }
        losses = [terms.sup ? "sup" : nil, terms.selfsup ? "selfsup" : nil, terms.distill ? "distill" : nil]
            .compactMap { $0 }.joined(separator: "+")
    }
}

/// Input fingerprints by path, computed once per process and file state (size and
/// modification time), so listing thousands of units hashes each checkpoint once.
enum InputFingerprints {
    private static let memo = ProcessMemo<[String: String]>()

    static func of(_ data: DataSection) -> (checkpoint: String, dataset: String) {
        let stamp = [data.checkpoint, data.dataset + "/dataset.json"].map(Self.stamp).joined(separator: ",")
        let fingerprints = memo.value(data.checkpoint + "\u{0}" + data.dataset + "\u{0}" + stamp) { data.inputFingerprints() }
        return (fingerprints[data.checkpoint] ?? "missing", fingerprints[data.dataset] ?? "missing")
    }

    private static func stamp(_ path: String) -> String {
        guard let a = try? FileManager.default.attributesOfItem(atPath: path) else { return "absent" }
        let size = (a[.size] as? NSNumber)?.intValue ?? -1
        let time = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(size)@\(time)"
    }
}

// MARK: Records

/// Every classifier's top-1 prediction and confidence per sample, exits then final, with
/// the samples' labels (nil where the user has none).
struct ClassifierOutputs: Codable, Equatable {
    /// `predictions[c][i]`, `confidences[c][i]`.
    var predictions: [[Int]]
    var confidences: [[Float]]
    var labels: [Int?]

    /// Runs `network` over `samples`; with `latency`, also times each classifier at batch 1
    /// into `timings` as `<latency>.<classifier>` (median seconds; never a table column).
    init(_ network: InferenceNetwork, on samples: InferenceSamples, latency: String?,
         timings: inout [PointResult.Timing]) throws {
        let options = ProfilerOptions(basis: .labelsWhenAtLeast(1), latency: latency == nil ? nil : LatencyOptions())
        let profile = try Profiler.profile(network, validation: samples, options: options)
        predictions = profile.scores.predictions
        confidences = profile.scores.confidences
        labels = samples.labels
        if let latency {
            for classifier in profile.classifiers {
                if let measured = classifier.latency { timings.append(.init(phase: "\(latency).\(classifier.name)", seconds: measured.median)) }
            }
        }
    }

    init(predictions: [[Int]], confidences: [[Float]], labels: [Int?]) {
        self.predictions = predictions; self.confidences = confidences; self.labels = labels
    }

    var classifierCount: Int { predictions.count }

    /// Accuracy of classifier c on the labelled samples.
    func accuracy(_ c: Int) -> Double {
        let scored = labels.compactMap { $0 }.count
        guard scored > 0 else { return 0 }
        return Double(zip(predictions[c], labels).filter { $1 != nil && $0 == $1 }.count) / Double(scored)
    }

    var accuracies: [Double] { (0..<classifierCount).map(accuracy) }

    /// Scored against the labels (test samples are all labelled).
    var scores: ValidationScores { ValidationScores(predictions: predictions, confidences: confidences, targets: labels) }

    /// The final classifier alone.
    var finalOnly: ClassifierOutputs {
        ClassifierOutputs(predictions: [predictions.last!], confidences: [confidences.last!], labels: labels)
    }
}

/// The record of an `exits` unit.
struct ExitsRecord: Codable, Equatable {
    var classes: [Int]
    var trainSamples: Int
    var labelledSamples: Int
    var costs: ClassifierCosts
    /// On the user's test samples: the global model, and with the personalised exits.
    var global: ClassifierOutputs
    var personalised: ClassifierOutputs
    /// The personalised exits on the user's validation share (what the profiler scores).
    var validation: ClassifierOutputs
    var cost: CostReport
    var trainedParameters: Int

    var exitNames: [String] { Array(costs.names.dropLast()) }

    /// The orchestrator's plan for this user (profile from the stored validation outputs),
    /// and the policy's outcome on the test samples.
    func policy(rule: BasisRule, options: OrchestratorOptions) throws -> (plan: OrchestratorPlan, test: PolicyOutcome) {
        let profile = try Profiler.profile(predictions: validation.predictions, confidences: validation.confidences,
                                           labels: validation.labels, costs: costs, rule: rule)
        let plan = try Orchestrator.plan(profile: profile, costs: costs, options: options)
        return (plan, plan.policy.outcome(on: personalised.scores, costs: costs))
    }
}

/// The record of a `whole-network` unit.
struct WholeNetworkRecord: Codable, Equatable {
    var final: ClassifierOutputs
    var fullNetworkFLOPs: Int
    var cost: CostReport
    var trainedParameters: Int
    var diverged: Bool

    var accuracy: Double { final.accuracy(0) }
}

extension CostReport {
    /// The report without its wall-clock and memory measurements, which go to the timings
    /// (records must be the same bytes on every machine).
    var deterministic: CostReport {
        var c = self
        c.wallSeconds = 0
        c.peakMemoryDeltaBytes = nil
        return c
    }
}
