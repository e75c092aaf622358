import Foundation
import Models
import NN
import Tensor
import Training

/// The outcome of one personalisation: the user's model (the user's own heads on the
/// base's shared backbone) and what it cost.
public struct PersonalisationResult {
    public var model: MultiExitModel
    public var report: CostReport
    /// Mean training loss per epoch over the personalised heads (sample-weighted over the
    /// steps taken; 0 for an epoch without steps).
    public var epochLosses: [Double]
    /// True when a non-finite loss stopped training (the report's notes say where).
    public var diverged: Bool
}

/// The on-device stage of the training engine (PersEPhonEE's overview figure): the
/// backbone frozen and in inference mode, each exit head trained on the user's samples
/// with the loss mix of `PersonalisationLoss`.
///
/// The backbone runs once per sample (`FeatureCache`), its features at the exit points
/// are reused by every epoch, so personalisation costs one backbone forward pass per
/// sample plus the heads' training. Heads train in training mode (their own batch norms
/// use batch statistics and update their running statistics). Randomness: fresh heads
/// from `seed`'s stream 0, epoch e's shuffle from stream e + 1.
public struct ExitPersonaliser {
    public let configuration: PersonalisationConfig
    /// Where to keep and find feature caches, with the name of the samples and backbone
    /// (nil: a new cache per personalisation).
    public let shelf: (shelf: FeatureCacheShelf, key: String)?

    public init(configuration: PersonalisationConfig, shelf: (shelf: FeatureCacheShelf, key: String)? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        self.shelf = shelf
    }

    /// Copies `base`'s heads (offline-trained, or fresh when `fromScratch`) into a new
    /// model on the same backbone (`MultiExitModel(copyingExitsOf:)`) and personalises
    /// them on `data`. `base` is never written.
    public func personalise(_ base: MultiExitModel, on data: UserSamples) throws -> PersonalisationResult {
        var generator = SeededGenerator(seed: configuration.seed).derived(0)
        let model = MultiExitModel(copyingExitsOf: base, fromScratch: configuration.fromScratch, generator: &generator)
        return try train(model, on: data)
    }

    /// Trains the heads of `model` (those named by `exits`, default all) further on
    /// `data`, e.g. in a later scheduling round.
    public func train(_ model: MultiExitModel, on data: UserSamples) throws -> PersonalisationResult {
        let c = configuration
        let start = Date()
        let probe = PeakMemoryProbe.start()
        if let problem = data.problem(for: model) {
            throw TrainingError(subject: "user data", message: problem, hint: "personalise with samples of the dataset the model was trained on")
        }
        let heads = try selectedHeads(of: model)
        let make = {
            FeatureCache(backbone: model.backbone, normalization: model.normalization, images: data.images,
                         points: heads.map(\.point), keepFinalLogits: c.needsTeacher,
                         memoryBudgetBytes: c.memoryBudgetBytes, batchSize: c.extractionBatchSize)
        }
        // A kept cache must be of these points and this teacher setting, budget and batch.
        let cache = shelf.map { entry in
            entry.shelf.cache(entry.key + "|points:\(heads.map(\.point.name))|teacher:\(c.needsTeacher)"
                              + "|budget:\(c.memoryBudgetBytes)|batch:\(c.extractionBatchSize)", make: make)
        } ?? make()
        let (hardLabels, hardWeights) = PersonalisationLoss.hardTargets(labels: data.labels,
                                                                        teacherLogits: cache.finalLogits, configuration: c)
        let optimizer = makeOptimizer(c, parameters: heads.flatMap { $0.head.parameters })
        let loop = EpochLoop(count: data.count, batchSize: c.batchSize, epochs: c.epochs, seed: c.seed,
                             schedule: EpochLoop.cosine(base: c.learningRate, epochs: c.epochs))
        let featureIndex = heads.map { head in cache.points.firstIndex(of: head.point)! }
        var headSeconds = [Double](repeating: 0, count: heads.count)
        let outcome = try loop.run { step, _ in
            let indices = step.indices
            let weights = indices.map { hardWeights[$0] }
            guard PersonalisationLoss.hasSignal(hardWeights: weights[...], configuration: c) else { return .skipped }
            optimizer.learningRate = step.learningRate
            let labels = indices.map { hardLabels[$0] }
            let teacher = cache.finalLogits.map { gatherRows($0, indices) }
            // A recomputing cache runs the backbone once for all points; a stored one is
            // copied from by each head's task.
            let recomputed = cache.storage == .cached ? nil : cache.features(for: indices)
            // The heads share nothing but their inputs: each trains on a worker of its own
            // (`Parallel.mapTasks`; the same bits as one after the other), the losses summed
            // in head order. The heads that took longest
            // so far start first (the order changes which worker runs what, never the bits).
            let order = heads.indices.sorted { headSeconds[$0] > headSeconds[$1] }
            let outcomes = Parallel.mapTasks(count: heads.count, order: order) { h -> (loss: Float, seconds: Double) in
                let started = DispatchTime.now().uptimeNanoseconds
                let head = heads[h].head
                let x = recomputed?[featureIndex[h]] ?? cache.storedFeatures(point: featureIndex[h], for: indices)
                let logits = head.forward(x, mode: .training(inputGradient: false))
                let loss = PersonalisationLoss.loss(logits: logits, hardLabels: labels, hardWeights: weights,
                                                    teacherLogits: teacher, configuration: c)
                _ = head.backward(loss.dLogits)
                return (loss.loss, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            }
            for (h, outcome) in outcomes.enumerated() { headSeconds[h] += outcome.seconds }
            let batchLoss = outcomes.reduce(0.0) { $0 + Double($1.loss) }
            return .loss(batchLoss / Double(heads.count)) {
                optimizer.step()
                for exit in heads { exit.head.zeroGradients() }
            }
        }
        let steps = outcome.steps, trainedSamples = outcome.trainedSamples, skipped = outcome.skipped
        let headFLOPs = heads.reduce(0) {
            $0 + $1.head.trainingStepFLOPs(for: [1] + $1.point.featureShape, inputGradient: false)
        }
        var notes: [String] = ["no augmentation: features are computed once per sample"]
        if cache.storage == .recomputed {
            notes.append("feature cache over budget (\(cache.estimatedBytes) > \(c.memoryBudgetBytes) bytes): backbone recomputed per batch for \(cache.recomputedSamples) sample-steps")
        }
        if skipped > 0 { notes.append("\(skipped) batch(es) with no labelled, pseudo-labelled or distilled sample skipped") }
        if let diverged = outcome.diverged { notes.append(diverged) }
        if !c.needsTeacher { notes.append("backbone run only through the deepest exit point (no loss needs the final classifier)") }
        let memory = probe.finish()
        let report = CostReport(method: "exits", samples: data.count, epochs: c.epochs, steps: steps,
                                trainedSamples: trainedSamples, extractionFLOPs: cache.backboneFLOPs,
                                trainingStepFLOPs: headFLOPs * trainedSamples,
                                wallSeconds: Date().timeIntervalSince(start), peakMemoryDeltaBytes: memory.bytes,
                                peakMemoryMethod: memory.method, featureCacheBytes: cache.heldBytes,
                                featureStorage: cache.storage.rawValue, notes: notes)
        return PersonalisationResult(model: model, report: report, epochLosses: outcome.epochLosses,
                                     diverged: outcome.diverged != nil)
    }

    /// The heads named by `exits` (all when nil), in network order.
    func selectedHeads(of model: MultiExitModel) throws -> [AttachedExit] {
        if model.exits.isEmpty {
            throw TrainingError(subject: "model", message: "has no exit heads to personalise",
                                hint: "train exits offline first (`persephone exits train`)")
        }
        guard let names = configuration.exits else { return model.exits }
        let known = model.exits.map(\.point.name)
        if let bad = names.first(where: { !known.contains($0) }) {
            throw TrainingError(subject: "personalisation config", message: "exits names \"\(bad)\", the model's heads are at \(known.joined(separator: ", "))",
                                hint: "list points that have a head")
        }
        if names.isEmpty { throw TrainingError(subject: "personalisation config", message: "exits is empty", hint: "name at least one head, or leave exits out for all") }
        return model.exits.filter { names.contains($0.point.name) }
    }
}

/// The configured optimizer over `parameters`.
func makeOptimizer(_ c: PersonalisationConfig, parameters: [Parameter]) -> any Optimizer {
    switch c.optimizer {
    case .sgd: return SGD(parameters: parameters, learningRate: c.learningRate, momentum: c.momentum, weightDecay: c.weightDecay)
    case .adam: return Adam(parameters: parameters, learningRate: c.learningRate, weightDecay: c.weightDecay)
    }
}
