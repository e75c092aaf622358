import Foundation
import Models
import Tensor
import Training

/// How the inference engine feeds samples.
///
/// - `batchOne(warmUp)`: one sample at a time, each timed (the device's latency view);
///   `warmUp` untimed passes of the first sample run first.
/// - `batched(size)`: batches of `size`; at each exit the batch shrinks to the samples that
///   stay, so later children run on fewer rows. Per-sample latency is not defined here.
public enum InferenceMode: Equatable, Hashable, Sendable, Codable {
    case batchOne(warmUp: Int)
    case batched(size: Int)

    /// 2 warm-up passes: enough to size the scratch buffers and fill the caches.
    public static let `default` = InferenceMode.batchOne(warmUp: 2)
}

/// The inference engine (PersEPhonEE's overview figure): runs a (personalised) multi-exit
/// network under an `ExitPolicy` and stops computing at the exit each sample takes. Backbone
/// children after that exit's point are not run for the sample, and heads the policy does not
/// enable are never run. Inputs are `UserSamples` in [0, 1]; the engine normalises them
/// with the network's normalisation before the clock starts.
public final class InferenceEngine {
    public let network: MultiExitModel
    public let policy: ExitPolicy

    public init(network: MultiExitModel, policy: ExitPolicy) throws {
        try policy.check(headCount: network.exits.count)
        self.network = network; self.policy = policy
    }

    /// Runs every sample and reports each one's exit, prediction, correctness, FLOPs and
    /// (batch-1 mode) latency. `wallTime` in the summary is the time spent in the network,
    /// normalisation excluded.
    public func run(_ samples: UserSamples, mode: InferenceMode = .default) throws -> InferenceReport {
        var records: [InferenceRecord] = []
        records.reserveCapacity(samples.count)
        let clock = ContinuousClock()
        var wall = 0.0
        switch mode {
        case let .batchOne(warmUp):
            guard warmUp >= 0 else {
                throw OrchestratorError(subject: "warmUp", message: "\(warmUp)", hint: "use warmUp >= 0 (default 2)")
            }
            if samples.count > 0 {
                let first = samples.batch(0..<1, normalization: network.normalization)
                for _ in 0..<warmUp { _ = classify(first) }
            }
            for i in 0..<samples.count {
                let input = samples.batch(i..<(i + 1), normalization: network.normalization)
                var decisions: [Decision] = []
                let t = timeInSeconds(clock.measure { decisions = classify(input) })
                wall += t
                records.append(record(decisions[0], sample: i, samples: samples, latency: t))
            }
        case let .batched(size):
            guard size >= 1 else {
                throw OrchestratorError(subject: "batch size", message: "\(size)", hint: "use a positive batch size")
            }
            for range in Batches.ranges(count: samples.count, batchSize: size, training: false) {
                let input = samples.batch(range, normalization: network.normalization)
                var decisions: [Decision] = []
                wall += timeInSeconds(clock.measure { decisions = classify(input) })
                for (k, d) in decisions.enumerated() {
                    records.append(record(d, sample: range.lowerBound + k, samples: samples, latency: nil))
                }
            }
        }
        return InferenceReport(policy: policy, classifierNames: network.classifierNames, records: records, wallTime: wall)
    }

    /// Runs `policy` and the full network on the same samples in the same mode and compares
    /// them (speed-ups are full / policy; `equalAccuracy` says whether the policy's accuracy
    /// is within `accuracyTolerance` of the full network's).
    public static func compareWithFullNetwork(_ network: MultiExitModel, policy: ExitPolicy, samples: UserSamples,
                                              mode: InferenceMode = .default, accuracyTolerance: Double = 0.01) throws
        -> (policy: InferenceReport, full: InferenceReport, speedUp: InferenceSpeedUp) {
        let full = try InferenceEngine(network: network, policy: .fullNetwork).run(samples, mode: mode)
        let run = try InferenceEngine(network: network, policy: policy).run(samples, mode: mode)
        return (run, full, run.speedUp(over: full, accuracyTolerance: accuracyTolerance))
    }

    /// One sample's outcome inside `classify`.
    struct Decision {
        var exit: Int?
        var predicted: Int
        var confidence: Float
        var flops: Int
    }

    /// Runs a normalised batch (N, C, H, W) child by child. After each child that carries an
    /// enabled head, the head runs on the rows still in flight; rows whose confidence reaches
    /// the threshold leave, the rest are gathered into a smaller batch, and the loop stops
    /// as soon as no row is left. Returns one decision per input row, in row order.
    func classify(_ input: Tensor) -> [Decision] {
        let n = input.shape[0], h = network.exits.count
        var x = input
        var active = Array(0..<n)   // input rows still in x, in x's row order
        var flops = [Int](repeating: 0, count: n)
        var decisions = [Decision?](repeating: nil, count: n)
        var nextHead = 0
        children: for (i, child) in network.backbone.network.children.enumerated() {
            x = child.layer.forward(x, mode: .inference)
            for r in active { flops[r] += network.childFLOPs[i] }
            while nextHead < h && network.exits[nextHead].point.childIndex == i {
                let e = nextHead
                nextHead += 1
                guard policy.runsHead(e) else { continue }
                let top = topOne(network.exits[e].head.forward(x, mode: .inference))
                var stay: [Int] = []    // positions in x of the rows that go on
                for (p, r) in active.enumerated() {
                    flops[r] += network.exits[e].headFLOPs
                    if policy.leaves(atHead: e, confidence: top.confidences[p]) {
                        decisions[r] = Decision(exit: e, predicted: top.classes[p], confidence: top.confidences[p], flops: flops[r])
                    } else {
                        stay.append(p)
                    }
                }
                if stay.count < active.count {
                    active = stay.map { active[$0] }
                    if active.isEmpty { break children }
                    x = keepRows(x, stay)
                }
            }
        }
        if !active.isEmpty {
            let top = topOne(x)
            for (p, r) in active.enumerated() {
                decisions[r] = Decision(exit: nil, predicted: top.classes[p], confidence: top.confidences[p], flops: flops[r])
            }
        }
        return decisions.map { $0! }
    }

    private func record(_ d: Decision, sample i: Int, samples: UserSamples, latency: Double?) -> InferenceRecord {
        InferenceRecord(sample: i, exit: d.exit, classifier: network.classifierNames[d.exit ?? network.exits.count],
                        predicted: d.predicted, confidence: d.confidence,
                        correct: samples.labels[i].map { $0 == d.predicted }, flops: d.flops, latency: latency)
    }
}

/// Rows `rows` of a batch (N, ...) as a new batch (rows.count, ...), in the given order.
private func keepRows(_ x: Tensor, _ rows: [Int]) -> Tensor {
    let per = x.count / max(x.shape[0], 1)
    var out: [Float] = []
    out.reserveCapacity(rows.count * per)
    for r in rows { out += x.scalars[(r * per)..<((r + 1) * per)] }
    return Tensor(shape: [rows.count] + Array(x.shape.dropFirst()), scalars: out)
}
