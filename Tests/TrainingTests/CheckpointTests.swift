import Foundation
import Models
import NN
import Tensor
import Testing
@testable import Training

@Suite struct CheckpointTests {
    /// A small untrained model with one exit of each kind, saved to a temporary file.
    static func savedModel() throws -> (dir: URL, file: URL, model: MultiExitModel) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var g = SeededGenerator(seed: 5)
        let backbone = try Architecture.make("resnet8", inputShape: [1, 12, 12], classes: 3, widths: [4, 8, 8], generator: &g)
        let model = MultiExitModel(backbone: backbone, normalization: InputNormalization(mean: [0.2860402], std: [0.3530239]),
                                   dataset: DatasetIdentity(name: "tiny", checksum: "fnv1a64:0123456789abcdef",
                                                            classNames: ["a", "b", "c"]))
        model.attachExit(at: backbone.exitPoints[1], kind: .sdn, generator: &g)
        model.attachExit(at: backbone.exitPoints[0], kind: .conv(blocks: 2, width: 6), generator: &g)
        let file = dir.appendingPathComponent("m.safetensors")
        try ModelCheckpoint.save(model, to: file)
        return (dir, file, model)
    }

    /// Rewrites `file` with its metadata changed by `edit`.
    static func rewrite(_ file: URL, metadata edit: (inout [String: String]) -> Void,
                        tensors: (inout [(name: String, entry: SafeTensors.Entry)]) -> Void = { _ in }) throws {
        let (entries, order, metadata) = try SafeTensors.read(from: file)
        var m = metadata
        edit(&m)
        var list = order.map { (name: $0, entry: entries[$0]!) }
        tensors(&list)
        try SafeTensors.write(list, metadata: m, to: file)
    }

    @Test func roundTripRebuildsArchitectureExitsAndOutputs() throws {
        let (dir, file, model) = try Self.savedModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        let loaded = try ModelCheckpoint.load(from: file)
        #expect(loaded.backbone.hyperparameters == model.backbone.hyperparameters)
        #expect(loaded.exits.map(\.point.name) == ["block1", "block2"])
        #expect(loaded.exits.map(\.kind) == [.conv(blocks: 2, width: 6), .sdn])
        #expect(loaded.normalization == model.normalization)
        #expect(loaded.dataset == model.dataset)
        let names = try SafeTensors.read(from: file).order
        #expect(names.contains("exits.block1.conv2.weight"))
        #expect(names.contains("exits.block2.fc.weight"))
        #expect(names.contains("layer2.0.downsample.0.weight"))
        var g = SeededGenerator(seed: 9)
        let x = Tensor(shape: [2, 1, 12, 12], scalars: (0..<288).map { _ in g.nextNormal() })
        let (a, b) = (model.forward(x), loaded.forward(x))
        #expect(a.finalLogits == b.finalLogits)
        #expect(a.exitLogits == b.exitLogits)
        // Saving the loaded model gives the same bytes.
        let again = dir.appendingPathComponent("again.safetensors")
        try ModelCheckpoint.save(loaded, to: again)
        #expect(try Data(contentsOf: again) == Data(contentsOf: file))
    }

    @Test func mobileNetV2RoundTrips() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-mb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var g = SeededGenerator(seed: 6)
        let backbone = try Architecture.make("mobilenetv2", inputShape: [3, 8, 8], classes: 4, widthMultiplier: 0.25,
                                             generator: &g)
        let model = MultiExitModel(backbone: backbone, normalization: InputNormalization(mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.25]),
                                   dataset: DatasetIdentity(name: "t", checksum: "c", classNames: ["a", "b", "c", "d"]))
        model.attachExit(at: backbone.exitPoints[3], kind: .conv(blocks: 1, width: 8), generator: &g)
        let file = dir.appendingPathComponent("mb.safetensors")
        try ModelCheckpoint.save(model, to: file)
        let loaded = try ModelCheckpoint.load(from: file)
        let x = Tensor(shape: [1, 3, 8, 8], scalars: (0..<192).map { _ in g.nextNormal() })
        #expect(loaded.forward(x).finalLogits == model.forward(x).finalLogits)
        #expect(loaded.forward(x).exitLogits == model.forward(x).exitLogits)
    }

    @Test func unknownArchitectureIsAClearErrorNamingTheFile() throws {
        let (dir, file, _) = try Self.savedModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.rewrite(file) { $0["architecture"] = "vgg11" }
        let error = try #require(throws: TrainingError.self) { try ModelCheckpoint.load(from: file) }
        #expect(error.subject == file.path)
        #expect(error.description.contains("unknown architecture \"vgg11\""))
    }

    @Test func metadataOfAnotherArchitectureFailsOnTheTensors() throws {
        let (dir, file, _) = try Self.savedModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Claims the default widths 16/32/64; the tensors are 4/8/8.
        try Self.rewrite(file) { m in
            m["hyperparameters"] = #"{"classes":"3","depth":"8","image_size":"12","in_channels":"1","widths":"16,32,64"}"#
        }
        let error = try #require(throws: CheckpointError.self) { try ModelCheckpoint.load(from: file) }
        guard case .shapeMismatch(let f, _, _, _) = error else { Issue.record("expected a shape mismatch, got \(error)"); return }
        #expect(f == file.path)
        #expect(error.description.contains("different architecture"))
    }

    @Test func mismatchedOrMissingTensorsFailNamingTheTensor() throws {
        let (dir, file, _) = try Self.savedModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.rewrite(file, metadata: { _ in }) { list in
            let i = list.firstIndex { $0.name == "fc.weight" }!
            list[i].entry = SafeTensors.Entry(Tensor(zeros: [3, 9]))
        }
        let shape = try #require(throws: CheckpointError.self) { try ModelCheckpoint.load(from: file) }
        #expect(shape == .shapeMismatch(file: file.path, tensor: "fc.weight", expected: [3, 8], found: [3, 9]))

        try Self.rewrite(file, metadata: { _ in }) { list in list.removeAll { $0.name == "exits.block2.fc.bias" } }
        let missing = try #require(throws: CheckpointError.self) { try ModelCheckpoint.load(from: file) }
        #expect(missing == .missingTensors(file: file.path, names: ["exits.block2.fc.bias"]))
    }

    @Test func exitAtAnUnknownPointOrMissingMetadataIsRefused() throws {
        let (dir, file, _) = try Self.savedModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.rewrite(file) { $0["exits"] = #"[{"kind":"sdn","point":"block12"}]"# }
        let point = try #require(throws: TrainingError.self) { try ModelCheckpoint.load(from: file) }
        #expect(point.description.contains("block12"))
        try Self.rewrite(file) { $0["input_std"] = nil }
        let missing = try #require(throws: TrainingError.self) { try ModelCheckpoint.load(from: file) }
        #expect(missing.description.contains("\"input_std\""))
    }

    @Test func loadingIntoADifferentArchitectureIsRefused() throws {
        let (dir, file, _) = try Self.savedModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        var g = SeededGenerator(seed: 1)
        let other = MultiExitModel(
            backbone: try Architecture.make("resnet20", inputShape: [1, 12, 12], classes: 3, widths: [4, 8, 8], generator: &g),
            normalization: InputNormalization(mean: [0], std: [1]),
            dataset: DatasetIdentity(name: "tiny", checksum: "x", classNames: ["a", "b", "c"]))
        let before = other.backbone.network.namedParameters.map(\.parameter.value)
        let error = try #require(throws: TrainingError.self) { try ModelCheckpoint.loadWeights(into: other, from: file) }
        #expect(error.subject == file.path)
        #expect(error.description.contains("holds a resnet8"))
        #expect(other.backbone.network.namedParameters.map(\.parameter.value) == before)
    }
}
