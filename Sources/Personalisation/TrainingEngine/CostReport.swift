import Foundation

/// What one personalisation cost. FLOPs come from the layers' cost functions (a
/// multiply-add is 2 FLOPs; losses and optimizer updates are not counted), wall time is
/// measured, memory is measured from /proc/self/status and, for the exit engine, also
/// accounted from the feature cache. docs/personalisation.md explains every field.
public struct CostReport: Codable, Equatable, Sendable {
    /// `exits` (the on-device engine) or `whole-network` (the fine-tuning baseline).
    public var method: String
    /// The user's training samples.
    public var samples: Int
    public var epochs: Int
    /// Optimizer steps taken (batches with nothing to learn from are skipped).
    public var steps: Int
    /// Sample-steps trained: the sum of the batch sizes of the steps taken.
    public var trainedSamples: Int
    /// Forward passes of the frozen model that do not train: the exit engine's backbone
    /// passes (cache filling, plus recomputation when over budget); the baseline's one
    /// pass of the initial model for pseudo-labels.
    public var extractionFLOPs: Int
    /// Training steps: forward + backward of what is trained, per `trainingStepFLOPs`,
    /// times the samples of each step.
    public var trainingStepFLOPs: Int
    /// extractionFLOPs + trainingStepFLOPs (stored, so it is in the JSON).
    public var totalFLOPs: Int
    /// Measured wall time of the whole personalisation (cache included).
    public var wallSeconds: Double
    /// Peak resident memory during the run minus resident memory at its start, from
    /// /proc/self/status; nil where it cannot be read. See `peakMemoryMethod`.
    public var peakMemoryDeltaBytes: Int?
    /// How `peakMemoryDeltaBytes` was measured.
    public var peakMemoryMethod: String
    /// Bytes held by the feature cache (exit engine; 0 for the baseline).
    public var featureCacheBytes: Int
    /// `cached`, `recomputed` (over the memory budget) or `none` (baseline).
    public var featureStorage: String
    /// Anything a reader of the figures must know (fallbacks, skipped batches).
    public var notes: [String]

    public init(method: String, samples: Int, epochs: Int, steps: Int, trainedSamples: Int, extractionFLOPs: Int,
                trainingStepFLOPs: Int, wallSeconds: Double, peakMemoryDeltaBytes: Int?, peakMemoryMethod: String,
                featureCacheBytes: Int, featureStorage: String, notes: [String]) {
        self.method = method; self.samples = samples; self.epochs = epochs; self.steps = steps
        self.trainedSamples = trainedSamples; self.extractionFLOPs = extractionFLOPs
        self.trainingStepFLOPs = trainingStepFLOPs; totalFLOPs = extractionFLOPs + trainingStepFLOPs
        self.wallSeconds = wallSeconds
        self.peakMemoryDeltaBytes = peakMemoryDeltaBytes; self.peakMemoryMethod = peakMemoryMethod
        self.featureCacheBytes = featureCacheBytes; self.featureStorage = featureStorage; self.notes = notes
    }
}

/// Peak-memory measurement from the kernel's accounting of this process.
///
/// At `start()` the peak (VmHWM) is reset by writing 5 to /proc/self/clear_refs (Linux
/// >= 4.0) and VmRSS is read; at `finish()` VmHWM minus that VmRSS is the peak growth
/// during the run. Where the reset is refused, the delta of VmHWM itself is reported,
/// which is only a lower bound (0 when an earlier peak was higher). Other threads of the
/// process (parallel tests) count too.
struct PeakMemoryProbe {
    private var startRSS: Int?
    private var startHWM: Int?
    private var resetWorked = false

    static func start() -> PeakMemoryProbe {
        var probe = PeakMemoryProbe()
        probe.resetWorked = (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil
        let status = readStatus()
        probe.startRSS = status["VmRSS"]; probe.startHWM = status["VmHWM"]
        return probe
    }

    func finish() -> (bytes: Int?, method: String) {
        let status = PeakMemoryProbe.readStatus()
        guard let hwm = status["VmHWM"] else { return (nil, "unavailable: /proc/self/status has no VmHWM") }
        if resetWorked, let rss = startRSS {
            return (max(0, hwm - rss), "VmHWM after reset (clear_refs) minus VmRSS at start, /proc/self/status")
        }
        guard let before = startHWM else { return (nil, "unavailable: no VmHWM at start") }
        return (max(0, hwm - before), "VmHWM delta, /proc/self/status (lower bound: peak reset refused)")
    }

    /// The `Vm*` lines of /proc/self/status, in bytes.
    static func readStatus() -> [String: Int] {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return [:] }
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("Vm") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " || $0 == "\t" })
            if parts.count >= 2, let kB = Int(parts[1]) { out[String(parts[0])] = kB * 1024 }
        }
        return out
    }
}
