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
    @Option(help: "User split: classes:K, classes:0,1,2;3,4,5, superclass or dirichlet:ALPHA.") var split = "classes:3"
    @Option(help: "Number of users.") var users = 10
    @Option(help: "Samples per user from the train split, validation included.") var samples = 500
    @Option(help: "Labelled fraction of each user's samples.") var labelled = 1.0
    @Option(help: "Test samples per user.") var test = 200
    @Option(help: "Losses: any of sup, selfsup, distill, comma-separated.") var loss = "sup,selfsup,distill"
    @Option(help: "Epochs of exit personalisation (and of the fine-tuning baseline).") var epochs = 20
    @Option(help: "Learning rate of exit personalisation (SGD momentum 0.9, cosine).") var lr: Float = 0.01
    @Option(name: .customLong("baseline-lr"), help: "Learning rate of whole-network fine-tuning (at 0.01 it diverged on the pretrained ResNet-20 within 4 epochs).")
    var baselineLR: Float? = 0.001
    @Option(help: "Seed of the user split and of personalisation.") var seed: UInt64 = 1
    @Option(name: .customLong("profile-basis"),
            help: "How the profiler scores exits on the validation share: labels:K (labels when at least K are labelled, else agreement with the final classifier) or mixed.")
    var profileBasis = "labels:20"
    @Option(help: "Selection: enable exits whose profiled accuracy is within this many points (fraction) of the final classifier's.")
    var tolerance = 0.01
    @Flag(name: .customLong("no-baseline"), help: "Skip whole-network fine-tuning.") var noBaseline = false
    @Flag(help: "Print JSON instead of tables.") var json = false

    func validate() throws {
        guard users >= 1, samples >= 2, test >= 1, epochs >= 1 else {
            throw ValidationError("--users, --test and --epochs must be at least 1, --samples at least 2")
        }
        guard (0...1).contains(labelled) else { throw ValidationError("--labelled must be in [0, 1], got \(labelled)") }
        _ = try losses()
        _ = try basisRule()
        guard tolerance >= 0 else { throw ValidationError("--tolerance must be at least 0") }
    }

    func basisRule() throws -> BasisRule {
        if profileBasis == "mixed" { return .mixed }
        let parts = profileBasis.split(separator: ":")
        if parts.count == 2, parts[0] == "labels", let k = Int(parts[1]), k >= 0 { return .labelsWhenAtLeast(k) }
        throw ValidationError("--profile-basis '\(profileBasis)': use labels:K (K >= 0) or mixed")
    }

    func losses() throws -> Set<String> {
        let parts = Set(loss.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let known: Set<String> = ["sup", "selfsup", "distill"]
        guard !parts.isEmpty, parts.isSubset(of: known) else {
            throw ValidationError("--loss '\(loss)': use a comma-separated subset of sup, selfsup, distill")
        }
        return parts
    }

    func options() throws -> UserPipelineOptions {
        var config = PersonalisationConfig()
        let l = try losses()
        config.supervised = l.contains("sup")
        config.selfSupervision = l.contains("selfsup")
        config.distillation = l.contains("distill")
        config.epochs = epochs
        config.seed = seed
        config.learningRate = lr
        try config.validate()
        var baselineConfig = config
        if let baselineLR { baselineConfig.learningRate = baselineLR }
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
