import Foundation
import SourceFingerprint

/// What produced a run, filled partly by the caller (dataset checksum, library
/// versions) and partly by `Provenance.collect` (git, toolchain, machine).
public struct Provenance: Codable, Sendable, Equatable {
    public var gitCommit: String?
    /// True when `git status --porcelain` lists changes; nil without git.
    public var gitDirty: Bool?
    /// Checksum of the dataset the experiment read (the caller knows which); nil if none.
    public var datasetChecksum: String?
    /// The code that computed the results: the fingerprint of the `Sources/` and
    /// `Package.swift` this binary was built from (`sources:fnv1a64:...`, embedded at build
    /// time, `SourceFingerprint`), so edits to docs, specs or results keep it and an
    /// unrebuilt binary is never credited with newer code. Manifests written before it
    /// existed hold `git:<tree>:<blob>` or nil (unknown code: no run counts as current).
    public var code: String?
    /// Input file -> fingerprint (checkpoint bytes, dataset tree checksum), from the
    /// experiment's configurations (`ExperimentConfig.inputFingerprints`).
    public var inputs: [String: String]
    /// The Swift compiler that built this binary (from `#if compiler` checks).
    public var swiftCompiler: String
    public var operatingSystem: String
    /// Library name -> version string (libpng, zstd, OpenBLAS...), passed in by the caller.
    public var libraries: [String: String]
    public var machine: Machine

    public struct Machine: Codable, Sendable, Equatable {
        public var cpuModel: String?
        public var cores: Int
        public var activeCores: Int
        public var memoryBytes: Int64
        public var hostname: String

        public init(cpuModel: String?, cores: Int, activeCores: Int, memoryBytes: Int64, hostname: String) {
            self.cpuModel = cpuModel; self.cores = cores; self.activeCores = activeCores
            self.memoryBytes = memoryBytes; self.hostname = hostname
        }

        enum CodingKeys: String, CodingKey {
            case cpuModel = "cpu_model", cores, activeCores = "active_cores", memoryBytes = "memory_bytes", hostname
        }
    }

    enum CodingKeys: String, CodingKey {
        case gitCommit = "git_commit", gitDirty = "git_dirty", datasetChecksum = "dataset_checksum", code, inputs
        case swiftCompiler = "swift_compiler", operatingSystem = "operating_system", libraries, machine
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        gitCommit = try c.decodeIfPresent(String.self, forKey: .gitCommit)
        gitDirty = try c.decodeIfPresent(Bool.self, forKey: .gitDirty)
        datasetChecksum = try c.decodeIfPresent(String.self, forKey: .datasetChecksum)
        // Manifests written before these fields existed: unknown code, no inputs recorded.
        code = try c.decodeIfPresent(String.self, forKey: .code)
        inputs = try c.decodeIfPresent([String: String].self, forKey: .inputs) ?? [:]
        swiftCompiler = try c.decode(String.self, forKey: .swiftCompiler)
        operatingSystem = try c.decode(String.self, forKey: .operatingSystem)
        libraries = try c.decode([String: String].self, forKey: .libraries)
        machine = try c.decode(Machine.self, forKey: .machine)
    }

    public init(gitCommit: String?, gitDirty: Bool?, datasetChecksum: String?, code: String?, inputs: [String: String],
                swiftCompiler: String, operatingSystem: String, libraries: [String: String], machine: Machine) {
        self.gitCommit = gitCommit; self.gitDirty = gitDirty; self.datasetChecksum = datasetChecksum
        self.code = code; self.inputs = inputs; self.swiftCompiler = swiftCompiler
        self.operatingSystem = operatingSystem; self.libraries = libraries; self.machine = machine
    }

    /// Results made under `other` were computed by this code from these inputs: same code
    /// fingerprint (known on both sides) and same input fingerprints.
    public func isCurrent(against other: Provenance) -> Bool {
        code != nil && code == other.code && inputs == other.inputs
    }

    /// Collects what the process can find out itself; git is asked in the current
    /// directory and may be absent (the fields stay nil). `code` is the binary's own
    /// fingerprint wherever it runs; when the current directory is a source tree whose
    /// fingerprint differs (sources edited since the build), a warning says so on stderr.
    public static func collect(datasetChecksum: String? = nil, libraries: [String: String] = [:],
                               inputs: [String: String] = [:]) -> Provenance {
        let info = ProcessInfo.processInfo
        let commit = runGit(["rev-parse", "HEAD"])?.trimmingCharacters(in: .whitespacesAndNewlines)
        let status = commit == nil ? nil : runGit(["status", "--porcelain"])
        return Provenance(
            gitCommit: commit, gitDirty: status.map { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty },
            datasetChecksum: datasetChecksum, code: codeFingerprint(), inputs: inputs,
            swiftCompiler: compilerVersion,
            operatingSystem: info.operatingSystemVersionString, libraries: libraries,
            machine: Machine(cpuModel: cpuModel(), cores: info.processorCount, activeCores: info.activeProcessorCount,
                             memoryBytes: Int64(clamping: info.physicalMemory), hostname: info.hostName))
    }

    /// The fingerprint embedded in this binary; warns (once per process) when the tree in
    /// the current directory has another.
    static func codeFingerprint() -> String {
        if let message = sourceTreeMismatch(directory: FileManager.default.currentDirectoryPath) {
            warnOnce(message)
        }
        return embeddedSourceFingerprint
    }

    /// The code fingerprint embedded in this binary at build time.
    public static var binaryCodeFingerprint: String { embeddedSourceFingerprint }

    /// Why the source tree at `directory` is not the one this binary was built from, or nil
    /// when it is, or when `directory` holds no source tree (a run from elsewhere).
    public static func sourceTreeMismatch(directory: String) -> String? {
        guard let tree = SourceFingerprint.compute(root: directory), tree != embeddedSourceFingerprint else { return nil }
        return "this binary was built from other sources (\(embeddedSourceFingerprint)) than \(directory)/Sources and Package.swift (\(tree)): "
            + "results are credited to the code it was built from; rebuild (`swift build -c release`) to run the current sources"
    }

    private static let warned = NSLock()
    nonisolated(unsafe) private static var hasWarned = false

    private static func warnOnce(_ message: String) {
        warned.lock()
        defer { warned.unlock() }
        guard !hasWarned else { return }
        hasWarned = true
        FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
    }

    /// The compiler version as far as `#if compiler` can tell (the binary has no other record).
    static var compilerVersion: String {
        #if compiler(>=6.4)
        return ">= 6.4"
        #elseif compiler(>=6.3.1)
        return "6.3.1 or a later 6.3.x"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2.x"
        #elseif compiler(>=6.1)
        return "6.1.x"
        #elseif compiler(>=6.0)
        return "6.0.x"
        #else
        return "< 6.0"
        #endif
    }

    /// The `model name` line of /proc/cpuinfo (Linux), or nil.
    static func cpuModel() -> String? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Runs git with `arguments`; its standard output, or nil if git is missing or fails.
    static func runGit(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// `manifest.json`: provenance and the status of every point of a run folder.
public struct Manifest: Codable, Sendable, Equatable {
    public var experiment: String
    public var name: String
    public var specHash: String
    public var spec: CanonicalValue
    /// `complete` (every point ok), `failed` (some point failed) or `partial` (some
    /// point not run here: another shard's, or an interrupted run).
    public var status: String
    /// The shard this folder ran (`0/1` for a whole run); `merged` for `persephone merge`.
    public var shard: String
    /// Values of every swept or configured key named `seed`/`seeds` or ending in `.seed`/`.seeds`.
    public var seeds: [CanonicalValue]
    public var provenance: Provenance
    public var started: String
    public var ended: String
    public var points: [PointStatus]
    /// The folders a merge read, in order; empty for a run.
    public var mergedFrom: [String]
    /// How this run's units were obtained (nil in manifests written before units).
    public var units: UnitCounts?

    /// Units of this run (its shard's, for a sharded run): read from the store, computed,
    /// failed; and the store's folder.
    public struct UnitCounts: Codable, Sendable, Equatable {
        public var total: Int
        public var reused: Int
        public var computed: Int
        public var failed: Int
        public var store: String
    }

    public struct PointStatus: Codable, Sendable, Equatable {
        public var index: Int
        public var id: String
        /// `ok`, `failed` or `pending`.
        public var status: String
        public var error: String?
        public var seconds: Double?
    }

    enum CodingKeys: String, CodingKey {
        case experiment, name, specHash = "spec_hash", spec, status, shard, seeds, provenance, started, ended, points
        case mergedFrom = "merged_from", units
    }

    init(frozen: FrozenSpec, records: [Int: PointRecord], shard: String, provenance: Provenance,
         started: Date, ended: Date, mergedFrom: [String] = []) {
        experiment = frozen.experiment
        name = frozen.name
        specHash = frozen.hash
        spec = frozen.spec
        self.shard = shard
        self.provenance = provenance
        self.started = timestamp(started)
        self.ended = timestamp(ended)
        self.mergedFrom = mergedFrom
        points = frozen.points.map { plan in
            guard let record = records[plan.index] else {
                return PointStatus(index: plan.index, id: plan.id, status: "pending", error: nil, seconds: nil)
            }
            return PointStatus(index: plan.index, id: plan.id, status: record.status.rawValue, error: record.error,
                               seconds: record.seconds)
        }
        if points.contains(where: { $0.status == "failed" }) { status = "failed" }
        else if points.contains(where: { $0.status == "pending" }) { status = "partial" }
        else { status = "complete" }
        seeds = Manifest.seeds(in: frozen.spec)
    }

    /// `seed`, `seeds` or a dotted key ending in one of them.
    static func isSeedKey(_ key: String) -> Bool {
        key == "seed" || key == "seeds" || key.hasSuffix(".seed") || key.hasSuffix(".seeds")
    }

    /// Seeds of the spec: every swept seed value, else the configuration's `seed` values and
    /// the members of its `seeds` lists.
    static func seeds(in spec: CanonicalValue) -> [CanonicalValue] {
        var found: [CanonicalValue] = []
        func add(_ v: CanonicalValue) { if !found.contains(v) { found.append(v) } }
        if case let .list(axes)? = spec.value(at: ["sweep"]) {
            for axis in axes {
                guard case let .string(key)? = axis.value(at: ["key"]), Manifest.isSeedKey(key),
                      case let .list(values)? = axis.value(at: ["values"]) else { continue }
                values.forEach(add)
            }
        }
        if found.isEmpty, let config = spec.value(at: ["config"]) {
            func walk(_ v: CanonicalValue) {
                guard case let .map(m) = v else { return }
                for key in m.keys.sorted() {
                    if key == "seed" { add(m[key]!) }
                    else if key == "seeds", case let .list(values) = m[key]! { values.forEach(add) }
                    else { walk(m[key]!) }
                }
            }
            walk(config)
        }
        return found
    }
}

/// ISO 8601 UTC with milliseconds.
func timestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}
