import Foundation
import Models
import Tensor
import Training

/// What a profile's accuracies were measured against.
///
/// - `labels(count)`: only the labelled validation samples, against their labels.
/// - `agreementWithFinal(count)`: every validation sample, against the final classifier's
///   prediction (the final classifier then scores 1 by definition; an exit's agreement a
///   bounds its accuracy gap: |acc(exit) - acc(final)| <= 1 - a).
/// - `mixed(labelled, agreement)`: every validation sample, against its label where it has
///   one (`labelled` of them) and the final classifier's prediction otherwise.
public enum AccuracyBasis: Equatable, Hashable, Sendable, Codable {
    case labels(count: Int)
    case agreementWithFinal(count: Int)
    case mixed(labelled: Int, agreement: Int)

    /// Samples scored.
    public var count: Int {
        switch self {
        case let .labels(n), let .agreementWithFinal(n): return n
        case let .mixed(l, a): return l + a
        }
    }

    public var description: String {
        switch self {
        case let .labels(n): return "labels(\(n))"
        case let .agreementWithFinal(n): return "agreement-with-final(\(n))"
        case let .mixed(l, a): return "mixed(\(l) labels, \(a) agreement)"
        }
    }
}

/// How the profiler picks the basis.
///
/// - `labelsWhenAtLeast(k)`: labels when the validation share has at least k labelled
///   samples, otherwise agreement with the final classifier on all of them.
/// - `mixed`: labels where they exist, agreement elsewhere (`AccuracyBasis.mixed`), or pure
///   labels / pure agreement when the share is all labelled / all unlabelled.
public enum BasisRule: Equatable, Hashable, Sendable, Codable {
    case labelsWhenAtLeast(Int)
    case mixed

    /// k = 20: below about 20 labels an accuracy's standard error (sqrt(p(1-p)/n), 9 points
    /// at p = 0.8, n = 20) swamps the few-point gaps between exits the orchestrator selects
    /// on, while agreement is measured on the whole share (100 samples for the defaults).
    public static let `default` = BasisRule.labelsWhenAtLeast(20)

    /// `labels:K` or `mixed`: how the spec key `orchestrator.basis` and
    /// `persephone personalise --profile-basis` spell a rule.
    public var spelling: String {
        switch self {
        case let .labelsWhenAtLeast(k): return "labels:\(k)"
        case .mixed: return "mixed"
        }
    }

    /// Reads `spelling`; nil for anything else.
    public init?(spelling text: String) {
        if text == "mixed" { self = .mixed; return }
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0] == "labels", let k = Int(parts[1]), k >= 0 else { return nil }
        self = .labelsWhenAtLeast(k)
    }
}

/// Batch-1 wall time of one classifier on this CPU, in seconds.
public struct LatencyMeasurement: Equatable, Sendable, Codable {
    public var median: Double
    public var minimum: Double
    public var maximum: Double
    /// Timed runs (warm-up runs excluded).
    public var runs: Int
}

/// How the profiler times classifiers.
public struct LatencyOptions: Equatable, Sendable, Codable {
    /// Untimed runs first, so caches, scratch buffers and lazily sized workspaces are warm.
    public var warmUp: Int
    /// Timed runs; the median is reported because a shared CPU adds rare long outliers.
    public var repeats: Int

    /// 3 warm-up and 21 timed runs: a median of 21 stays put under a few outliers, and 24
    /// batch-1 passes per classifier cost a few milliseconds on ResNet-20.
    public init(warmUp: Int = 3, repeats: Int = 21) {
        self.warmUp = warmUp; self.repeats = repeats
    }
}

/// Profiler settings.
public struct ProfilerOptions: Equatable, Sendable, Codable {
    public var basis: BasisRule
    /// nil: do not time (tests, or when only accuracy is wanted).
    public var latency: LatencyOptions?
    /// Batch size of the accuracy pass (does not change any result, only speed and memory).
    public var batchSize: Int

    public init(basis: BasisRule = .default, latency: LatencyOptions? = LatencyOptions(), batchSize: Int = 128) {
        self.basis = basis; self.latency = latency; self.batchSize = batchSize
    }
}

/// One classifier's profile for one user.
public struct ClassifierProfile: Equatable, Sendable {
    /// Exit point name (`block2`) or `final`.
    public var name: String
    /// Index into the heads, nil for the final classifier.
    public var exit: Int?
    /// Correct / scored on the profile's basis.
    public var correct: Int
    public var scored: Int
    /// Forward FLOPs for one sample: backbone through the point plus the head (the whole
    /// backbone for `final`), from the layers' cost functions.
    public var flops: Int
    /// nil when latency was not measured.
    public var latency: LatencyMeasurement?

    public var accuracy: Double { scored == 0 ? 0 : Double(correct) / Double(scored) }
}

/// Every classifier's outputs on the validation share, kept so the orchestrator can choose
/// thresholds without running the network again.
///
/// Layout: `predictions[c][i]`, `confidences[c][i]` for classifier c (exits in order, then
/// final) and validation sample i (all samples of the share, scored or not); `targets[i]` is
/// the class counted as correct for sample i under the basis, nil when sample i is not scored.
public struct ValidationScores: Equatable, Sendable {
    public var predictions: [[Int]]
    public var confidences: [[Float]]
    public var targets: [Int?]

    public init(predictions: [[Int]], confidences: [[Float]], targets: [Int?]) {
        precondition(predictions.count == confidences.count && !predictions.isEmpty)
        precondition(zip(predictions, confidences).allSatisfy { $0.count == targets.count && $1.count == targets.count })
        self.predictions = predictions; self.confidences = confidences; self.targets = targets
    }

    public var classifierCount: Int { predictions.count }
    public var sampleCount: Int { targets.count }
    public var scoredCount: Int { targets.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// Correct predictions of classifier c among the scored samples.
    public func correct(classifier c: Int) -> Int {
        zip(predictions[c], targets).reduce(0) { $0 + ($1.1 != nil && $1.0 == $1.1 ? 1 : 0) }
    }
}

/// A user's profile: every exit and the final classifier on the user's validation share.
public struct UserProfile: Equatable, Sendable {
    public var basis: AccuracyBasis
    /// Parallel to the heads.
    public var exits: [ClassifierProfile]
    public var final: ClassifierProfile
    public var scores: ValidationScores

    /// Exits, then final.
    public var classifiers: [ClassifierProfile] { exits + [final] }

    mutating func setLatency(_ latency: LatencyMeasurement, classifier k: Int) {
        if k < exits.count { exits[k].latency = latency } else { final.latency = latency }
    }
}

/// The profiler (PersEPhonEE's overview figure): per user and classifier, accuracy on the
/// user's validation share, batch-1 latency on this CPU, and forward FLOPs.
public enum Profiler {
    /// Profiles every exit of `network` and its final classifier with the user's
    /// `validation` samples.
    public static func profile(_ network: MultiExitModel, validation: UserSamples,
                               options: ProfilerOptions = ProfilerOptions()) throws -> UserProfile {
        try check(options)
        guard validation.count > 0 else {
            throw OrchestratorError(subject: "validation", message: "the user has no validation samples to profile on",
                                    hint: "use a user split with validationFraction > 0 (and enough samples per user)")
        }
        let c = network.classifierCount
        var predictions = [[Int]](repeating: [], count: c), confidences = [[Float]](repeating: [], count: c)
        for range in Batches.ranges(count: validation.count, batchSize: options.batchSize, training: false) {
            let logits = network.forward(validation.batch(range, normalization: network.normalization)).classifierLogits
            for (k, l) in logits.enumerated() {
                let top = topOne(l)
                predictions[k] += top.classes
                confidences[k] += top.confidences
            }
        }
        var profile = try self.profile(predictions: predictions, confidences: confidences, labels: validation.labels,
                                       costs: ClassifierCosts(network), rule: options.basis)
        if let latency = options.latency {
            for k in 0..<c { profile.setLatency(measureLatency(network, classifier: k, samples: validation, options: latency), classifier: k) }
        }
        return profile
    }

    /// The profile from stored outputs (`predictions[c][i]`, `confidences[c][i]` of
    /// classifier c, exits then final, on sample i) and the share's labels (nil where
    /// unlabelled): what `profile(_:validation:options:)` computes after its forward pass,
    /// without latency.
    public static func profile(predictions: [[Int]], confidences: [[Float]], labels: [Int?], costs: ClassifierCosts,
                               rule: BasisRule) throws -> UserProfile {
        try check(ProfilerOptions(basis: rule, latency: nil))
        let c = costs.headCount + 1
        precondition(predictions.count == c, "outputs of \(predictions.count) classifiers for \(c)")
        let (basis, targets) = basisAndTargets(labels: labels, finalPredictions: predictions[c - 1], rule: rule)
        let scores = ValidationScores(predictions: predictions, confidences: confidences, targets: targets)
        let flops = costs.classifierFLOPs
        let profiles = (0..<c).map { k -> ClassifierProfile in
            ClassifierProfile(name: costs.names[k], exit: k == c - 1 ? nil : k, correct: scores.correct(classifier: k),
                              scored: scores.scoredCount, flops: flops[k], latency: nil)
        }
        return UserProfile(basis: basis, exits: Array(profiles.dropLast()), final: profiles[c - 1], scores: scores)
    }

    /// The basis `rule` gives for a share with these labels, and each sample's target.
    public static func basisAndTargets(labels: [Int?], finalPredictions: [Int], rule: BasisRule) -> (AccuracyBasis, [Int?]) {
        precondition(labels.count == finalPredictions.count)
        let labelled = labels.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
        switch rule {
        case let .labelsWhenAtLeast(k) where labelled >= k:
            return (.labels(count: labelled), labels)
        case .labelsWhenAtLeast:
            return (.agreementWithFinal(count: labels.count), finalPredictions.map { $0 })
        case .mixed:
            let targets = zip(labels, finalPredictions).map { $0 ?? $1 }
            if labelled == labels.count { return (.labels(count: labelled), targets) }
            if labelled == 0 { return (.agreementWithFinal(count: labels.count), targets) }
            return (.mixed(labelled: labelled, agreement: labels.count - labelled), targets)
        }
    }

    /// Batch-1 wall time of classifier `k` alone (backbone prefix through its point plus its
    /// head; the whole backbone for final), cycling through the samples. Normalisation is done
    /// before the clock starts: it is input preparation, not the model's work.
    static func measureLatency(_ network: MultiExitModel, classifier k: Int, samples: UserSamples,
                               options: LatencyOptions) -> LatencyMeasurement {
        let inputs = (0..<min(samples.count, options.repeats)).map { samples.batch($0..<($0 + 1), normalization: network.normalization) }
        let forward = network.classifierForward(k)
        for r in 0..<options.warmUp { _ = forward(inputs[r % inputs.count]) }
        let clock = ContinuousClock()
        var times: [Double] = []
        for r in 0..<options.repeats {
            let input = inputs[r % inputs.count]
            let elapsed = clock.measure { _ = forward(input) }
            times.append(timeInSeconds(elapsed))
        }
        return LatencyMeasurement(median: medianValue(times), minimum: times.min()!, maximum: times.max()!, runs: times.count)
    }

    static func check(_ options: ProfilerOptions) throws {
        if case let .labelsWhenAtLeast(k) = options.basis, k < 1 {
            throw OrchestratorError(subject: "basis", message: "labelsWhenAtLeast(\(k)) would score on no labels",
                                    hint: "use k >= 1 (default 20)")
        }
        if let l = options.latency, l.warmUp < 0 || l.repeats < 1 {
            throw OrchestratorError(subject: "latency", message: "warmUp \(l.warmUp), repeats \(l.repeats)",
                                    hint: "use warmUp >= 0 and repeats >= 1 (defaults 3 and 21), or nil to skip timing")
        }
        guard options.batchSize >= 1 else {
            throw OrchestratorError(subject: "batchSize", message: "\(options.batchSize)", hint: "use a positive batch size (default 128)")
        }
    }
}

/// A `Duration` in seconds.
func timeInSeconds(_ d: Duration) -> Double {
    let (s, attoseconds) = d.components
    return Double(s) + Double(attoseconds) * 1e-18
}
