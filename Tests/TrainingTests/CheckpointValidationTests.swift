import Foundation
import Models
import NN
import Tensor
import Testing
@testable import Training

/// Checkpoint metadata is validated and the tensor data carries an integrity hash.
@Suite struct CheckpointValidationTests {
    func refusal(_ edit: @escaping (inout [String: String]) -> Void) throws -> String {
        let (dir, file, _) = try CheckpointTests.savedModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        try CheckpointTests.rewrite(file, metadata: edit)
        let error = try #require(throws: TrainingError.self) { try ModelCheckpoint.load(from: file) }
        #expect(error.description.contains(file.path))
        return error.description
    }

    @Test func normalisationMustBeFinitePositiveAndInRange() throws {
        #expect(try refusal { $0["input_std"] = "1.8e19" }.contains("input_std 1.8e+19 is not in (0, 1]"))
        #expect(try refusal { $0["input_std"] = "inf" }.contains("input_std inf is not in (0, 1]"))
        #expect(try refusal { $0["input_std"] = "0" }.contains("is not in (0, 1]"))
        #expect(try refusal { $0["input_mean"] = "nan" }.contains("input_mean nan is not in [0, 1]"))
        #expect(try refusal { $0["input_std"] = "0.3,0.3" }.contains("one per input channel"))
    }

    @Test func classNamesMustMatchTheClassifierOutputs() throws {
        #expect(try refusal { $0["class_names"] = "[\"a\",\"b\"]" }.contains("class_names lists 2 classes but the classifier has 3 outputs"))
    }

    @Test func architectureParametersMustBeInRange() throws {
        let huge = try refusal { $0["hyperparameters"] = $0["hyperparameters"]!.replacingOccurrences(of: "\"4,8,8\"", with: "\"4,8,100000000\"") }
        #expect(huge.contains("3 stage widths in 1...\(ModelLimits.maxChannels)"))
        let deep = try refusal {
            $0["architecture"] = "resnet60002"
            $0["hyperparameters"] = $0["hyperparameters"]!.replacingOccurrences(of: "\"depth\":\"8\"", with: "\"depth\":\"60002\"")
        }
        #expect(deep.contains("above \(ModelLimits.maxResNetDepth)"))
        #expect(try refusal { $0["hyperparameters"] = $0["hyperparameters"]!.replacingOccurrences(of: "\"classes\":\"3\"", with: "\"classes\":\"1\"") }
            .contains("classes must be in 2..."))
    }

    @Test func changedTensorDataIsRefusedByTheIntegrityHash() throws {
        let (dir, file, _) = try CheckpointTests.savedModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = [UInt8](try Data(contentsOf: file))
        bytes[bytes.count - 3] ^= 0x01  // one bit of the last tensor
        try Data(bytes).write(to: file)
        let error = try #require(throws: CheckpointError.self) { try ModelCheckpoint.load(from: file) }
        #expect("\(error)".contains("the weights were changed or damaged after the file was written"))
        #expect("\(error)".hasPrefix(file.path))
    }

    @Test func aFileWithoutTheHashStillLoads() throws {
        let (dir, file, model) = try CheckpointTests.savedModel()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Rebuild the file as a writer without the hash would (the header minus the key).
        let data = try Data(contentsOf: file)
        var n = 0
        for i in (0..<8).reversed() { n = n << 8 | Int(data[i]) }
        var header = try JSONSerialization.jsonObject(with: data[8..<(8 + n)]) as! [String: Any]
        var metadata = header["__metadata__"] as! [String: String]
        #expect(metadata.removeValue(forKey: SafeTensors.dataHashKey) != nil)
        header["__metadata__"] = metadata
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data((0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) })
        out.append(json)
        out.append(data[(8 + n)...])
        try out.write(to: file)
        let loaded = try ModelCheckpoint.load(from: file)
        #expect(loaded.backbone.network.namedParameters.map(\.parameter.value) == model.backbone.network.namedParameters.map(\.parameter.value))
    }
}
