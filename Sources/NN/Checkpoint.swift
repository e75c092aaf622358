import Foundation
import Tensor

/// Saving and loading the parameters and buffers of layers as safetensors files, named
/// after the PyTorch state_dict of the same module tree (see docs/checkpoints.md).
public enum Checkpoint {
    /// What a load did besides filling tensors.
    public struct LoadReport: Equatable {
        public var metadata: [String: String]
        /// Model tensors absent from the file (kept their values; only when lenient).
        public var missing: [String]
        /// File tensors the model has no place for (ignored; only when lenient).
        public var unknown: [String]
    }

    private enum Slot {
        case parameter(Parameter)
        case buffer(Buffer)

        var tensor: Tensor {
            switch self {
            case .parameter(let p): return p.value
            case .buffer(let b): return b.value
            }
        }
    }

    /// Full names and storage of every parameter and buffer, in state_dict order
    /// (per layer: parameters, then buffers).
    private static func slots(_ modules: [(prefix: String, layer: any Layer)]) -> [(name: String, slot: Slot)] {
        var out: [(name: String, slot: Slot)] = []
        for (prefix, layer) in modules {
            for (name, p) in qualified(prefix, layer.namedParameters) { out.append((name, .parameter(p))) }
            for (name, b) in qualified(prefix, layer.namedBuffers) { out.append((name, .buffer(b))) }
        }
        var seen = Set<String>()
        for (name, _) in out { precondition(seen.insert(name).inserted, "two tensors named \(name)") }
        return out
    }

    /// Tensor names a checkpoint of these modules contains.
    public static func tensorNames(_ modules: [(prefix: String, layer: any Layer)]) -> [String] {
        slots(modules).map(\.name)
    }

    /// Writes the modules' parameters and buffers (`prefix.name` for each) atomically.
    public static func save(_ modules: [(prefix: String, layer: any Layer)], to url: URL,
                            metadata: [String: String] = [:]) throws {
        let entries = slots(modules).map { name, slot -> (name: String, entry: SafeTensors.Entry) in
            if case .buffer(let b) = slot, b.storage == .int64 {
                let values = b.value.scalars.map { Int64($0) }
                return (name, SafeTensors.Entry(dtype: "I64", shape: b.value.shape, bytes: littleEndianBytes(of: values)[...]))
            }
            return (name, SafeTensors.Entry(slot.tensor))
        }
        try SafeTensors.write(entries, metadata: metadata, to: url)
    }

    public static func save(_ layer: any Layer, to url: URL, metadata: [String: String] = [:]) throws {
        try save([(prefix: "", layer: layer)], to: url, metadata: metadata)
    }

    /// Loads every F32 tensor into the module with the same name. Checks everything before
    /// changing anything, so a failed load leaves the model as it was. Shape mismatches and
    /// non-F32 dtypes are always errors; missing and unknown tensors are errors unless
    /// `lenient`. `num_batches_tracked` (I64 in PyTorch files) is accepted and ignored.
    @discardableResult
    public static func load(into modules: [(prefix: String, layer: any Layer)], from url: URL,
                            lenient: Bool = false) throws -> LoadReport {
        let file = url.path
        let (entries, order, metadata) = try SafeTensors.read(from: url)
        let isIgnored = { (name: String) in name == "num_batches_tracked" || name.hasSuffix(".num_batches_tracked") }
        let expected = slots(modules).filter { !isIgnored($0.name) }
        let expectedNames = Set(expected.map(\.name))
        let unknown = order.filter { !expectedNames.contains($0) && !isIgnored($0) }
        let missing = expected.map(\.name).filter { entries[$0] == nil }
        if !lenient && !missing.isEmpty { throw CheckpointError.missingTensors(file: file, names: missing) }
        if !lenient && !unknown.isEmpty { throw CheckpointError.unknownTensors(file: file, names: unknown) }
        var loaded: [(Slot, Tensor)] = []
        for (name, slot) in expected {
            guard let entry = entries[name] else { continue }
            guard entry.dtype == "F32" else { throw CheckpointError.wrongDType(file: file, tensor: name, found: entry.dtype) }
            guard entry.shape == slot.tensor.shape else {
                throw CheckpointError.shapeMismatch(file: file, tensor: name, expected: slot.tensor.shape, found: entry.shape)
            }
            loaded.append((slot, Tensor(shape: entry.shape, scalars: floatsFromLittleEndian(entry.bytes))))
        }
        for (slot, tensor) in loaded {
            switch slot {
            case .parameter(let p): p.value = tensor
            case .buffer(let b): b.value = tensor
            }
        }
        return LoadReport(metadata: metadata, missing: missing, unknown: unknown)
    }

    @discardableResult
    public static func load(into layer: any Layer, from url: URL, lenient: Bool = false) throws -> LoadReport {
        try load(into: [(prefix: "", layer: layer)], from: url, lenient: lenient)
    }
}
