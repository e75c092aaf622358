import Foundation
import Testing
@testable import NN
import Tensor

@Suite struct CheckpointTests {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("nn-checkpoint-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small network with a trained-looking state (BN statistics moved by a forward).
    private func network(seed: UInt64) -> Sequential {
        var rng = SeededGenerator(seed: seed)
        let net = Sequential([
            (name: "conv1", layer: Conv2d(inChannels: 1, outChannels: 4, kernelSize: 3, padding: 1, generator: &rng)),
            (name: "bn1", layer: BatchNorm2d(channels: 4)),
            (name: "layer1", layer: Sequential([basicBlock(4, 8, stride: 2, &rng)])),
            (name: "pool", layer: GlobalAvgPool()),
            (name: "fc", layer: Linear(inFeatures: 8, outFeatures: 3, generator: &rng)),
        ])
        _ = net.forward(randomTensor([2, 1, 6, 6], &rng), mode: .training)
        return net
    }

    private func state(_ layer: any Layer) -> [Tensor] {
        layer.namedParameters.map(\.parameter.value) + layer.namedBuffers.map(\.buffer.value)
    }

    @Test func roundTrip() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        let a = network(seed: 1), b = network(seed: 2)
        #expect(state(a) != state(b))
        try Checkpoint.save(a, to: url, metadata: ["format": "pt", "note": "round trip"])
        let report = try Checkpoint.load(into: b, from: url)
        #expect(report.metadata == ["format": "pt", "note": "round trip"])
        // Everything but num_batches_tracked (ignored on load) is restored bit for bit.
        let restored = zip(a.namedParameters.map(\.parameter.value) + a.namedBuffers.filter { $0.buffer.storage == .float32 }.map(\.buffer.value),
                           b.namedParameters.map(\.parameter.value) + b.namedBuffers.filter { $0.buffer.storage == .float32 }.map(\.buffer.value))
        #expect(restored.allSatisfy { $0.0 == $0.1 })
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])
    }

    @Test func fileLayoutIsSafetensors() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.safetensors")
        let net = network(seed: 3)
        try Checkpoint.save(net, to: url)
        let bytes = [UInt8](try Data(contentsOf: url))
        let n = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        #expect(n % 8 == 0 && (8 + n) % 8 == 0)
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as! [String: Any]
        let conv = header["conv1.weight"] as! [String: Any]
        #expect(conv["dtype"] as? String == "F32" && conv["shape"] as? [Int] == [4, 1, 3, 3])
        #expect(conv["data_offsets"] as? [Int] == [0, 4 * 36])
        let tracked = header["bn1.num_batches_tracked"] as! [String: Any]
        #expect(tracked["dtype"] as? String == "I64" && tracked["shape"] as? [Int] == [])
        let offsets = tracked["data_offsets"] as! [Int]
        #expect(bytes[(8 + n + offsets[0])..<(8 + n + offsets[1])] == [1, 0, 0, 0, 0, 0, 0, 0][...])
        // The first weight's bytes are its little-endian Float32s.
        let first = net.namedParameters[0].parameter.value.scalars[0]
        let raw = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[8 + n + $1]) << (8 * UInt32($1)) }
        #expect(Float(bitPattern: raw) == first)
        #expect(Set(header.keys.filter { $0 != "__metadata__" }) == Set(Checkpoint.tensorNames([(prefix: "", layer: net)])))
    }

    @Test func shapeMismatchNamesTensorAndShapes() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.safetensors")
        var rng = SeededGenerator(seed: 4)
        try Checkpoint.save(Sequential([(name: "fc", layer: Linear(inFeatures: 8, outFeatures: 3, generator: &rng))]), to: url)
        let wider = Sequential([(name: "fc", layer: Linear(inFeatures: 8, outFeatures: 5, generator: &rng))])
        let before = state(wider)
        #expect(throws: CheckpointError.shapeMismatch(file: url.path, tensor: "fc.weight", expected: [5, 8], found: [3, 8])) {
            try Checkpoint.load(into: wider, from: url, lenient: true)
        }
        #expect(state(wider) == before)   // nothing half-loaded
        let message = CheckpointError.shapeMismatch(file: url.path, tensor: "fc.weight", expected: [5, 8], found: [3, 8]).description
        #expect(message.contains("fc.weight") && message.contains("[3, 8]") && message.contains("[5, 8]") && message.contains(url.path))
    }

    @Test func missingAndUnknownTensors() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.safetensors")
        var rng = SeededGenerator(seed: 5)
        let small = Sequential([(name: "fc", layer: Linear(inFeatures: 4, outFeatures: 2, generator: &rng))])
        let big = Sequential([(name: "fc", layer: Linear(inFeatures: 4, outFeatures: 2, generator: &rng)),
                              (name: "head", layer: Linear(inFeatures: 2, outFeatures: 2, generator: &rng))])
        try Checkpoint.save(small, to: url)
        #expect(throws: CheckpointError.missingTensors(file: url.path, names: ["head.weight", "head.bias"])) {
            try Checkpoint.load(into: big, from: url)
        }
        let report = try Checkpoint.load(into: big, from: url, lenient: true)
        #expect(report.missing == ["head.weight", "head.bias"] && report.unknown.isEmpty)
        #expect(big.namedParameters[0].parameter.value == small.namedParameters[0].parameter.value)

        try Checkpoint.save(big, to: url)
        #expect(throws: CheckpointError.unknownTensors(file: url.path, names: ["head.weight", "head.bias"])) {
            try Checkpoint.load(into: small, from: url)
        }
        #expect(try Checkpoint.load(into: small, from: url, lenient: true).unknown == ["head.weight", "head.bias"])
    }

    @Test func pyTorchStyleFileWithNumBatchesTracked() throws {
        // A file as PyTorch writes it for a BatchNorm2d: num_batches_tracked is I64 and is ignored.
        let bn = BatchNorm2d(channels: 2)
        let entries: [(name: String, entry: SafeTensors.Entry)] = [
            ("weight", SafeTensors.Entry(Tensor(shape: [2], scalars: [2, 3]))),
            ("bias", SafeTensors.Entry(Tensor(shape: [2], scalars: [0, 1]))),
            ("running_mean", SafeTensors.Entry(Tensor(shape: [2], scalars: [0.5, 0.25]))),
            ("running_var", SafeTensors.Entry(Tensor(shape: [2], scalars: [4, 9]))),
            ("num_batches_tracked", SafeTensors.Entry(dtype: "I64", shape: [], bytes: [7, 0, 0, 0, 0, 0, 0, 0][...])),
        ]
        let data = SafeTensors.encode(entries)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("bn.safetensors")
        try data.write(to: url)
        try Checkpoint.load(into: bn, from: url)
        #expect(bn.runningVar.value.scalars == [4, 9] && bn.weight.value.scalars == [2, 3])
        // Without it, nothing is reported missing either.
        try SafeTensors.encode(Array(entries.prefix(4))).write(to: url)
        #expect(try Checkpoint.load(into: bn, from: url).missing.isEmpty)
        // A non-F32 tensor where the model needs F32 is an error naming it.
        try SafeTensors.encode([("weight", SafeTensors.Entry(dtype: "F16", shape: [2], bytes: [0, 0, 0, 0][...]))] + Array(entries.suffix(4))).write(to: url)
        #expect(throws: CheckpointError.wrongDType(file: url.path, tensor: "weight", found: "F16")) {
            try Checkpoint.load(into: bn, from: url)
        }
    }

    @Test func corruptFilesGiveClearErrors() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("bad.safetensors")
        var rng = SeededGenerator(seed: 6)
        let net = Sequential([(name: "fc", layer: Linear(inFeatures: 4, outFeatures: 2, generator: &rng))])
        try Checkpoint.save(net, to: url)
        let good = [UInt8](try Data(contentsOf: url))

        var headerLength = [UInt8](good.prefix(8)); headerLength[4] = 0x7F
        let cases: [(String, [UInt8])] = [
            ("empty", []),
            ("short", [1, 2, 3]),
            ("truncated data", Array(good.dropLast(5))),
            ("truncated header", Array(good.prefix(20))),
            ("huge header length", headerLength + good.dropFirst(8)),
            ("garbage header", [8, 0, 0, 0, 0, 0, 0, 0] + Array("not json".utf8) + [0, 0, 0, 0]),
            ("header not an object", [8, 0, 0, 0, 0, 0, 0, 0] + Array("[1, 2]  ".utf8)),
        ]
        for (label, bytes) in cases {
            try Data(bytes).write(to: url)
            do {
                try Checkpoint.load(into: net, from: url)
                Issue.record("\(label): loaded a corrupt file")
            } catch let error as CheckpointError {
                guard case .corrupt(let file, _) = error else { Issue.record("\(label): \(error)"); continue }
                #expect(file == url.path, "\(label)")
                #expect(error.description.contains(url.path))
            }
        }
        #expect(throws: CheckpointError.self) { try Checkpoint.load(into: net, from: dir.appendingPathComponent("absent")) }
        #expect(throws: CheckpointError.self) {
            try Checkpoint.save(net, to: dir.appendingPathComponent("no-such-dir/m.safetensors"))
        }
    }
}
