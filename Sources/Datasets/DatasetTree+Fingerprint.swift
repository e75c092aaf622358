import Codecs
import Foundation

/// Per-file content hashes kept between runs, `<root>/.cache/stamps.tsv`: one line per
/// image, `<size>\t<mtime seconds>\t<mtime nanoseconds>\t<FNV-1a-64 hex>\t<relative path>`.
/// A file whose size and modification time still match its line is not read again;
/// any other file is read and hashed, and the table rewritten (atomically). The table is
/// only a shortcut: deleting it costs one full read of the tree.
struct StampCache {
    static let fileName = "stamps.tsv"
    private var rows: [String: (stamp: FileStamp, hash: UInt64)] = [:]

    init() {}

    /// The table under `tree`, or an empty one if it is missing or unreadable.
    init(tree: DatasetTree) {
        guard let data = FileManager.default.contents(atPath: tree.stampCachePath),
              let text = String(data: data, encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false)
            guard f.count == 5, let size = Int64(f[0]), let s = Int64(f[1]), let ns = Int64(f[2]),
                  let hash = UInt64(f[3], radix: 16) else { continue }
            rows[String(f[4])] = (FileStamp(size: size, seconds: s, nanoseconds: ns), hash)
        }
    }

    func hash(of relativePath: String, stamp: FileStamp) -> UInt64? {
        guard let row = rows[relativePath], row.stamp == stamp else { return nil }
        return row.hash
    }

    mutating func record(_ relativePath: String, stamp: FileStamp, hash: UInt64) { rows[relativePath] = (stamp, hash) }

    /// Writes the table for exactly `paths` (dropping files no longer in the tree).
    func save(tree: DatasetTree, paths: [String]) throws {
        var text = ""
        for path in paths.sorted(by: DatasetTree.byteOrder) {
            guard let row = rows[path] else { continue }
            text += "\(row.stamp.size)\t\(row.stamp.seconds)\t\(row.stamp.nanoseconds)\t\(FNV1a.hex(row.hash))\t\(path)\n"
        }
        try tree.makeCacheDirectory()
        try Data(text.utf8).write(to: URL(fileURLWithPath: tree.stampCachePath), options: .atomic)
    }
}

extension FileStamp {
    init(size: Int64, seconds: Int64, nanoseconds: Int64) {
        self.size = size; self.seconds = seconds; self.nanoseconds = nanoseconds
    }
}

/// What `DatasetTree.contentChecksum` found.
public struct ContentChecksum: Equatable, Sendable {
    /// `fnv1a64:<16 hex digits>`, defined as dataset.json's `checksum` (`DatasetChecksum`)
    /// but computed from the files now on disk.
    public var value: String
    /// Image files in the tree, over all splits.
    public var files: Int
    /// Files read and hashed because the stamp table had no matching line for them.
    public var hashed: Int
}

extension DatasetTree {
    var stampCachePath: String { path(DatasetTree.cacheDirectory + "/" + StampCache.fileName) }

    /// The tree's checksum computed from its images (every split's `.png` files in known
    /// class folders), in dataset.json's definition, so an unchanged tree gives exactly
    /// the checksum recorded at import or `datasets init`. Only files whose size or
    /// modification time changed since the last call are read (`StampCache`); the table is
    /// rewritten when anything was hashed, and a table that cannot be written is skipped.
    public func contentChecksum() throws -> ContentChecksum {
        var entries: [Entry] = []
        for split in manifest.splits where FileManager.default.fileExists(atPath: path(split.name)) {
            entries += try list(split: split.name).entries
        }
        var cache = StampCache(tree: self)
        let stamps = try parallelMap(count: entries.count, chunkSize: 1024) { i -> FileStamp in
            let file = path(entries[i].relativePath)
            guard let stamp = FileStamp(path: file) else {
                throw DatasetError(path: file, message: "cannot stat", hint: "check permissions, or re-import the dataset")
            }
            return stamp
        }
        let known = entries.indices.map { cache.hash(of: entries[$0].relativePath, stamp: stamps[$0]) }
        let missing = entries.indices.filter { known[$0] == nil }
        let fresh = try parallelMap(count: missing.count, chunkSize: 64) { k -> UInt64 in
            let file = path(entries[missing[k]].relativePath)
            guard let data = FileManager.default.contents(atPath: file) else {
                throw DatasetError(path: file, message: "unreadable", hint: "check permissions, or re-import the dataset")
            }
            return FNV1a.hash([UInt8](data))
        }
        var checksum = DatasetChecksum()
        var hashes = known
        for (k, i) in missing.enumerated() {
            hashes[i] = fresh[k]
            cache.record(entries[i].relativePath, stamp: stamps[i], hash: fresh[k])
        }
        for (entry, hash) in zip(entries, hashes) { checksum.add(relativePath: entry.relativePath, fileHash: hash!) }
        if !missing.isEmpty { try? cache.save(tree: self, paths: entries.map(\.relativePath)) }
        return ContentChecksum(value: checksum.value, files: entries.count, hashed: missing.count)
    }

    /// The dataset fingerprint results are keyed by: `contentChecksum().value` of the tree
    /// at `directory`, or `missing` when it cannot be opened or read. Computed once per
    /// process and directory (a run's sweep points ask for it once each, and a process
    /// loads each tree once, `SplitCache`); call `contentChecksum()` for a fresh value.
    public static func fingerprint(directory: String) -> String {
        FingerprintMemo.shared.value(for: directory) {
            guard let tree = try? DatasetTree(root: directory), let checksum = try? tree.contentChecksum() else { return "missing" }
            return checksum.value
        }
    }
}

/// `DatasetTree.fingerprint`'s per-process results.
final class FingerprintMemo: @unchecked Sendable {
    static let shared = FingerprintMemo()
    private let lock = NSLock()
    private var values: [String: String] = [:]

    func value(for directory: String, compute: () -> String) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let known = values[directory] { return known }
        let value = compute()
        values[directory] = value
        return value
    }
}
