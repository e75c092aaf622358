/// What happened to one sample in the inference engine.
public struct InferenceRecord: Equatable, Sendable {
    /// Position in the `UserSamples` run.
    public var sample: Int
    /// Exit index taken, nil for the final classifier.
    public var exit: Int?
    /// `block2`, ... or `final`.
    public var classifier: String
    public var predicted: Int
    /// Top-1 softmax probability at the classifier taken.
    public var confidence: Float
    /// nil when the sample has no label.
    public var correct: Bool?
    /// Forward FLOPs actually spent on this sample: every backbone child it went through and
    /// every head evaluated on it, from the layers' cost functions.
    public var flops: Int
    /// Measured wall time of this sample in batch-1 mode, seconds; nil in batched mode.
    public var latency: Double?
}

/// Aggregate figures of one inference run.
public struct InferenceSummary: Equatable, Sendable {
    public var samples: Int
    public var labelled: Int
    /// Correct / labelled; nil without labels.
    public var accuracy: Double?
    public var meanFLOPs: Double
    /// Mean batch-1 latency in seconds; nil in batched mode.
    public var meanLatency: Double?
    /// Median batch-1 latency in seconds; nil in batched mode.
    public var medianLatency: Double?
    /// Wall time of the whole run (batched mode: all batches), seconds.
    public var wallTime: Double
    /// Samples leaving at each classifier: exits in order, then final.
    public var exitHistogram: [Int]
}

/// Per-sample records of one run, with the classifier names and its summary.
public struct InferenceReport: Equatable, Sendable {
    public var policy: ExitPolicy
    /// Exits in order, then `final`.
    public var classifierNames: [String]
    public var records: [InferenceRecord]
    public var summary: InferenceSummary

    init(policy: ExitPolicy, classifierNames: [String], records: [InferenceRecord], wallTime: Double) {
        self.policy = policy; self.classifierNames = classifierNames; self.records = records
        let labelled = records.filter { $0.correct != nil }
        let latencies = records.compactMap(\.latency)
        let n = Double(max(records.count, 1))
        summary = InferenceSummary(
            samples: records.count, labelled: labelled.count,
            accuracy: labelled.isEmpty ? nil : Double(labelled.filter { $0.correct! }.count) / Double(labelled.count),
            meanFLOPs: Double(records.reduce(0) { $0 + $1.flops }) / n,
            meanLatency: latencies.count == records.count && !latencies.isEmpty ? latencies.reduce(0, +) / n : nil,
            medianLatency: latencies.count == records.count && !latencies.isEmpty ? medianValue(latencies) : nil,
            wallTime: wallTime,
            exitHistogram: records.reduce(into: [Int](repeating: 0, count: classifierNames.count)) {
                $0[$1.exit ?? classifierNames.count - 1] += 1
            })
    }

    /// This run against a reference run on the same samples (normally the full network):
    /// speed-ups are reference / this, from the measured numbers.
    public func speedUp(over reference: InferenceReport, accuracyTolerance: Double = 0.01) -> InferenceSpeedUp {
        let a = summary, r = reference.summary
        let equal: Bool? = {
            guard let x = a.accuracy, let y = r.accuracy else { return nil }
            return x >= y - accuracyTolerance - 1e-9
        }()
        return InferenceSpeedUp(accuracy: a.accuracy, referenceAccuracy: r.accuracy,
                                flopsReduction: a.meanFLOPs > 0 ? r.meanFLOPs / a.meanFLOPs : 0,
                                latencySpeedUp: a.meanLatency.flatMap { x in r.meanLatency.map { x > 0 ? $0 / x : 0 } },
                                wallTimeSpeedUp: a.wallTime > 0 ? r.wallTime / a.wallTime : 0,
                                equalAccuracy: equal, accuracyTolerance: accuracyTolerance)
    }
}

/// A policy's gain over a reference run (the full network) on the same samples.
public struct InferenceSpeedUp: Equatable, Sendable {
    public var accuracy: Double?
    public var referenceAccuracy: Double?
    /// Reference mean FLOPs / this run's mean FLOPs.
    public var flopsReduction: Double
    /// Reference mean batch-1 latency / this run's (nil unless both ran in batch-1 mode).
    public var latencySpeedUp: Double?
    /// Reference wall time / this run's.
    public var wallTimeSpeedUp: Double
    /// Whether this run's accuracy is at least the reference's minus `accuracyTolerance`
    /// (nil without labels): the speed-up counts "at equal accuracy" only when true.
    public var equalAccuracy: Bool?
    public var accuracyTolerance: Double
}
