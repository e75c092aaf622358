import Codecs
import Foundation

/// The files of one run folder (`results/<name>/` or a shard's folder):
/// ```
/// spec.resolved.json     FrozenSpec: the resolved spec, its hash, points and table columns
/// points/<index>.json    PointRecord of each finished point (6-digit zero-padded index)
/// units/<key>.unit       a sharded run's copies of the unit records it computed (for merge)
/// run.lock               the pid of the run writing to the folder, while it runs
/// <table>.csv.zst        result tables, rows in point-index order (deterministic)
/// timings.csv.zst        wall-clock seconds per point and phase
/// manifest.json          provenance and the status of every point
/// ```
/// Every file is written under a temporary name and renamed into place.
public struct RunFolder: Sendable {
    public var path: String

    public init(path: String) { self.path = path }

    public var frozenSpecPath: String { path + "/spec.resolved.json" }
    public var pointsPath: String { path + "/points" }
    public var manifestPath: String { path + "/manifest.json" }
    public var timingsPath: String { path + "/timings.csv.zst" }
    public var unitsPath: String { path + "/units" }
    public var lockPath: String { path + "/run.lock" }
    public func unitPath(_ key: String) -> String { unitsPath + "/" + key + ".unit" }
    public func tablePath(_ name: String) -> String { path + "/\(name).csv.zst" }
    public func recordPath(_ index: Int) -> String {
        let digits = String(index)
        return pointsPath + "/" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".json"
    }

    var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Whether `points/` or `units/` holds any record file (read or not).
    var hasRecordFiles: Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: pointsPath)) ?? []).contains { $0.hasSuffix(".json") }
            || ((try? FileManager.default.contentsOfDirectory(atPath: unitsPath)) ?? []).contains { $0.hasSuffix(".unit") }
    }

    /// Whether the folder holds nothing but (possibly) a unit store named `unit-store`.
    var isEmpty: Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).allSatisfy { $0 == "unit-store" }
    }

    func create() throws {
        do {
            try FileManager.default.createDirectory(atPath: pointsPath, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create \(pointsPath): \(error.localizedDescription)",
                           hint: "check that the parent folder is writable")
        }
    }

    /// Removes temporary files (`*.tmp.*`) a killed writer left in the folder and in
    /// `points/`: every output is renamed into place whole, so they are never results.
    func removeTemporaryFiles() {
        for dir in [path, pointsPath, unitsPath] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.contains(".tmp.") {
                try? FileManager.default.removeItem(atPath: dir + "/" + name)
            }
        }
    }

    /// The frozen spec, or nil when the folder has none.
    func readFrozenSpec() throws -> FrozenSpec? {
        guard FileManager.default.fileExists(atPath: frozenSpecPath) else { return nil }
        return try readJSON(FrozenSpec.self, path: frozenSpecPath)
    }

    /// Every readable record in `points/`, by index. A record that cannot be read, or
    /// belongs to another hash or id, is skipped with a warning (its point runs again).
    func readRecords(frozen: FrozenSpec, warn: (String) -> Void) -> [Int: PointRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: pointsPath)) ?? []
        var records: [Int: PointRecord] = [:]
        for name in names.sorted() {
            let path = pointsPath + "/" + name
            guard name.hasSuffix(".json"), let index = Int(name.dropLast(5)) else { continue }
            do {
                let record = try readJSON(PointRecord.self, path: path)
                guard record.index == index, frozen.points.indices.contains(index),
                      record.specHash == frozen.hash, record.id == frozen.points[index].id else {
                    warn("\(path): belongs to another spec or point; the point runs again")
                    continue
                }
                records[index] = record
            } catch {
                warn("\(path): unreadable (\(error)); the point runs again")
            }
        }
        return records
    }
}

/// `spec.resolved.json`: the resolved spec frozen when a run starts.
public struct FrozenSpec: Codable, Sendable, Equatable {
    public var experiment: String
    public var name: String
    public var hash: String
    /// `ResolvedSpec.canonical`; hashing its compactJSON gives `hash`.
    public var spec: CanonicalValue
    public var points: [PointPlan]
    public var tables: [FrozenTable]

    public struct FrozenTable: Codable, Sendable, Equatable {
        public var name: String
        /// The full header: axis columns the experiment's table lacks, then its own.
        public var columns: [String]
    }

    init(plan: RunPlan) {
        let spec = plan.spec
        experiment = spec.experiment
        name = spec.name
        hash = spec.hash
        self.spec = spec.canonical
        points = spec.points
        tables = plan.tables.map { table in
            FrozenTable(name: table.name, columns: spec.axes.map(\.key).filter { !table.columns.contains($0) } + table.columns)
        }
    }
}

/// `points/<index>.json`: one finished point, durable once renamed into place.
public struct PointRecord: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case ok, failed }

    public var index: Int
    public var id: String
    public var specHash: String
    public var status: Status
    /// The error of a failed point.
    public var error: String?
    /// Rows per table name, each a full row of formatted cells (axis columns first).
    public var tables: [String: [[String]]]
    public var timings: [PointResult.Timing]
    public var seconds: Double
    public var finished: String

    enum CodingKeys: String, CodingKey {
        case index, id, specHash = "spec_hash", status, error, tables, timings, seconds, finished
    }
}

/// Writes `value` as pretty canonical JSON through `writeAtomically`.
func writeJSON<T: Encodable>(_ value: T, path: String) throws {
    try writeAtomically(Data(canonicalValue(of: value).prettyJSON.utf8), path: path)
}

/// Writes `bytes` to `<path>.tmp.<pid>.<n>`, flushes them to the disk and renames the file
/// to `path`: a reader (or a run resumed after a kill or power loss) sees the old file or
/// the whole new one, never a torn one.
func writeAtomically(_ bytes: Data, path: String) throws {
    let temporary = "\(path).tmp.\(getpid()).\(temporaryCounter.next())"
    do {
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw RunError("cannot create \(temporary)", hint: "check that the folder exists and is writable")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        defer { try? handle.close() }
        try handle.write(contentsOf: bytes)
        try handle.synchronize()
        guard rename(temporary, path) == 0 else {
            throw RunError("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))",
                           hint: "check that the destination is writable")
        }
    } catch {
        unlink(temporary)
        if let error = error as? RunError { throw error }
        throw RunError("cannot write \(path): \(error.localizedDescription)", hint: "check free disk space and permissions")
    }
}

/// Numbers temporary files apart when worker threads write at once.
private let temporaryCounter = AtomicCounter()

private final class AtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

/// Reads a JSON file the runner wrote (through the spec decoder, so errors name file:line).
func readJSON<T: Decodable>(_ type: T.Type, path: String) throws -> T {
    let text: String
    do {
        text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw RunError("cannot read \(path)", hint: "check that it exists and is readable")
    }
    let node = try SpecNode.parse(yaml: text, name: path) { .file(path: path, line: $0?.line ?? 1, column: $0?.column ?? 1) }
    return try decodeTree(T.self, from: node, rejectUnknownKeys: false)
}

/// Writes every table of `frozen` from the ok records, rows in point-index order, and
/// `timings.csv.zst` (columns point, id, phase, seconds with 6 decimals).
func writeTables(folder: RunFolder, frozen: FrozenSpec, records: [Int: PointRecord]) throws {
    let finished = records.keys.sorted().compactMap { records[$0]?.status == .ok ? records[$0] : nil }
    for table in frozen.tables {
        let writer = try CSVZstWriter(path: folder.tablePath(table.name), header: table.columns)
        for record in finished {
            for row in record.tables[table.name] ?? [] { try writer.append(row) }
        }
        try writer.close()
    }
    let timings = try CSVZstWriter(path: folder.timingsPath, header: ["point", "id", "phase", "seconds"])
    for record in finished {
        for timing in record.timings {
            try timings.append([String(record.index), record.id, timing.phase, String(format: "%.6f", timing.seconds)])
        }
    }
    try timings.close()
}

/// `run.lock`: held by the run writing to a folder. A second run (or a merge, or a move
/// aside) on a locked folder is refused with the holder's pid; a lock whose process is
/// gone (killed) is taken over.
struct RunLock {
    let path: String

    init(folder: RunFolder) throws {
        path = folder.lockPath
        for _ in 0..<2 {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if fd >= 0 {
                let text = "\(getpid())\n"
                _ = text.withCString { write(fd, $0, strlen($0)) }
                close(fd)
                return
            }
            guard errno == EEXIST else {
                throw RunError("cannot create \(path): \(String(cString: strerror(errno)))", hint: "check that the folder is writable")
            }
            if let holder = RunLock.holder(path), holder != getpid() {
                throw RunError("\(folder.path) is being written by another run (pid \(holder))",
                               hint: "wait for it to finish, or stop it; a run folder takes one run at a time")
            }
            unlink(path)  // a killed run's lock (or our own, left by an earlier run in this process)
        }
        throw RunError("cannot lock \(folder.path)", hint: "remove \(path) if no run is writing to the folder")
    }

    func release() { unlink(path) }

    /// The pid in a lock file whose process is alive, else nil.
    static func holder(_ path: String) -> pid_t? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }

    static func refuseIfHeld(_ folder: RunFolder) throws {
        if let holder = holder(folder.lockPath), holder != getpid() {
            throw RunError("\(folder.path) is being written by another run (pid \(holder))",
                           hint: "wait for it to finish, or stop it, before moving its folder aside")
        }
    }
}
