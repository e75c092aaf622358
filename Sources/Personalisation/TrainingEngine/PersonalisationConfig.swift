import Codecs
import Foundation
import Training

/// Everything that determines one on-device personalisation (of the exit heads, or of the
/// whole network for the baseline), so a seed and this struct fix a run bit for bit.
/// `Codable`: JSON keys are the field names; an absent key takes its default, an unknown
/// key is a decoding error listing the known ones. Defaults and why: docs/personalisation.md.
public struct PersonalisationConfig: Codable, Equatable, Sendable {
    /// Optimizers the engine offers.
    public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
        /// SGD with `momentum` and L2 weight decay (torch.optim.SGD).
        case sgd
        /// Adam with L2 weight decay added to the gradient (torch.optim.Adam).
        case adam
    }

    /// How the whole-network baseline treats batch normalisation.
    public enum BatchNormMode: String, Codable, Sendable, CaseIterable {
        /// BN layers frozen: running statistics used and kept, affine parameters not trained.
        case eval
        /// BN layers trained: batch statistics, running statistics updated, affine trained.
        case train
    }

    /// Passes over the user's training samples.
    public var epochs: Int = 20
    public var batchSize: Int = 32
    public var optimizer: OptimizerKind = .sgd
    /// Peak learning rate of the per-step cosine schedule (decays to 0 over all steps).
    public var learningRate: Float = 0.01
    /// SGD momentum (ignored by Adam).
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4

    /// Cross-entropy on the labelled samples' true labels.
    public var supervised: Bool = true
    /// Relative weight of a labelled sample in the hard-label term.
    public var supervisedWeight: Float = 1
    /// Cross-entropy on unlabelled samples against the final classifier's argmax.
    public var selfSupervision: Bool = true
    /// Relative weight of a pseudo-labelled sample in the hard-label term.
    public var selfSupervisionWeight: Float = 1
    /// An unlabelled sample gets its pseudo-label only when the final classifier's top-1
    /// softmax probability is at least this; otherwise it is masked (0: never masked).
    public var confidenceThreshold: Float = 0
    /// Self-distillation from the final classifier (Phuong & Lampert 2019).
    public var distillation: Bool = true
    /// Softmax temperature T of the distillation term (student and teacher alike).
    public var temperature: Float = 3
    /// C: the loss is (1 - C) * hard-label term + C * T^2 * soft cross-entropy when
    /// distillation is on, the hard-label term alone otherwise.
    public var distillationWeight: Float = 0.5

    /// Start from freshly drawn heads of the same kinds instead of the offline-trained ones.
    public var fromScratch: Bool = false
    /// Exit points to personalise (names such as `block2`); nil: every head of the model.
    public var exits: [String]? = nil
    public var seed: UInt64 = 1
    /// Largest feature cache kept in memory; above it the backbone runs again per batch.
    public var memoryBudgetBytes: Int = 2 << 30
    /// Batch size of the backbone passes that fill the cache and of evaluation.
    public var extractionBatchSize: Int = 256
    /// Whole-network baseline only.
    public var batchNorm: BatchNormMode = .eval

    public init() {}

    /// Whether any loss term needs the final classifier's outputs (the teacher).
    public var needsTeacher: Bool { selfSupervision || distillation }

    /// The weight of the hard-label term: 1 - C with distillation, else 1.
    public var hardLabelScale: Float { distillation ? 1 - distillationWeight : 1 }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, batchSize, optimizer, learningRate, momentum, weightDecay, supervised, supervisedWeight,
             selfSupervision, selfSupervisionWeight, confidenceThreshold, distillation, temperature,
             distillationWeight, fromScratch, exits, seed, memoryBudgetBytes, extractionBatchSize, batchNorm
    }

    public init(from decoder: Decoder) throws {
        try rejectUnknownKeys(in: decoder, CodingKeys.self, what: "personalisation")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = PersonalisationConfig()
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try c.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        epochs = try value(.epochs, d.epochs)
        batchSize = try value(.batchSize, d.batchSize)
        optimizer = try value(.optimizer, d.optimizer)
        learningRate = try value(.learningRate, d.learningRate)
        momentum = try value(.momentum, d.momentum)
        weightDecay = try value(.weightDecay, d.weightDecay)
        supervised = try value(.supervised, d.supervised)
        supervisedWeight = try value(.supervisedWeight, d.supervisedWeight)
        selfSupervision = try value(.selfSupervision, d.selfSupervision)
        selfSupervisionWeight = try value(.selfSupervisionWeight, d.selfSupervisionWeight)
        confidenceThreshold = try value(.confidenceThreshold, d.confidenceThreshold)
        distillation = try value(.distillation, d.distillation)
        temperature = try value(.temperature, d.temperature)
        distillationWeight = try value(.distillationWeight, d.distillationWeight)
        fromScratch = try value(.fromScratch, d.fromScratch)
        exits = try c.decodeIfPresent([String].self, forKey: .exits)
        seed = try value(.seed, d.seed)
        memoryBudgetBytes = try value(.memoryBudgetBytes, d.memoryBudgetBytes)
        extractionBatchSize = try value(.extractionBatchSize, d.extractionBatchSize)
        batchNorm = try value(.batchNorm, d.batchNorm)
    }

    /// Why the configuration cannot run, naming the key, or nil.
    public var problem: String? {
        if epochs < 1 { return "epochs must be at least 1, got \(epochs)" }
        if batchSize < 2 { return "batchSize must be at least 2 (batch norm in the heads), got \(batchSize)" }
        if !(learningRate > 0 && learningRate.isFinite) { return "learningRate must be positive, got \(learningRate)" }
        if !(momentum >= 0 && momentum < 1) { return "momentum must be in [0, 1), got \(momentum)" }
        if !(weightDecay >= 0 && weightDecay.isFinite) { return "weightDecay must be >= 0, got \(weightDecay)" }
        if !(supervisedWeight >= 0 && supervisedWeight.isFinite) { return "supervisedWeight must be >= 0, got \(supervisedWeight)" }
        if !(selfSupervisionWeight >= 0 && selfSupervisionWeight.isFinite) {
            return "selfSupervisionWeight must be >= 0, got \(selfSupervisionWeight)"
        }
        if !(confidenceThreshold >= 0 && confidenceThreshold <= 1) {
            return "confidenceThreshold must be in [0, 1], got \(confidenceThreshold)"
        }
        if !(temperature > 0 && temperature.isFinite) { return "temperature must be positive, got \(temperature)" }
        if !(distillationWeight >= 0 && distillationWeight <= 1) {
            return "distillationWeight must be in [0, 1], got \(distillationWeight)"
        }
        if let exits, Set(exits).count != exits.count { return "exits \(exits) repeat a point" }
        if memoryBudgetBytes < 0 { return "memoryBudgetBytes must be >= 0, got \(memoryBudgetBytes)" }
        if extractionBatchSize < 1 { return "extractionBatchSize must be at least 1, got \(extractionBatchSize)" }
        return nil
    }

    /// Throws the problem, if any, as an error naming the configuration.
    public func validate() throws {
        if let problem {
            throw TrainingError(subject: "personalisation config", message: problem, hint: "fix the key (docs/personalisation.md)")
        }
    }
}

extension PersonalisationConfig {
    /// The loss mixes, spelled as everywhere in the harness (spec key `train.losses`,
    /// `persephone personalise --losses`): the terms joined by `+` in this order.
    public static let lossMixes = ["sup", "selfsup", "distill", "sup+selfsup", "sup+distill", "selfsup+distill",
                                   "sup+selfsup+distill"]

    /// The peak learning rate of whole-network fine-tuning (the paper's baseline), same
    /// schedule and optimiser as the heads: at the heads' 0.01 it diverged within 4 epochs
    /// on the pretrained ResNet-20 (docs/personalisation.md).
    public static let wholeNetworkLearningRate: Float = 0.001

    /// The terms switched on, as a loss-mix name (`sup+selfsup+distill` by default).
    public var lossMix: String {
        get {
            [supervised ? "sup" : nil, selfSupervision ? "selfsup" : nil, distillation ? "distill" : nil]
                .compactMap { $0 }.joined(separator: "+")
        }
    }

    /// `auto`: the loss mix chosen per labelled fraction (`chosenLossMix`), the default of
    /// the spec key `train.losses` and of `persephone personalise --losses`.
    public static let autoLossMix = "auto"

    /// The loss mix `auto` trains with at a labelled fraction: a choice taken from the
    /// label-availability experiment at the paper scale (ResNet-20, 5 users, 400 training
    /// samples each, 20 epochs; docs/personalisation.md, "Which loss mix"), the mix whose
    /// deepest exit was the most accurate at that fraction:
    /// - at least 10% labelled (40 labels and more): `sup`. Distillation pulls the exits
    ///   towards the final classifier's mistakes (block8 98.1% with `sup`, 95.9% with
    ///   `sup+distill` at 100% labels; 98.0% against 93.8-95.6% for the other mixes at 10%),
    ///   and the pseudo-labels of self-supervision add the final classifier's errors.
    /// - below (at 1%, 4 labels; or none): `sup+selfsup`: too few labels to learn from
    ///   (`sup` 86.7% at 1%, below the global model's 92.8%), and the final classifier's
    ///   pseudo-labels on the unlabelled samples give 95.0%.
    public static func chosenLossMix(labelledFraction: Double) -> String {
        labelledFraction >= 0.1 ? "sup" : "sup+selfsup"
    }

    /// Switches the terms named by `mix` on and the others off; `auto` picks the mix by
    /// `labelledFraction` (required for it).
    public mutating func setLossMix(_ mix: String, labelledFraction: Double? = nil) throws {
        if mix == Self.autoLossMix {
            guard let labelledFraction else {
                throw TrainingError(subject: "loss mix", message: "`auto` chooses by the labelled fraction, and none was given",
                                    hint: "name a loss mix: \(Self.lossMixes.joined(separator: ", "))")
            }
            return try setLossMix(Self.chosenLossMix(labelledFraction: labelledFraction))
        }
        guard Self.lossMixes.contains(mix) else {
            throw TrainingError(subject: "loss mix", message: "`\(mix)` is not a loss mix",
                                hint: "choose one of: \(([Self.autoLossMix] + Self.lossMixes).joined(separator: ", "))")
        }
        let terms = Set(mix.split(separator: "+").map(String.init))
        supervised = terms.contains("sup")
        selfSupervision = terms.contains("selfsup")
        distillation = terms.contains("distill")
    }
}
