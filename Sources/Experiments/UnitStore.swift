import Codecs
import Foundation

/// The content-addressed store of unit records shared by every experiment of a results
/// folder (`results/unit-store/` by default; docs/runner.md, "Units"):
/// ```
/// <root>/<first 2 hex digits of the key>/<key>.unit
/// ```
/// A `.unit` file is one header line of JSON (`UnitFileHeader`: format, key, code,
/// identity, the record's byte count and FNV-1a 64, timings) followed by the record's
/// bytes. Files are written under a temporary name, flushed and renamed, so a reader sees
/// a whole record or none; a file that is truncated, corrupt, of another format, or whose
/// identity differs from the one asked for is reported and recomputed, never read. The
/// store can be deleted at any time: it costs only the time to recompute.
public struct UnitStore: Sendable {
    public var root: String

    public init(root: String) { self.root = root }

    /// `<parent of folder>/unit-store`: one store for all experiments under `results/`.
    public static func beside(folder: String) -> UnitStore {
        let parent = (folder as NSString).deletingLastPathComponent
        return UnitStore(root: (parent.isEmpty ? "." : parent) + "/unit-store")
    }

    public func path(of key: String) -> String { root + "/" + key.prefix(2) + "/" + key + ".unit" }

    /// The record of `key`, or nil when absent. A file that cannot be trusted is left out
    /// (the unit is then recomputed and the file replaced) with a warning.
    func read(key: String, identity: CanonicalValue, warn: (String) -> Void) -> StoredUnit? {
        UnitStore.readFile(path(of: key), key: key, identity: identity, warn: warn)
    }

    static func readFile(_ path: String, key: String, identity: CanonicalValue?, warn: (String) -> Void) -> StoredUnit? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        func reject(_ why: String) -> StoredUnit? {
            warn("\(path): \(why); the unit is computed again")
            return nil
        }
        guard let newline = data.firstIndex(of: UInt8(ascii: "\n")) else { return reject("no header line (truncated?)") }
        let header: UnitFileHeader
        do {
            header = try UnitCoding.decoder.decode(UnitFileHeader.self, from: data[data.startIndex..<newline])
        } catch {
            return reject("unreadable header (\(error))")
        }
        let record = Data(data[(newline + 1)...])
        guard header.format == UnitFileHeader.currentFormat else { return reject("format `\(header.format)`, not \(UnitFileHeader.currentFormat)") }
        guard header.key == key else { return reject("holds unit \(header.key), not \(key)") }
        if let identity, header.identity != identity.compactJSON { return reject("its identity differs from the unit's (a key collision)") }
        guard record.count == header.recordBytes, FNV1a.hex(FNV1a.hash(record)) == header.recordFNV1a64 else {
            return reject("its record is truncated or corrupt (\(record.count) of \(header.recordBytes) bytes, checksum mismatch)")
        }
        return StoredUnit(header: header, output: UnitOutput(recordBytes: record, timings: header.timings))
    }

    /// The header of the unit file at `path` alone (no record check), nil when absent or
    /// unreadable: what a listing of the store's coverage needs.
    /// The measured seconds of unit `key` if the store holds a file for it whose header
    /// names it (its record is checked only when read): what "in the store" means for
    /// `coverage` and `ReproducePreview`.
    func storedSeconds(of key: String) -> Double? {
        guard let header = UnitStore.readHeader(path(of: key)), header.key == key else { return nil }
        return header.seconds
    }

    static func readHeader(_ path: String) -> UnitFileHeader? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        var line = Data()
        while let chunk = try? handle.read(upToCount: 4096), !chunk.isEmpty {
            if let newline = chunk.firstIndex(of: UInt8(ascii: "\n")) {
                line.append(chunk[chunk.startIndex..<newline])
                return try? UnitCoding.decoder.decode(UnitFileHeader.self, from: line)
            }
            line.append(chunk)
        }
        return nil
    }

    /// Writes the record of a computed unit into the store (temporary name, then rename).
    func write(_ unit: StoredUnit) throws {
        try UnitStore.writeFile(unit, path: path(of: unit.header.key))
    }

    static func writeFile(_ unit: StoredUnit, path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create \(directory): \(error.localizedDescription)", hint: "check that the results folder is writable")
        }
        var bytes = try UnitCoding.encoder.encode(unit.header)
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(unit.output.record)
        try writeAtomically(bytes, path: path)
    }

    /// Removes temporary files that killed writers left (their process no longer exists).
    func removeAbandonedTemporaryFiles() {
        let fm = FileManager.default
        for sub in (try? fm.contentsOfDirectory(atPath: root)) ?? [] {
            let dir = root + "/" + sub
            for name in (try? fm.contentsOfDirectory(atPath: dir)) ?? [] where name.contains(".tmp.") {
                if let pid = temporaryWriterPID(name), kill(pid, 0) == 0 || errno != ESRCH { continue }
                try? fm.removeItem(atPath: dir + "/" + name)
            }
        }
    }
}

/// A unit record as stored: header and record.
struct StoredUnit: Sendable {
    var header: UnitFileHeader
    var output: UnitOutput

    init(header: UnitFileHeader, output: UnitOutput) {
        self.header = header
        self.output = output
    }

    init(key: String, code: String, unit: WorkUnit, output: UnitOutput, seconds: Double) {
        header = UnitFileHeader(format: UnitFileHeader.currentFormat, key: key, code: code, label: unit.label,
                                identity: unit.identity.compactJSON, recordBytes: output.record.count,
                                recordFNV1a64: FNV1a.hex(FNV1a.hash(output.record)), timings: output.timings,
                                seconds: seconds, finished: timestamp(Date()))
        self.output = output
    }
}

/// The first line of a `.unit` file.
struct UnitFileHeader: Codable, Sendable, Equatable {
    static let currentFormat = "persephone-unit/1"
    var format: String
    var key: String
    var code: String
    var label: String
    /// The unit's identity as canonical JSON (compared on every read: a key collision
    /// is refused, never served).
    var identity: String
    var recordBytes: Int
    var recordFNV1a64: String
    var timings: [PointResult.Timing]
    /// Wall time of the computation, seconds.
    var seconds: Double
    var finished: String

    enum CodingKeys: String, CodingKey {
        case format, key, code, label, identity, timings, seconds, finished
        case recordBytes = "record_bytes", recordFNV1a64 = "record_fnv1a64"
    }
}

/// The pid in a temporary name `<file>.tmp.<pid>.<n>`.
func temporaryWriterPID(_ name: String) -> pid_t? {
    guard let range = name.range(of: ".tmp.") else { return nil }
    return name[range.upperBound...].split(separator: ".").first.flatMap { pid_t($0) }
}
