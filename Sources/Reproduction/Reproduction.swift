// The paper's five experiments as registered experiment kinds (docs/experiments.md).
import Codecs
import Datasets
import Experiments
import Foundation
import Personalisation
import Training

extension ExperimentRegistry {
    /// The kinds `persephone run` ships: the five experiments of the paper.
    public static var persephone: ExperimentRegistry {
        var registry = ExperimentRegistry()
        registry.register(GlobalVsPersonal.experiment)
        registry.register(LabelAvailability.experiment)
        registry.register(TrainingCost.experiment)
        registry.register(DataGrowth.experiment)
        registry.register(LatencyAccuracy.experiment)
        return registry
    }
}

/// `data:` — the checkpoint, the dataset and the simulated users every experiment shares.
public struct DataSection: Codable, Sendable, Equatable {
    /// A checkpoint with exits (`persephone exits train`), relative to the working directory.
    public var checkpoint = "checkpoints/fashion-mnist/resnet20.safetensors"
    /// A dataset tree (the directory holding dataset.json).
    public var dataset = "datasets/fashion-mnist"
    /// The user split in `persephone personalise --split` syntax (docs/users.md).
    public var split = "classes:\(UserSplitSpec().classesPerUser)"
    public var users = UserSplitSpec().users
    /// Training samples per user from the train split, the validation share included.
    public var samples = UserSplitSpec().samplesPerUser
    /// Test samples per user from the test split.
    public var test = UserSplitSpec().testSamplesPerUser
    /// Labelled fraction of each user's samples.
    public var labelled = UserSplitSpec().labelledFraction

    public init() {}

    static let reasons: [String: String] = [
        "checkpoint": "the committed ResNet-20 (20 epochs, one exit per stage; `make pretrain` retrains it); the other committed backbone is checkpoints/fashion-mnist/mobilenetv2.safetensors",
        "dataset": "the tree `make import-fashion-mnist` writes",
        "split": "\(UserSplitSpec().classesPerUser) of the classes per user (UserSplitSpec.classesPerUser): class-subset users, the skew personalisation exploits (docs/users.md)",
        "users": "\(UserSplitSpec().users) users (UserSplitSpec.users); the spec files set the paper scale's count per claim, experiments/scales/ the smoke and full scales'",
        "samples": "\(UserSplitSpec().samplesPerUser) samples per user (UserSplitSpec.samplesPerUser), \(Int(UserSplitSpec().validationFraction * 100))% of them the profiler's validation share",
        "test": "\(UserSplitSpec().testSamplesPerUser) test samples per user (UserSplitSpec.testSamplesPerUser): accuracy in steps of 0.5 points, narrowed by the mean over users",
        "labelled": "every sample labelled: the paper's main setting (label-availability sweeps it)",
    ]

    func validate(prefix: String) throws {
        func bad(_ key: String, _ message: String, _ hint: String) -> SpecConstraintViolation {
            SpecConstraintViolation(key: prefix + key, message, hint: hint)
        }
        guard !checkpoint.isEmpty else { throw bad("checkpoint", "must name a file", "give the .safetensors path of a model with exits") }
        guard !dataset.isEmpty else { throw bad("dataset", "must name a directory", "give the dataset tree's directory") }
        do { var s = UserSplitSpec(); try s.apply(splitSyntax: split) } catch {
            throw bad("split", "`\(split)` is not a user split", "write classes:K, classes:0,1,2;3,4,5, superclass, superclass:random or dirichlet:ALPHA")
        }
        guard users >= 1 else { throw bad("users", "must be at least 1", "use 1 or more users") }
        guard samples >= 10 else { throw bad("samples", "must be at least 10", "a user needs train and validation samples; use 10 or more") }
        guard test >= 1 else { throw bad("test", "must be at least 1", "use 1 or more test samples per user") }
        guard (0...1).contains(labelled) else { throw bad("labelled", "must be in [0, 1]", "use a fraction such as 0.1") }
    }
}

/// An experiment configuration with a `data:` section: its inputs are that section's files.
protocol DataSectionConfig: ExperimentConfig {
    var data: DataSection { get }
}

extension DataSectionConfig {
    public func inputFingerprints() -> [String: String] { data.inputFingerprints() }
    public func checkInputs() throws { try data.checkInputs() }
}

extension DataSection {
    /// The checkpoint exists, loads and has exits; the dataset tree exists, has the
    /// checkpoint's classes and image shape, and enough images for the users (disjoint
    /// training samples, `test` test samples each). Checked once per distinct data section.
    func checkInputs() throws {
        let fingerprints = InputFingerprints.of(self)
        try passedInputChecks.value("\(checkpoint)|\(dataset)|\(split)|\(users)|\(samples)|\(test)|\(fingerprints)") {
            guard FileManager.default.fileExists(atPath: checkpoint) else {
                throw RunError("data.checkpoint: \(checkpoint) does not exist",
                               hint: "make it (`make pretrain`, or `persephone exits train`), or point data.checkpoint at a model with exits")
            }
            let model: MultiExitModel
            do { model = try ModelCheckpoint.load(from: URL(fileURLWithPath: checkpoint)) } catch {
                throw RunError("data.checkpoint: \(checkpoint) cannot be loaded: \(error)", hint: "point data.checkpoint at a model written by `persephone exits train`")
            }
            guard !model.exits.isEmpty else {
                throw RunError("data.checkpoint: \(checkpoint) has no exits",
                               hint: "attach and train exits first: persephone exits train --checkpoint \(checkpoint) ...")
            }
            let manifest: DatasetManifest
            do { manifest = try DatasetManifest.read(directory: dataset) } catch {
                throw RunError("data.dataset: \(dataset) is not a dataset tree: \(error)",
                               hint: "import one (`make import-fashion-mnist`, `persephone datasets import`) or point data.dataset at a tree")
            }
            guard manifest.classes.count == model.backbone.classes, manifest.imageShape == model.backbone.inputShape else {
                throw RunError("data.dataset: \(dataset) has \(manifest.classes.count) classes of \(manifest.imageShape) images; \(checkpoint) classifies \(model.backbone.classes) classes of \(model.backbone.inputShape)",
                               hint: "use the dataset the model was trained on (\(model.dataset.name))")
            }
            let users = try userCount()
            let trainImages = manifest.splits.first { $0.name == "train" }?.count ?? 0
            let testImages = manifest.splits.first { $0.name == "test" }?.count ?? 0
            guard users * samples <= trainImages else {
                throw RunError("data.samples: \(users) users x \(samples) samples need \(users * samples) train images; \(dataset) has \(trainImages)",
                               hint: "lower data.samples or data.users")
            }
            guard test <= testImages else {
                throw RunError("data.test: \(test) test samples per user; \(dataset) has \(testImages) test images",
                               hint: "lower data.test")
            }
        }
    }

    /// `checkpoint` -> `fnv1a64:` of its bytes; `dataset` -> the tree checksum computed from
    /// its images now (`DatasetTree.fingerprint`). `missing` when unreadable.
    func inputFingerprints() -> [String: String] {
        var fingerprints: [String: String] = [:]
        if let bytes = FileManager.default.contents(atPath: checkpoint) {
            fingerprints[checkpoint] = "fnv1a64:" + FNV1a.hex(FNV1a.hash(bytes))
        } else {
            fingerprints[checkpoint] = "missing"
        }
        fingerprints[dataset] = DatasetTree.fingerprint(directory: dataset)
        return fingerprints
    }
}

/// Which terms the exit loss mixes (docs/personalisation.md), spelled as
/// `PersonalisationConfig.lossMixes` (`sup`, `sup+selfsup`, ...), or `auto`: the mix
/// `PersonalisationConfig.chosenLossMix` states for the point's labelled fraction.
public enum LossSet: String, SpecChoice {
    case auto
    case sup
    case selfsup
    case distill
    case supSelfsup = "sup+selfsup"
    case supDistill = "sup+distill"
    case selfsupDistill = "selfsup+distill"
    case all = "sup+selfsup+distill"

    /// The terms at labelled fraction `labelled` (which only `auto` reads).
    func terms(labelled: Double) -> (sup: Bool, selfsup: Bool, distill: Bool) {
        var c = PersonalisationConfig()
        try! c.setLossMix(rawValue, labelledFraction: labelled)  // every case is `auto` or one of PersonalisationConfig.lossMixes (tested)
        return (c.supervised, c.selfSupervision, c.distillation)
    }
}

/// `train:` — on-device personalisation of the exits (and of the whole network, for the baseline).
public struct TrainSection: Codable, Sendable, Equatable {
    public var epochs = PersonalisationConfig().epochs
    public var batch = PersonalisationConfig().batchSize
    public var lr = decimal(PersonalisationConfig().learningRate)
    /// Peak learning rate of the whole-network fine-tuning baseline.
    public var baselineLR = decimal(PersonalisationConfig.wholeNetworkLearningRate)
    public var losses = LossSet(rawValue: PersonalisationConfig.autoLossMix)!
    /// The bound on the exits' feature cache, MiB: over it the backbone is recomputed per batch.
    public var featureCacheMB = PersonalisationConfig().memoryBudgetBytes >> 20

    public init() {}

    enum CodingKeys: String, CodingKey {
        case epochs, batch, lr, losses
        case baselineLR = "baseline_lr"
        case featureCacheMB = "feature_cache_mb"
    }

    static let reasons: [String: String] = [
        "epochs": "\(PersonalisationConfig().epochs), the engine's default (PersonalisationConfig.epochs); the smoke scale uses fewer",
        "batch": "\(PersonalisationConfig().batchSize), the engine's default (PersonalisationConfig.batchSize)",
        "lr": "\(PersonalisationConfig().learningRate) peak of the cosine schedule for the exit heads, the engine's default (SGD, momentum 0.9)",
        "baseline_lr": "\(PersonalisationConfig.wholeNetworkLearningRate) for whole-network fine-tuning (PersonalisationConfig.wholeNetworkLearningRate; same schedule and optimiser): at the heads' 0.01 it diverged within 4 epochs on the pretrained ResNet-20 (docs/personalisation.md)",
        "feature_cache_mb": "\(PersonalisationConfig().memoryBudgetBytes >> 20) MiB (PersonalisationConfig.memoryBudgetBytes): the exits' cached backbone features may take this much; over it the backbone runs again per batch (same results, more FLOPs), so a device's memory can be bounded",
        "losses": "auto: the mix stated per labelled fraction (PersonalisationConfig.chosenLossMix: `sup` from 10% labelled up, `sup+selfsup` below), taken from label-availability's results (docs/personalisation.md, \"Which loss mix\")",
    ]

    func validate(prefix: String) throws {
        guard epochs >= 1 else { throw SpecConstraintViolation(key: prefix + "epochs", "must be at least 1", hint: "use 1 or more epochs") }
        guard batch >= 2 else { throw SpecConstraintViolation(key: prefix + "batch", "must be at least 2", hint: "batch norm in the heads needs 2 or more") }
        guard lr > 0 else { throw SpecConstraintViolation(key: prefix + "lr", "must be positive", hint: "use a step size such as 0.01") }
        guard featureCacheMB >= 0 else {
            throw SpecConstraintViolation(key: prefix + "feature_cache_mb", "must be at least 0", hint: "0 caches nothing (the backbone runs every batch)")
        }
        guard baselineLR > 0 else {
            throw SpecConstraintViolation(key: prefix + "baseline_lr", "must be positive", hint: "use a step size such as 0.001")
        }
    }

    /// The engine's configuration for this section at labelled fraction `labelled` (what
    /// `losses: auto` chooses by), `seed` and user `user` (each user's heads start from
    /// their own draw: the seed offset by the user's index).
    func personalisation(labelled: Double, seed: Int, user: Int) -> PersonalisationConfig {
        var c = PersonalisationConfig()
        c.epochs = epochs
        c.batchSize = batch
        c.learningRate = Float(lr)
        c.memoryBudgetBytes = featureCacheMB << 20
        let t = losses.terms(labelled: labelled)
        c.supervised = t.sup
        c.selfSupervision = t.selfsup
        c.distillation = t.distill
        c.seed = UInt64(seed) &+ UInt64(user)
        return c
    }

    /// The whole-network fine-tuning baseline's configuration: the exits' `config` (same
    /// data, epochs, batch, losses and seed) with `baseline_lr` as its learning rate.
    func baseline(_ config: PersonalisationConfig) -> PersonalisationConfig {
        var c = config
        c.learningRate = Float(baselineLR)
        return c
    }
}

/// The Double a Float's shortest decimal spells (0.01 for Float 0.01, not 0.009999999776...):
/// spec values are decimals, so a default taken from the engine's Float must read as one.
func decimal(_ value: Float) -> Double { Double("\(value)")! }

/// `orchestrator:` — profiling and exit selection.
public struct OrchestratorSection: Codable, Sendable, Equatable {
    /// `labels:K` or `mixed` (see `persephone personalise --profile-basis`).
    public var basis = BasisRule.default.spelling
    /// Enable exits whose profiled accuracy is within this fraction of the final classifier's.
    public var tolerance = SelectionRule().tolerance ?? 0

    public init() {}

    static let reasons: [String: String] = [
        "basis": "labels when at least 20 validation samples are labelled, else agreement with the final classifier (the profiler's default)",
        "tolerance": "1 point, the orchestrator's default selection tolerance (docs/orchestrator.md)",
    ]

    func validate(prefix: String) throws {
        _ = try rule(prefix: prefix)
        guard tolerance >= 0 else {
            throw SpecConstraintViolation(key: prefix + "tolerance", "must be at least 0", hint: "use a fraction such as 0.01")
        }
    }

    func rule(prefix: String = "orchestrator.") throws -> BasisRule {
        guard let rule = BasisRule(spelling: basis) else {
            throw SpecConstraintViolation(key: prefix + "basis", "`\(basis)` is not a basis rule", hint: "write labels:K (K >= 0) or mixed")
        }
        return rule
    }

    func options(rule: BasisRule) -> (ProfilerOptions, OrchestratorOptions) {
        (ProfilerOptions(basis: rule, latency: nil),
         OrchestratorOptions(selection: SelectionRule(tolerance: tolerance, target: nil)))
    }
}

/// Keys with a prefix, for `keyReasons` of configurations built from the shared sections.
func prefixed(_ reasons: [String: String], _ prefix: String) -> [String: String] {
    Dictionary(uniqueKeysWithValues: reasons.map { (prefix + $0.key, $0.value) })
}

/// `keyReasons` of a configuration built from the shared sections: `data.*`, `train.*`,
/// `orchestrator.*` when it has one, `seeds`, and the configuration's own keys.
func sectionKeyReasons(orchestrator: Bool = false, own: [String: String] = [:]) -> [String: String] {
    var reasons = prefixed(DataSection.reasons, "data.").merging(prefixed(TrainSection.reasons, "train."),
                                                                 uniquingKeysWith: { a, _ in a })
    if orchestrator {
        reasons.merge(prefixed(OrchestratorSection.reasons, "orchestrator."), uniquingKeysWith: { a, _ in a })
    }
    return reasons.merging(["seeds": seedsReason], uniquingKeysWith: { a, _ in a })
        .merging(own, uniquingKeysWith: { a, _ in a })
}

let seedsReason = "one seed at the smoke and paper scales (three at full); the seed draws the users and the heads' training order (summaries are over users x seeds)"

func validateSeeds(_ seeds: [Int]) throws {
    guard !seeds.isEmpty, Set(seeds).count == seeds.count, seeds.allSatisfy({ $0 >= 0 }) else {
        throw SpecConstraintViolation(key: "seeds", "must be a non-empty list of distinct non-negative integers",
                                      hint: "write seeds: [1, 2, 3]")
    }
}

/// What a point works on: the checkpoint's model (loaded afresh per point: layers keep
/// per-pass state, so a model is never shared between threads) and the dataset's splits
/// (shared read-only between points of one process).
struct Workload {
    let model: MultiExitModel
    let train: DatasetSplit
    let test: DatasetSplit

    static func load(_ data: DataSection) throws -> Workload {
        let checkpoint = URL(fileURLWithPath: data.checkpoint)
        guard FileManager.default.fileExists(atPath: checkpoint.path) else {
            throw TrainingError(subject: data.checkpoint, message: "does not exist",
                                hint: "restore the committed checkpoints (`git checkout checkpoints`), run `make pretrain`, or set data.checkpoint to a model with exits")
        }
        let model = try ModelCheckpoint.load(from: checkpoint)
        guard !model.exits.isEmpty else {
            throw TrainingError(subject: data.checkpoint, message: "has no exits",
                                hint: "attach and train exits first: persephone exits train --checkpoint \(data.checkpoint) ...")
        }
        let (train, test) = try decodedSplits.value(data.dataset) {
            let tree = try DatasetTree(root: data.dataset)
            return (try tree.load(split: "train").split, try tree.load(split: "test").split)
        }
        guard train.classNames.count == model.backbone.classes,
              Array(train.images.shape.dropFirst()) == model.backbone.inputShape else {
            throw TrainingError(subject: data.dataset,
                                message: "has \(train.classNames.count) classes of \(Array(train.images.shape.dropFirst())) images; \(data.checkpoint) classifies \(model.backbone.classes) classes of \(model.backbone.inputShape)",
                                hint: "use the dataset the model was trained on (\(model.dataset.name))")
        }
        return Workload(model: model, train: train, test: test)
    }

    /// The simulated users of `data` drawn with `seed` (drawn once per process and kept).
    func users(_ data: DataSection, seed: Int) throws -> [SimulatedUser] {
        let key = "\(data.dataset)|\(data.split)|\(data.users)|\(data.samples)|\(data.test)|\(data.labelled)|\(seed)"
        return try drawnUsers.value(key) {
            try UserSplit(spec: data.userSplitSpec(), seed: UInt64(seed), train: train, test: test).users
        }
    }

    /// User `index` of `users(data, seed:)`.
    func user(_ data: DataSection, seed: Int, index: Int) throws -> SimulatedUser {
        let all = try users(data, seed: seed)
        guard all.indices.contains(index) else {
            throw TrainingError(subject: "data.users", message: "user \(index) does not exist: the split deals \(all.count) users",
                                hint: "use a user index below \(all.count)")
        }
        return all[index]
    }
}

extension DataSection {
    /// The user split this section describes.
    func userSplitSpec() throws -> UserSplitSpec {
        var spec = UserSplitSpec()
        try spec.apply(splitSyntax: split)
        if spec.userClasses == nil { spec.users = users }
        spec.samplesPerUser = samples
        spec.labelledFraction = labelled
        spec.testSamplesPerUser = test
        return spec
    }

    /// How many users the split deals (explicit class groups fix it; else `users`).
    func userCount() throws -> Int {
        try userSplitSpec().userClasses?.count ?? users
    }
}

/// Values computed once per process by key: the memos a sweep's points and units share
/// (decoded splits, drawn users, passed input checks, input fingerprints). The lock is held
/// while a value is computed, so two threads never compute one twice; a failure is not kept.
final class ProcessMemo<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: Value] = [:]

    func value(_ key: String, compute: () throws -> Value) rethrows -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let hit = values[key] { return hit }
        let value = try compute()
        values[key] = value
        return value
    }
}

/// Drawn users by (data section, seed), so the units of one split share one draw.
let drawnUsers = ProcessMemo<[SimulatedUser]>()

/// Input checks already passed, by data section and file fingerprints: a sweep of many
/// points over one data section checks its files once.
let passedInputChecks = ProcessMemo<Void>()

/// Decoded dataset splits by tree path, loaded once per process (a sweep's points share them).
let decodedSplits = ProcessMemo<(train: DatasetSplit, test: DatasetSplit)>()
