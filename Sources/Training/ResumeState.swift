import Foundation
import NN
import Tensor

/// The state of a pretraining run after a finished epoch, written atomically beside the
/// output as `<out>.resume` (a safetensors file):
///
/// - `model.<name>`: every parameter and buffer of the network (batch-norm running
///   statistics and `num_batches_tracked` included), F32;
/// - `optimizer.momentum.<name>`: the SGD momentum buffer of each parameter, F32;
/// - `__metadata__`: `format` (`persephone-resume-1`), `configuration` (JSON
///   `PretrainConfiguration`), `dataset_checksum`, `epochs_done`, `optimizer_started`
///   (JSON array of booleans, per parameter), `test_accuracies` and `train_losses` (JSON).
///
/// No generator state is stored: each epoch draws from its own stream derived from
/// (seed, epoch), so (configuration, epochs_done) fixes it.
enum ResumeState {
    static let format = "persephone-resume-1"

    struct History: Equatable {
        var epochsDone = 0
        var testAccuracies: [Double] = []
        var trainLosses: [Double] = []
    }

    static func write(to url: URL, configuration: PretrainConfiguration, datasetChecksum: String,
                      network: Sequential, optimizer: SGD, history: History) throws {
        var entries: [(name: String, entry: SafeTensors.Entry)] = []
        for (name, p) in network.namedParameters { entries.append(("model." + name, SafeTensors.Entry(p.value))) }
        for (name, b) in network.namedBuffers { entries.append(("model." + name, SafeTensors.Entry(b.value))) }
        for ((name, p), buffer) in zip(network.namedParameters, optimizer.buffers) {
            entries.append(("optimizer.momentum." + name, SafeTensors.Entry(Tensor(shape: p.value.shape, scalars: buffer))))
        }
        let metadata = [
            "format": format,
            "configuration": ModelCheckpoint.json(configuration),
            "dataset_checksum": datasetChecksum,
            "epochs_done": String(history.epochsDone),
            "optimizer_started": ModelCheckpoint.json(optimizer.started),
            "test_accuracies": ModelCheckpoint.json(history.testAccuracies),
            "train_losses": ModelCheckpoint.json(history.trainLosses),
        ]
        try SafeTensors.write(entries, metadata: metadata, to: url)
    }

    /// Restores network and optimizer from `url`, refusing a file written with other
    /// arguments or another dataset. Checks everything before changing anything.
    static func read(from url: URL, configuration: PretrainConfiguration, datasetChecksum: String,
                     network: Sequential, optimizer: SGD) throws -> History {
        let file = url.path
        let (entries, _, metadata) = try SafeTensors.read(from: url)
        let startOver = "delete \(file) to start over"
        func fail(_ message: String) -> TrainingError {
            TrainingError(subject: file, message: message, hint: "the resume file is damaged; \(startOver)")
        }
        guard metadata["format"] == format else { throw fail("not a pretraining resume file (format \(metadata["format"] ?? "absent"))") }
        guard let configText = metadata["configuration"],
              let stored = try? JSONDecoder().decode(PretrainConfiguration.self, from: Data(configText.utf8)) else {
            throw fail("its configuration metadata is missing or unreadable")
        }
        if stored != configuration {
            throw TrainingError(subject: file,
                                message: "was written by a run with other arguments (\(differences(stored, configuration)))",
                                hint: "rerun with the original arguments to continue, or \(startOver)")
        }
        if metadata["dataset_checksum"] != datasetChecksum {
            throw TrainingError(subject: file,
                                message: "was written for dataset checksum \(metadata["dataset_checksum"] ?? "(none)"), the dataset now has \(datasetChecksum)",
                                hint: "use the original dataset to continue, or \(startOver)")
        }
        func decoded<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            guard let text = metadata[key], let v = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else {
                throw fail("metadata \(key) is missing or unreadable")
            }
            return v
        }
        guard let done = metadata["epochs_done"].flatMap(Int.init), done >= 1, done <= configuration.epochs else {
            throw fail("metadata epochs_done is missing or outside 1...\(configuration.epochs)")
        }
        let history = History(epochsDone: done, testAccuracies: try decoded("test_accuracies", [Double].self),
                              trainLosses: try decoded("train_losses", [Double].self))
        let started = try decoded("optimizer_started", [Bool].self)
        guard history.testAccuracies.count == done, history.trainLosses.count == done,
              started.count == optimizer.parameters.count else {
            throw fail("its history or optimizer state does not match \(done) epochs and \(optimizer.parameters.count) parameters")
        }
        func tensor(_ name: String, shape: [Int]) throws -> [Float] {
            guard let e = entries[name] else { throw fail("tensor \(name) is missing") }
            guard e.dtype == "F32", e.shape == shape else { throw fail("tensor \(name) is \(e.dtype) \(e.shape), expected F32 \(shape)") }
            return floatsFromLittleEndian(e.bytes)
        }
        let parameters = try network.namedParameters.map { try tensor("model." + $0.name, shape: $0.parameter.value.shape) }
        let buffers = try network.namedBuffers.map { try tensor("model." + $0.name, shape: $0.buffer.value.shape) }
        let momentum = try network.namedParameters.map { try tensor("optimizer.momentum." + $0.name, shape: $0.parameter.value.shape) }
        for ((_, p), v) in zip(network.namedParameters, parameters) { p.value.scalars = v }
        for ((_, b), v) in zip(network.namedBuffers, buffers) { b.value.scalars = v }
        optimizer.buffers = momentum
        optimizer.started = started
        return history
    }

    /// "epochs: 3 then, 5 now; seed: 1 then, 2 now".
    static func differences(_ old: PretrainConfiguration, _ new: PretrainConfiguration) -> String {
        func fields(_ c: PretrainConfiguration) -> [String: String] {
            let object = (try? JSONSerialization.jsonObject(with: Data(ModelCheckpoint.json(c).utf8))) as? [String: Any] ?? [:]
            return object.mapValues { "\($0)" }
        }
        let (a, b) = (fields(old), fields(new))
        return Set(a.keys).union(b.keys).sorted().compactMap { key in
            a[key] == b[key] ? nil : "\(key): \(a[key] ?? "unset") then, \(b[key] ?? "unset") now"
        }.joined(separator: "; ")
    }
}
