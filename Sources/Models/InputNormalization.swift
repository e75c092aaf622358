/// Per-channel input normalisation: a network sees (x - mean[c]) / std[c] for images x in
/// [0, 1]. Taken from the training split at pretraining and stored in the checkpoint, so
/// every later use normalises exactly as training did.
public struct InputNormalization: Equatable, Sendable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && std.allSatisfy { $0 > 0 }, "normalisation needs one positive std per mean")
        self.mean = mean; self.std = std
    }

    /// The split's own statistics (a constant channel gets std 1 so nothing divides by 0).
    public init(statisticsOf mean: [Double], _ std: [Double]) {
        self.init(mean: mean.map { Float($0) }, std: std.map { $0 > 1e-12 ? Float($0) : 1 })
    }
}
