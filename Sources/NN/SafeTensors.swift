import Foundation
import Tensor

/// Errors reading or writing checkpoints. Each names the file and says how to fix it.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: String, reason: String)
    case corrupt(file: String, reason: String)
    case shapeMismatch(file: String, tensor: String, expected: [Int], found: [Int])
    case wrongDType(file: String, tensor: String, found: String)
    case missingTensors(file: String, names: [String])
    case unknownTensors(file: String, names: [String])
    case unwritable(file: String, reason: String)

    public var description: String {
        switch self {
        case .unreadable(let f, let r):
            return "\(f): cannot read checkpoint (\(r)); check the path"
        case .corrupt(let f, let r):
            return "\(f): not a valid safetensors checkpoint: \(r); re-create or re-download the file"
        case .shapeMismatch(let f, let t, let e, let found):
            return "\(f): tensor \(t) has shape \(found) in the file but the model expects \(e); "
                + "the checkpoint was saved from a different architecture"
        case .wrongDType(let f, let t, let d):
            return "\(f): tensor \(t) has dtype \(d); only F32 is loaded (convert the file to float32)"
        case .missingTensors(let f, let names):
            return "\(f): missing \(names.count) tensor(s) the model needs: \(names.prefix(8).joined(separator: ", "))"
                + "\(names.count > 8 ? ", ..." : ""); the checkpoint was saved from a different architecture or exits, or is incomplete"
        case .unknownTensors(let f, let names):
            return "\(f): \(names.count) tensor(s) the model does not have: \(names.prefix(8).joined(separator: ", "))"
                + "\(names.count > 8 ? ", ..." : ""); the checkpoint was saved from a different architecture or exits"
        case .unwritable(let f, let r):
            return "\(f): cannot write checkpoint (\(r)); check the directory exists and is writable"
        }
    }
}

/// The safetensors container (https://github.com/huggingface/safetensors):
/// 8-byte little-endian header length n, n bytes of JSON header
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}`
/// padded with spaces to a multiple of 8, then the raw little-endian data; offsets are
/// relative to the start of the data.
public enum SafeTensors {
    /// One tensor's description and raw bytes.
    public struct Entry: Equatable {
        public var dtype: String
        public var shape: [Int]
        public var bytes: ArraySlice<UInt8>

        public init(dtype: String, shape: [Int], bytes: ArraySlice<UInt8>) {
            self.dtype = dtype; self.shape = shape; self.bytes = bytes
        }

        public init(_ tensor: Tensor) {
            self.init(dtype: "F32", shape: tensor.shape, bytes: littleEndianBytes(of: tensor.scalars)[...])
        }
    }

    /// Bytes per element of the dtypes the format defines.
    static let elementSizes: [String: Int] = [
        "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "U64": 8, "I32": 4, "U32": 4,
        "I16": 2, "U16": 2, "I8": 1, "U8": 1, "BOOL": 1,
    ]

    /// Largest header accepted (the reference implementation's limit is 100 MB).
    static let maximumHeaderBytes = 100_000_000

    /// `__metadata__` key of the integrity hash: `fnv1a64:<16 hex digits>` (FNV-1a-64) of the
    /// whole data section, the bytes after the header. Written by `encode`, checked by
    /// `decode` when present (files from other tools, and checkpoints written before the
    /// hash existed, have none and load unchecked).
    public static let dataHashKey = "persephone_data_fnv1a64"

    /// FNV-1a-64 of `bytes`, formatted as `dataHashKey`'s value.
    static func dataHash<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let hex = String(h, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Serialises entries in the given order, with the data section's integrity hash in
    /// `__metadata__` (`dataHashKey`).
    public static func encode(_ entries: [(name: String, entry: Entry)], metadata: [String: String] = [:]) -> Data {
        precondition(metadata[dataHashKey] == nil, "\(dataHashKey) is computed, not given")
        var data = [UInt8]()
        for (_, entry) in entries { data += entry.bytes }
        var metadata = metadata
        metadata[dataHashKey] = dataHash(data)
        var header: [String: Any] = [:]
        var offset = 0
        for (name, entry) in entries {
            precondition(name != "__metadata__" && header[name] == nil, "duplicate or reserved tensor name \(name)")
            header[name] = ["dtype": entry.dtype, "shape": entry.shape, "data_offsets": [offset, offset + entry.bytes.count]]
            offset += entry.bytes.count
        }
        header["__metadata__"] = metadata
        // JSONSerialization cannot fail on strings, ints and arrays of them.
        var json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        var n = UInt64(json.count)
        for _ in 0..<8 { out.append(UInt8(n & 0xFF)); n >>= 8 }
        out.append(json)
        out.append(contentsOf: data)
        return out
    }

    /// Parses a whole file image; `file` only names the source in errors. The integrity
    /// hash is checked when the file has one and is not part of the returned metadata.
    public static func decode(_ data: Data, file: String) throws -> (entries: [String: Entry], order: [String], metadata: [String: String]) {
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else {
            throw CheckpointError.corrupt(file: file, reason: "\(bytes.count) bytes, shorter than the 8-byte header length")
        }
        var n: UInt64 = 0
        for i in (0..<8).reversed() { n = n << 8 | UInt64(bytes[i]) }
        guard n <= UInt64(maximumHeaderBytes), 8 + Int(n) <= bytes.count else {
            throw CheckpointError.corrupt(file: file, reason: "header length \(n) exceeds the file size \(bytes.count) (truncated?)")
        }
        let headerEnd = 8 + Int(n)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])),
              let header = object as? [String: Any] else {
            throw CheckpointError.corrupt(file: file, reason: "the header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        if let m = header["__metadata__"] {
            guard let strings = m as? [String: String] else {
                throw CheckpointError.corrupt(file: file, reason: "__metadata__ must map strings to strings")
            }
            metadata = strings
        }
        let dataSize = bytes.count - headerEnd
        if let stored = metadata.removeValue(forKey: dataHashKey) {
            let found = dataHash(bytes[headerEnd...])
            guard stored == found else {
                throw CheckpointError.corrupt(file: file, reason:
                    "the tensor data hashes to \(found) but __metadata__ \(dataHashKey) records \(stored): the weights were changed or damaged after the file was written")
            }
        }
        var entries: [String: Entry] = [:]
        var ranges: [(begin: Int, name: String)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let d = value as? [String: Any], let dtype = d["dtype"] as? String,
                  let shape = d["shape"] as? [Int], let offsets = d["data_offsets"] as? [Int], offsets.count == 2 else {
                throw CheckpointError.corrupt(file: file, reason: "tensor \(name) lacks dtype, shape or data_offsets")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard shape.allSatisfy({ $0 >= 0 }), begin >= 0, begin <= end, end <= dataSize else {
                throw CheckpointError.corrupt(file: file, reason:
                    "tensor \(name) has shape \(shape) and offsets [\(begin), \(end)] outside the \(dataSize) data bytes (truncated?)")
            }
            if let size = elementSizes[dtype], Tensor.count(of: shape) * size != end - begin {
                throw CheckpointError.corrupt(file: file, reason:
                    "tensor \(name): \(end - begin) bytes for shape \(shape) of \(dtype)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, bytes: bytes[(headerEnd + begin)..<(headerEnd + end)])
            ranges.append((begin, name))
        }
        return (entries, ranges.sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }.map(\.name), metadata)
    }

    /// Reads and parses a file.
    public static func read(from url: URL) throws -> (entries: [String: Entry], order: [String], metadata: [String: String]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        return try decode(data, file: url.path)
    }

    /// Writes a file atomically: to a temporary name beside it, then renamed over it.
    public static func write(_ entries: [(name: String, entry: Entry)], metadata: [String: String] = [:], to url: URL) throws {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(ProcessInfo.processInfo.processIdentifier).partial")
        do {
            try encode(entries, metadata: metadata).write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                throw CheckpointError.unwritable(file: url.path, reason: "rename failed, errno \(errno)")
            }
        } catch let error as CheckpointError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError.unwritable(file: url.path, reason: error.localizedDescription)
        }
    }
}
