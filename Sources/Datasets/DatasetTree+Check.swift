import Codecs
import Foundation

/// The outcome of `DatasetTree.check`: every problem found, in path order.
public struct CheckReport: Sendable {
    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        /// Path under the tree root.
        public var path: String
        public var message: String
        public var description: String { "\(path): \(message)" }
    }

    public var problems: [Problem]
    /// Images opened and decoded.
    public var imagesChecked: Int
    /// Checksum of the tree as found, in dataset.json's form.
    public var checksum: String

    public var passed: Bool { problems.isEmpty }
}

extension DatasetTree {
    /// Decodes every image of every split and reports each bad one (unreadable, wrong size,
    /// wrong channel count as stored), anything in the tree that does not belong (unknown
    /// class folder, non-PNG file, directory that is no split), class counts that differ
    /// from dataset.json, and a checksum that differs from dataset.json's.
    public func check(log: @escaping (String) -> Void = { _ in }) throws -> CheckReport {
        var problems = [CheckReport.Problem]()
        var checksum = DatasetChecksum()
        var checked = 0
        let splitNames = Set(manifest.splits.map(\.name))
        for item in try contents(of: root)
        where !splitNames.contains(item) && item != DatasetManifest.fileName && item != DatasetTree.cacheDirectory {
            problems.append(.init(path: item, message: "not a split in dataset.json, nor dataset.json or .cache"))
        }
        for split in manifest.splits {
            guard FileManager.default.fileExists(atPath: path(split.name)) else {
                problems.append(.init(path: split.name, message: "split directory missing (dataset.json lists \(split.count) images)"))
                continue
            }
            let listing = try list(split: split.name)
            for stray in listing.strays {
                let isFolder = stray.split(separator: "/").count == 2
                problems.append(.init(path: stray, message: isFolder
                    ? "unknown class folder (not in dataset.json classes)"
                    : isDirectory(path(stray))
                    ? "a directory inside a class folder (class folders hold only .png files; move its images up or remove it)"
                    : "not a .png image file"))
            }
            let results = try checkImages(listing.entries, split: split.name, log: log)
            var counts = [Int](repeating: 0, count: manifest.classes.count)
            for (entry, result) in zip(listing.entries, results) {
                counts[entry.label] += 1
                checksum.add(relativePath: entry.relativePath, fileHash: result.hash)
                if let message = result.problem { problems.append(.init(path: entry.relativePath, message: message)) }
            }
            checked += listing.entries.count
            for (k, entry) in manifest.classes.enumerated() where counts[k] != split.classCounts[k] {
                problems.append(.init(path: split.name + "/" + entry.folder,
                                      message: "\(counts[k]) images, dataset.json says \(split.classCounts[k])"))
            }
        }
        let found = checksum.value
        if found != manifest.checksum {
            problems.append(.init(path: DatasetManifest.fileName,
                                  message: "checksum \(manifest.checksum), the tree hashes to \(found): files changed since import"))
        }
        problems.sort { DatasetTree.byteOrder($0.path, $1.path) }
        return CheckReport(problems: problems, imagesChecked: checked, checksum: found)
    }

    /// Per image: its file hash (0 if unreadable) and what is wrong with it, if anything.
    func checkImages(_ entries: [Entry], split: String,
                     log: @escaping (String) -> Void) throws -> [(hash: UInt64, problem: String?)] {
        let (c, h, w) = (manifest.channels, manifest.height, manifest.width)
        let color: PNGColor = c == 1 ? .gray : .rgb
        let reporter = ProgressReporter(label: "check \(split)", total: entries.count, sink: log)
        return try parallelMap(count: entries.count, progress: reporter.update) { i -> (UInt64, String?) in
            let file = path(entries[i].relativePath)
            guard let data = FileManager.default.contents(atPath: file) else { return (0, "unreadable") }
            let bytes = [UInt8](data)
            let hash = FNV1a.hash(bytes)
            do {
                let image = try PNG.decode(bytes, as: color, name: file)
                let stored = try PNG.info(path: file)
                if (image.width, image.height) != (w, h) {
                    return (hash, "is \(image.width)x\(image.height), expected \(w)x\(h)")
                }
                if stored.channels != c {
                    return (hash, "has \(stored.channels) channels as stored, expected \(c)")
                }
                return (hash, nil)
            } catch let error as CodecError {
                return (hash, "cannot decode: \(error.message)")
            }
        }
    }
}
