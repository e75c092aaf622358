import ArgumentParser
import Datasets
import Foundation
import Personalisation
import Training

/// `persephone personalise`: the method on simulated users of a dataset (docs/personalisation.md,
/// docs/orchestrator.md): per user, the global model against personalised exits, the exits
/// the orchestrator enables, the early-exit policy's accuracy, FLOPs and latency, and the cost
/// of exit personalisation against whole-network fine-tuning.
struct PersonaliseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "personalise",
        abstract: "Personalise a checkpoint's early exits for simulated users and report accuracy, selection, policy and cost.",
        discussion: """
            The checkpoint needs exits (persephone exits train). --split is classes:K, \
            classes:0,1,2;3,4,5, superclass, superclass:random or dirichlet:ALPHA (docs/users.md). \
            Users run one after another; each reports its own line as it finishes.
            """)

    @Option(help: "Model checkpoint with exits (.safetensors from exits train).") var checkpoint: String
    @Option(help: "Dataset tree (the directory holding dataset.json).") var dataset: String
    @Option(help: "User split: classes:K, classes:0,1,2;3,4,5, superclass or dirichlet:ALPHA.")
    var split = "classes:\(UserSplitSpec().classesPerUser)"
    @Option(help: "Number of users.") var users = UserSplitSpec().users
    @Option(help: "Samples per user from the train split, validation included.") var samples = UserSplitSpec().samplesPerUser
    @Option(help: "Labelled fraction of each user's samples.") var labelled = UserSplitSpec().labelledFraction
    @Option(help: "Test samples per user.") var test = UserSplitSpec().testSamplesPerUser
    @Option(help: "Loss mix: \(PersonalisationConfig.autoLossMix) (chosen by the labelled fraction: \(PersonalisationConfig.chosenLossMix(labelledFraction: 1)) from 10% up, \(PersonalisationConfig.chosenLossMix(labelledFraction: 0)) below), or one of \(PersonalisationConfig.lossMixes.joined(separator: ", ")).")
    var losses = PersonalisationConfig.autoLossMix
    @Option(help: "Epochs of exit personalisation (and of the fine-tuning baseline).") var epochs = PersonalisationConfig().epochs
    @Option(help: "Batch size of exit personalisation (and of the fine-tuning baseline).") var batch = PersonalisationConfig().batchSize
    @Option(help: "Learning rate of exit personalisation (SGD momentum 0.9, cosine).") var lr = PersonalisationConfig().learningRate
    @Option(name: .customLong("baseline-lr"), help: "Learning rate of whole-network fine-tuning (at 0.01 it diverged on the pretrained ResNet-20 within 4 epochs).")
    var baselineLR = PersonalisationConfig.wholeNetworkLearningRate
    @Option(help: "Seed of the user split and of personalisation.") var seed: UInt64 = 1
    @Option(name: .customLong("profile-basis"),
            help: "How the profiler scores exits on the validation share: labels:K (labels when at least K are labelled, else agreement with the final classifier) or mixed.")
    var profileBasis = BasisRule.default.spelling
    @Option(help: "Selection: enable exits whose profiled accuracy is within this many points (fraction) of the final classifier's.")
    var tolerance = SelectionRule().tolerance ?? 0
    @Flag(name: .customLong("no-baseline"), help: "Skip whole-network fine-tuning.") var noBaseline = false
    @Flag(help: "Print JSON instead of tables.") var json = false

    func validate() throws {
        guard users >= 1, samples >= 2, test >= 1, epochs >= 1 else {
            throw ValidationError("--users, --test and --epochs must be at least 1, --samples at least 2")
        }
        guard (0...1).contains(labelled) else { throw ValidationError("--labelled must be in [0, 1], got \(labelled)") }
        var probe = PersonalisationConfig()
        do { try probe.setLossMix(losses, labelledFraction: labelled) } catch { throw ValidationError("--losses: \(error)") }
        _ = try basisRule()
        guard tolerance >= 0 else { throw ValidationError("--tolerance must be at least 0") }
    }

    func basisRule() throws -> BasisRule {
        guard let rule = BasisRule(spelling: profileBasis) else {
            throw ValidationError("--profile-basis '\(profileBasis)': use labels:K (K >= 0) or mixed")
        }
        return rule
    }

    func options() throws -> UserPipelineOptions {
        var config = PersonalisationConfig()
        try config.setLossMix(losses, labelledFraction: labelled)
        config.epochs = epochs
        config.batchSize = batch
        config.seed = seed
        config.learningRate = lr
        try config.validate()
        var baselineConfig = config
        baselineConfig.learningRate = baselineLR
        try baselineConfig.validate()
        let profiler = ProfilerOptions(basis: try basisRule())
        let orchestrator = OrchestratorOptions(selection: SelectionRule(tolerance: tolerance, target: nil))
        return UserPipelineOptions(personalisation: config, profiler: profiler, orchestrator: orchestrator,
                                   baseline: !noBaseline, baselineConfiguration: baselineConfig)
    }

    func run() throws {
        try DatasetsCLI.reportingErrors {
            let options = try options()
            let model = try ModelCheckpoint.load(from: URL(fileURLWithPath: checkpoint))
            guard !model.exits.isEmpty else {
                throw TrainingError(subject: checkpoint, message: "has no exits",
                                    hint: "attach and train exits first: persephone exits train --checkpoint \(checkpoint) ...")
            }
            let tree = try DatasetTree(root: dataset)
            let train = try tree.load(split: "train", log: DatasetsCLI.note).split
            let testSplit = try tree.load(split: "test", log: DatasetsCLI.note).split
            try EvaluateCommand.checkCompatible(model, tree: tree, imageShape: Array(train.images.shape.dropFirst()),
                                                checkpoint: checkpoint)
            var spec = UserSplitSpec()
            try spec.apply(splitSyntax: split)
            if spec.userClasses == nil { spec.users = users }
            spec.samplesPerUser = samples
            spec.labelledFraction = labelled
            spec.testSamplesPerUser = test
            let userSplit = try UserSplit(spec: spec, seed: seed, train: train, test: testSplit)
            var results: [UserPipelineResult] = []
            for user in userSplit.users {
                let result = try UserPipeline.run(model: model, user: user, train: train, test: testSplit, options: options)
                results.append(result)
                if !json { FileHandle.standardError.write(Data((PersonaliseReport.progressLine(result) + "\n").utf8)) }
            }
            if json {
                print(try PersonaliseReport.json(results, checkpoint: checkpoint, dataset: tree.manifest.name, command: self))
            } else {
                print(PersonaliseReport.text(results, classNames: tree.manifest.classes.map(\.name), command: self))
            }
        }
    }
}
