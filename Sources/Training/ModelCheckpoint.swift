import Foundation
import Models
import NN
import Tensor

/// Model checkpoints: a `MultiExitModel` as one safetensors file (docs/checkpoints-models.md).
///
/// Tensors: the backbone's under their torchvision `state_dict` names (`conv1.weight`,
/// `layer2.0.downsample.0.weight`, `fc.bias`, ...), each exit head's under
/// `exits.<point>.` (`exits.block2.conv1.weight`). `__metadata__` (all values strings):
///
/// | key | value |
/// |---|---|
/// | `format` | `persephone-model-1` |
/// | `architecture` | `resnet20`, `mobilenetv2`, ... |
/// | `hyperparameters` | JSON object of strings (`depth`, `widths`, `in_channels`, `image_size`, `classes`, ...) |
/// | `input_mean`, `input_std` | per channel, comma-separated decimal floats (exact round trip) |
/// | `dataset`, `dataset_checksum` | dataset name and dataset.json checksum |
/// | `class_names` | JSON array, label order |
/// | `exits` | JSON array of `{"point", "kind", "blocks", "width"}` (conv) or `{"point", "kind"}` (sdn) |
/// | `pretraining` | JSON `PretrainingRecord`, when pretrained here |
/// | `exit_training` | JSON `ExitTrainingRecord`, when exits were trained here |
/// | `persephone_data_fnv1a64` | integrity hash of the tensor data (`SafeTensors.dataHashKey`), checked on load when present |
public enum ModelCheckpoint {
    public static let format = "persephone-model-1"

    /// One attached exit as the `exits` metadata lists it.
    struct ExitDescriptor: Codable, Equatable {
        var point: String
        var kind: String
        var blocks: Int?
        var width: Int?

        init(_ exit: AttachedExit) {
            point = exit.point.name
            switch exit.kind {
            case let .conv(blocks, width): (kind, self.blocks, self.width) = ("conv", blocks, width)
            case .sdn: kind = "sdn"
            }
        }

        func headKind(file: String) throws -> ExitHeadKind {
            switch kind {
            case "conv":
                guard let blocks, let width, blocks >= 1, width >= 1 else {
                    throw TrainingError(subject: file, message: "exit \(point): a conv head needs blocks >= 1 and width >= 1",
                                        hint: "fix the exits metadata or retrain the exits")
                }
                return .conv(blocks: blocks, width: width)
            case "sdn": return .sdn
            default:
                throw TrainingError(subject: file, message: "exit \(point) has unknown head kind \"\(kind)\"",
                                    hint: "head kinds are conv and sdn")
            }
        }
    }

    /// The metadata map for `model`.
    public static func metadata(of model: MultiExitModel) -> [String: String] {
        var m: [String: String] = [
            "format": format,
            "architecture": model.backbone.architecture,
            "hyperparameters": json(model.backbone.hyperparameters),
            "input_mean": model.normalization.mean.map { "\($0)" }.joined(separator: ","),
            "input_std": model.normalization.std.map { "\($0)" }.joined(separator: ","),
            "dataset": model.dataset.name,
            "dataset_checksum": model.dataset.checksum,
            "class_names": json(model.dataset.classNames),
            "exits": json(model.exits.map(ExitDescriptor.init)),
        ]
        m.merge(model.trainingRecords) { kept, _ in kept }
        return m
    }

    /// Writes `model` atomically (temporary name, then rename).
    public static func save(_ model: MultiExitModel, to url: URL) throws {
        try Checkpoint.save(model.checkpointModules, to: url, metadata: metadata(of: model))
    }

    /// Rebuilds the model a checkpoint describes (architecture, exits, normalisation and
    /// records from its metadata) and loads its tensors strictly: every tensor must be there
    /// with the right shape, and none may be left over (`num_batches_tracked` is optional).
    public static func load(from url: URL) throws -> MultiExitModel {
        let file = url.path
        let (entries, _, metadata) = try SafeTensors.read(from: url)
        func fail(_ message: String) -> TrainingError {
            TrainingError(subject: file, message: message,
                          hint: "a model checkpoint is written by `persephone pretrain` (docs/checkpoints-models.md)")
        }
        func value(_ key: String) throws -> String {
            guard let v = metadata[key] else { throw fail("__metadata__ has no \"\(key)\" entry, so this is not a Persephone model checkpoint") }
            return v
        }
        func decoded<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            do { return try JSONDecoder().decode(T.self, from: Data(try value(key).utf8)) } catch let e as TrainingError { throw e } catch {
                throw fail("__metadata__ \"\(key)\" is not valid JSON for \(T.self) (\(error))")
            }
        }
        func floats(_ key: String) throws -> [Float] {
            let text = try value(key)
            let v = text.split(separator: ",").map { Float(String($0)) }
            guard !v.isEmpty, v.allSatisfy({ $0 != nil }) else { throw fail("__metadata__ \"\(key)\" = \"\(text)\" is not a comma-separated list of numbers") }
            return v.map { $0! }
        }
        let storedFormat = try value("format")
        guard storedFormat == format else { throw fail("format \"\(storedFormat)\" is not \(format)") }
        let backbone = try Architecture.rebuild(try value("architecture"),
                                                hyperparameters: try decoded([String: String].self, "hyperparameters"), file: file)
        let mean = try floats("input_mean"), std = try floats("input_std")
        guard mean.count == backbone.inputShape[0], std.count == mean.count else {
            throw fail("input_mean/input_std need \(backbone.inputShape[0]) value(s) each, one per input channel; found \(mean.count) and \(std.count)")
        }
        // Pixels are in [0, 1], so a channel's mean is in [0, 1] and its std at most 0.5
        // (1 for a constant channel, `InputNormalization(statisticsOf:)`).
        if let bad = mean.first(where: { !($0 >= 0 && $0 <= 1) }) {
            throw fail("input_mean \(bad) is not in [0, 1], the range of a mean of pixels in [0, 1]")
        }
        if let bad = std.first(where: { !($0 > 0 && $0 <= 1) }) {
            throw fail("input_std \(bad) is not in (0, 1]: a normalisation std must be finite and positive, and pixels in [0, 1] have std at most 0.5")
        }
        let classNames = try decoded([String].self, "class_names")
        guard classNames.count == backbone.classes else {
            throw fail("class_names lists \(classNames.count) classes but the classifier has \(backbone.classes) outputs")
        }
        let model = MultiExitModel(
            backbone: backbone, normalization: InputNormalization(mean: mean, std: std),
            dataset: DatasetIdentity(name: try value("dataset"), checksum: try value("dataset_checksum"),
                                     classNames: classNames))
        if metadata[PretrainingRecord.key] != nil {
            model.pretraining = try decoded(PretrainingRecord.self, PretrainingRecord.key)
        }
        if metadata[ExitTrainingRecord.key] != nil {
            model.exitTraining = try decoded(ExitTrainingRecord.self, ExitTrainingRecord.key)
        }
        var generator = SeededGenerator(seed: 0)
        for descriptor in try decoded([ExitDescriptor].self, "exits") {
            guard let point = backbone.exitPoint(named: descriptor.point) else {
                throw fail("exit at \"\(descriptor.point)\", which \(backbone.architecture) does not have (points block1...block\(backbone.exitPoints.count))")
            }
            model.attachExit(at: point, kind: try descriptor.headKind(file: file), generator: &generator)
        }
        try Checkpoint.load(into: model.checkpointModules, from: url)
        restoreBatchCounts(model, from: entries)
        return model
    }

    /// `Checkpoint.load` ignores `num_batches_tracked` (it has no effect on our batch norm);
    /// restoring it keeps a load-then-save round trip byte-identical.
    static func restoreBatchCounts(_ model: MultiExitModel, from entries: [String: SafeTensors.Entry]) {
        for (prefix, layer) in model.checkpointModules {
            for (name, buffer) in layer.namedBuffers where buffer.storage == .int64 {
                let full = prefix.isEmpty ? name : prefix + "." + name
                guard let e = entries[full], e.dtype == "I64", e.shape == buffer.value.shape, e.bytes.count == 8 * buffer.value.count
                else { continue }
                let bytes = Array(e.bytes)
                buffer.value.scalars = (0..<buffer.value.count).map { i in
                    Float((0..<8).reversed().reduce(Int64(0)) { $0 << 8 | Int64(bytes[8 * i + $1]) })
                }
            }
        }
    }

    /// Loads a checkpoint's tensors into an existing model of the same architecture and
    /// exits, refusing (before touching any tensor) a file of another architecture.
    public static func loadWeights(into model: MultiExitModel, from url: URL) throws {
        let (entries, _, metadata) = try SafeTensors.read(from: url)
        let architecture = metadata["architecture"] ?? "(none)"
        let hyperparameters = metadata["hyperparameters"].flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
        guard architecture == model.backbone.architecture, hyperparameters == model.backbone.hyperparameters else {
            throw TrainingError(subject: url.path,
                                message: "holds a \(architecture) \(hyperparameters.map(json) ?? "") but the model is a \(model.backbone.architecture) \(json(model.backbone.hyperparameters))",
                                hint: "load it with ModelCheckpoint.load(from:), which rebuilds the architecture the file names")
        }
        try Checkpoint.load(into: model.checkpointModules, from: url)
        restoreBatchCounts(model, from: entries)
    }

    /// Compact JSON with sorted keys, so equal values give equal bytes.
    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, numbers and arrays of them always encode.
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }
}
