import ArgumentParser
import Datasets
import Foundation
import Models
import Training

/// `persephone evaluate`: accuracy and cost of every classifier of a checkpoint.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Accuracy of the final classifier and every exit of a checkpoint, with cumulative FLOPs.")

    @Option(help: "Model checkpoint (.safetensors from pretrain or exits train).") var checkpoint: String
    @Option(help: "Dataset tree (the directory holding dataset.json).") var dataset: String
    @Option(help: "Split to evaluate.") var split = "test"
    @Option(help: "Inference batch size.") var batch = 256
    @Flag(help: "Print JSON instead of a table.") var json = false
    @Option(help: "Write per-sample predictions (index, label, per classifier class and confidence) to this .csv.zst.")
    var predictions: String?

    func validate() throws {
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        try DatasetsCLI.reportingErrors {
            if let predictions { try TrainingError.checkWritable(URL(fileURLWithPath: predictions)) }
            let model = try ModelCheckpoint.load(from: URL(fileURLWithPath: checkpoint))
            let tree = try DatasetTree(root: dataset)
            let data = try tree.load(split: split, log: DatasetsCLI.note).split
            try EvaluateCommand.checkCompatible(model, tree: tree, imageShape: Array(data.images.shape.dropFirst()),
                                                checkpoint: checkpoint)
            let result = Evaluation.evaluate(model, on: data, batchSize: batch, keepPredictions: predictions != nil)
            if let predictions { try PredictionsTable.write(result, to: predictions) }
            if json {
                print(EvaluateCommand.json(result, model: model, checkpoint: checkpoint, dataset: tree.manifest.name, split: split))
            } else {
                print("\(checkpoint) on \(tree.manifest.name)/\(split) (\(data.count) images)")
                print(EvaluateCommand.table(result, model: model))
            }
        }
    }

    /// Refuses a dataset of other classes or image shape; notes another checksum.
    static func checkCompatible(_ model: MultiExitModel, tree: DatasetTree, imageShape: [Int], checkpoint: String) throws {
        let m = tree.manifest
        guard m.classes.count == model.backbone.classes, imageShape == model.backbone.inputShape else {
            throw TrainingError(subject: tree.root,
                                message: "has \(m.classes.count) classes of \(imageShape) images; \(checkpoint) classifies \(model.backbone.classes) classes of \(model.backbone.inputShape)",
                                hint: "use the dataset the model was trained on (\(model.dataset.name))")
        }
        if m.checksum != model.dataset.checksum {
            DatasetsCLI.note("note: \(tree.root) has checksum \(m.checksum); \(checkpoint) was trained on \(model.dataset.name) with \(model.dataset.checksum)")
        }
    }

    /// classifier, point (backbone child), accuracy, cumulative MFLOPs and share of the full network.
    static func table(_ result: EvaluationResult, model: MultiExitModel) -> String {
        let full = Double(model.backbone.forwardFLOPs)
        var rows = [["classifier", "after", "head", "accuracy", "MFLOPs", "of full"]]
        for (i, r) in result.classifiers.enumerated() {
            let exit = i < model.exits.count ? model.exits[i] : nil
            rows.append([r.name, exit?.point.childName ?? "fc", exit?.kind.description ?? "-",
                         String(format: "%.2f%%", 100 * r.accuracy), String(format: "%.2f", Double(r.cumulativeFLOPs) / 1e6),
                         String(format: "%.1f%%", 100 * Double(r.cumulativeFLOPs) / full)])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max()! }
        return rows.map { row in
            row.enumerated().map { c, cell in
                c < 3 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
                      : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func json(_ result: EvaluationResult, model: MultiExitModel, checkpoint: String, dataset: String, split: String) -> String {
        let full = Double(model.backbone.forwardFLOPs)
        let object: [String: Any] = [
            "checkpoint": checkpoint, "dataset": dataset, "split": split, "samples": result.labels.count,
            "architecture": model.backbone.architecture,
            "classifiers": result.classifiers.enumerated().map { i, r -> [String: Any] in
                var entry: [String: Any] = ["name": r.name, "correct": r.correct, "total": r.total, "accuracy": r.accuracy,
                                            "cumulative_flops": r.cumulativeFLOPs,
                                            "flops_fraction": Double(r.cumulativeFLOPs) / full]
                if i < model.exits.count { entry["head"] = model.exits[i].kind.description; entry["after"] = model.exits[i].point.childName }
                return entry
            },
        ]
        // Strings, numbers and arrays of them always serialise.
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
