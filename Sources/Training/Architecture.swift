import Models
import Tensor

/// The backbones `pretrain --arch` and checkpoints name, and how to rebuild one from the
/// hyperparameters a checkpoint's metadata carries (`Backbone.hyperparameters`).
///
/// Names: `resnet<depth>` for the CIFAR ResNet family (depth 6n + 2: `resnet8`, `resnet20`,
/// `resnet32`, `resnet56`, ...) and `mobilenetv2` for the small MobileNetV2.
public enum Architecture {
    /// The names `pretrain --arch` offers.
    public static let names = ["resnet8", "resnet20", "resnet32", "resnet56", "mobilenetv2"]

    /// Why `name` is not an architecture, or nil.
    public static func problem(with name: String) -> String? {
        if name == "mobilenetv2" { return nil }
        if name.hasPrefix("resnet"), let depth = Int(name.dropFirst("resnet".count)) {
            return ResNetConfiguration(depth: depth).problem
        }
        return "unknown architecture \"\(name)\"; known: \(names.joined(separator: ", "))"
    }

    /// A fresh backbone for a dataset of images (C, S, S) with `classes` classes.
    /// `widths` overrides the ResNet stage widths (default 16/32/64), `widthMultiplier`
    /// MobileNetV2's (default 0.5).
    public static func make(_ name: String, inputShape: [Int], classes: Int, widths: [Int]? = nil,
                            widthMultiplier: Double? = nil, generator: inout SeededGenerator) throws -> Backbone {
        if let problem = problem(with: name) { throw TrainingError(subject: name, message: problem, hint: "pick one of \(names.joined(separator: ", "))") }
        guard inputShape.count == 3, inputShape[1] == inputShape[2] else {
            throw TrainingError(subject: name, message: "images are \(inputShape) (C, H, W); the backbones need square images",
                                hint: "resize or crop the dataset to square images")
        }
        let (c, s) = (inputShape[0], inputShape[1])
        if name == "mobilenetv2" {
            let config = MobileNetV2Configuration(widthMultiplier: widthMultiplier ?? 0.5, inChannels: c, imageSize: s,
                                                  classes: classes)
            if let problem = config.problem { throw TrainingError(subject: name, message: problem, hint: "check the dataset and --width-multiplier") }
            return MobileNetV2.make(config, generator: &generator)
        }
        let depth = Int(name.dropFirst("resnet".count))!
        let config = ResNetConfiguration(depth: depth, widths: widths ?? [16, 32, 64], inChannels: c, imageSize: s,
                                         classes: classes)
        if let problem = config.problem { throw TrainingError(subject: name, message: problem, hint: "check the dataset and --widths") }
        return ResNet.make(config, generator: &generator)
    }

    /// Rebuilds the backbone a checkpoint describes. Weights come from `generator` and are
    /// meant to be overwritten by the checkpoint's tensors. `file` names the source in errors.
    public static func rebuild(_ name: String, hyperparameters h: [String: String], file: String) throws -> Backbone {
        func fail(_ message: String) -> TrainingError {
            TrainingError(subject: file, message: message,
                          hint: "the checkpoint's __metadata__ must come from `persephone pretrain` (docs/checkpoints-models.md)")
        }
        func int(_ key: String) throws -> Int {
            guard let text = h[key], let value = Int(text) else { throw fail("hyperparameter \(key) is missing or not an integer (\(h[key] ?? "absent"))") }
            return value
        }
        func ints(_ key: String, separator: Character) throws -> [Int] {
            guard let text = h[key] else { throw fail("hyperparameter \(key) is missing") }
            let values = text.split(separator: separator).map { Int($0) }
            guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { throw fail("hyperparameter \(key) = \"\(text)\" is not a list of integers") }
            return values.map { $0! }
        }
        var generator = SeededGenerator(seed: 0)
        if name == "mobilenetv2" {
            guard let m = h["width_multiplier"].flatMap(Double.init) else { throw fail("hyperparameter width_multiplier is missing or not a number") }
            guard let stageText = h["stages"] else { throw fail("hyperparameter stages is missing") }
            var stages: [(t: Int, c: Int, n: Int, s: Int)] = []
            for part in stageText.split(separator: ",") {
                let v = part.split(separator: "-").compactMap { Int($0) }
                guard v.count == 4 else { throw fail("hyperparameter stages = \"\(stageText)\" is not a list of t-c-n-s") }
                stages.append((v[0], v[1], v[2], v[3]))
            }
            let config = MobileNetV2Configuration(widthMultiplier: m, lastChannels: try int("last_channels"),
                                                  inChannels: try int("in_channels"), imageSize: try int("image_size"),
                                                  classes: try int("classes"), stages: stages)
            if let problem = config.problem { throw fail(problem) }
            return MobileNetV2.make(config, generator: &generator)
        }
        guard name.hasPrefix("resnet"), Int(name.dropFirst("resnet".count)) != nil else {
            throw TrainingError(subject: file, message: "unknown architecture \"\(name)\" in the checkpoint metadata",
                                hint: "this build knows \(names.joined(separator: ", ")) (resnet<6n+2> in general); use a checkpoint written by `persephone pretrain`")
        }
        let config = ResNetConfiguration(depth: try int("depth"), widths: try ints("widths", separator: ","),
                                         inChannels: try int("in_channels"), imageSize: try int("image_size"),
                                         classes: try int("classes"))
        if let problem = config.problem { throw fail(problem) }
        guard "resnet\(config.depth)" == name else { throw fail("architecture \(name) but hyperparameter depth \(config.depth)") }
        return ResNet.make(config, generator: &generator)
    }
}
