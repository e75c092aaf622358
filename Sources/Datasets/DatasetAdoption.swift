import Codecs
import Foundation

/// What `DatasetAdoption.adopt` did.
public struct AdoptionReport: Sendable {
    public var manifest: DatasetManifest
    /// Images moved from `<class>/` into `train/<class>/` or `test/<class>/` (single-folder trees).
    public var moved: Int
    /// True when an existing dataset.json was rewritten (`refresh`).
    public var refreshed: Bool
}

/// Adopts a plain class-folder tree of PNGs as a dataset: infers the classes, the image
/// shape and channels, the counts and the checksum from the files, and writes
/// `dataset.json` atomically (docs/datasets.md, "Bringing your own images").
///
/// Two layouts:
/// - `train/<class>/*.png` and `test/<class>/*.png`, the same class folders in both;
/// - `<class>/*.png` directly under the root, split with `testFraction`: per class the
///   images are ordered by the FNV-1a-64 hash of their file name (ties by name), a
///   deterministic shuffle that does not depend on the order files were listed in, and
///   the first round(fraction x count) move to `test/<class>/`, the rest to
///   `train/<class>/` (renames inside the root; nothing is copied).
///
/// Class labels are the folders in byte order; display names are the folder names (a
/// refresh keeps the display names, superclasses and source of the old dataset.json).
public enum DatasetAdoption {
    static let splitNames = ["train", "test"]

    public static func adopt(directory: String, testFraction: Double? = nil, refresh: Bool = false, name: String? = nil,
                             log: @escaping (String) -> Void = { _ in }) throws -> AdoptionReport {
        let fm = FileManager.default
        let root = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let manifestPath = root + "/" + DatasetManifest.fileName
        let old: DatasetManifest?
        if fm.fileExists(atPath: manifestPath) {
            guard refresh else {
                throw DatasetError(path: manifestPath, message: "already exists",
                                   hint: "pass --refresh to rewrite it from the files, keeping its class names, superclasses and source")
            }
            old = try? JSONDecoder().decode(DatasetManifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifestPath)))
        } else {
            old = nil
        }
        let top = try visibleContents(of: root)
        let isSplitTree = splitNames.allSatisfy { top.contains($0) && isDirectory(root + "/" + $0) }
        var moved = 0
        if isSplitTree {
            if testFraction != nil {
                throw DatasetError(path: root, message: "already has train/ and test/; --test-fraction splits a tree of class folders only",
                                   hint: "drop --test-fraction")
            }
            if let extra = top.first(where: { !splitNames.contains($0) && $0 != DatasetManifest.fileName }) {
                throw DatasetError(path: root + "/" + extra, message: "is neither train/, test/ nor dataset.json",
                                   hint: "a tree is train/<class>/*.png and test/<class>/*.png; move it out of \(root)")
            }
        } else {
            guard let fraction = testFraction else {
                throw DatasetError(path: root, message: "has no train/ and test/ folders",
                                   hint: "give --test-fraction F (e.g. 0.2) to split its class folders deterministically, or arrange the images as train/<class>/*.png and test/<class>/*.png")
            }
            guard fraction > 0 && fraction < 1 else {
                throw DatasetError(path: root, message: "--test-fraction \(fraction) is not between 0 and 1",
                                   hint: "give the share of each class that becomes test images, e.g. 0.2")
            }
            moved = try split(root: root, classFolders: top.filter { $0 != DatasetManifest.fileName }, fraction: fraction, log: log)
        }

        // Classes: the same folders in every split.
        var folders: [String]?
        for split in splitNames {
            let here = try visibleContents(of: root + "/" + split)
            for item in here where !isDirectory(root + "/" + split + "/" + item) {
                throw DatasetError(path: root + "/" + split + "/" + item, message: "is a file where class folders belong",
                                   hint: "put each image in \(split)/<class>/; remove or move the file")
            }
            if let known = folders, known != here {
                let missing = Set(known).symmetricDifference(here).sorted(by: DatasetTree.byteOrder)
                throw DatasetError(path: root + "/" + split,
                                   message: "has class folders \(here.joined(separator: ", ")), train has \(known.joined(separator: ", ")) (differing: \(missing.joined(separator: ", ")))",
                                   hint: "give train/ and test/ the same class folders (an empty folder is allowed)")
            }
            folders = here
        }
        let classFolders = folders ?? []
        guard classFolders.count >= 2 else {
            throw DatasetError(path: root + "/train", message: "has \(classFolders.count) class folder(s); a classifier needs at least 2",
                               hint: "one folder per class: train/<class>/*.png")
        }
        if let bad = classFolders.first(where: { !FolderName.isValid($0) }) {
            throw DatasetError(path: root + "/train/" + bad, message: "is not a usable class folder name",
                               hint: "rename it using only A-Z a-z 0-9 . - _ (not starting with .), in train/ and test/")
        }

        // Every file: a PNG, decodable, one shape, gray or RGB.
        var entries: [DatasetTree.Entry] = []
        for split in splitNames {
            for (label, folder) in classFolders.enumerated() {
                let relative = split + "/" + folder
                for file in try visibleContents(of: root + "/" + relative) {
                    let path = root + "/" + relative + "/" + file
                    if isDirectory(path) {
                        throw DatasetError(path: path, message: "is a directory inside a class folder",
                                           hint: "class folders hold only .png files; move its images up into \(relative)/ or remove it")
                    }
                    guard DatasetTree.isImageFileName(file) else {
                        throw DatasetError(path: path, message: "is not a .png image file",
                                           hint: "convert it to PNG or move it out of the tree")
                    }
                    entries.append(.init(relativePath: relative + "/" + file, label: label))
                }
            }
        }
        let reporter = ProgressReporter(label: "inspect", total: entries.count, sink: log)
        let inspected = try parallelMap(count: entries.count, progress: reporter.update) { i -> Inspected in
            let path = root + "/" + entries[i].relativePath
            let bytes = try PNG.readFile(path: path)
            let info = try PNG.info(bytes, name: path)
            _ = try PNG.decode(bytes, as: .gray, name: path)
            return Inspected(width: info.width, height: info.height, channels: info.channels, hash: FNV1a.hash(bytes),
                             stamp: FileStamp(path: path))
        }
        guard let first = inspected.first else {
            throw DatasetError(path: root, message: "holds no .png images", hint: "put the images in train/<class>/ and test/<class>/")
        }
        for (entry, image) in zip(entries, inspected) {
            let path = root + "/" + entry.relativePath
            if image.channels != 1 && image.channels != 3 {
                throw DatasetError(path: path, message: "stores \(PNGInfo.describe(channels: image.channels)); datasets are gray or RGB without alpha",
                                   hint: "convert the images without alpha (e.g. `mogrify -alpha off *.png`) and run init again")
            }
            if (image.width, image.height, image.channels) != (first.width, first.height, first.channels) {
                throw DatasetError(path: path,
                                   message: "is \(image.width)x\(image.height) \(PNGInfo.describe(channels: image.channels)), \(entries[0].relativePath) is \(first.width)x\(first.height) \(PNGInfo.describe(channels: first.channels))",
                                   hint: "every image of a dataset has one size and one colour type; resize or convert them and run init again")
            }
        }

        var checksum = DatasetChecksum()
        var stamps = StampCache()
        for (entry, image) in zip(entries, inspected) {
            checksum.add(relativePath: entry.relativePath, fileHash: image.hash)
            if let stamp = image.stamp { stamps.record(entry.relativePath, stamp: stamp, hash: image.hash) }
        }
        let splits = splitNames.map { split in
            DatasetManifest.Split(name: split, classCounts: classFolders.indices.map { label in
                entries.filter { $0.label == label && $0.relativePath.hasPrefix(split + "/") }.count
            })
        }
        let oldNames = Dictionary((old?.classes ?? []).map { ($0.folder, $0.name) }, uniquingKeysWith: { a, _ in a })
        let classes = classFolders.map { DatasetManifest.ClassEntry(folder: $0, name: oldNames[$0] ?? $0) }
        let groups = old?.superclasses.flatMap { groups -> [DatasetManifest.Superclass]? in
            Set(groups.flatMap(\.classes)) == Set(classFolders) ? groups : nil
        }
        let absolute = URL(fileURLWithPath: root).standardizedFileURL
        let manifest = DatasetManifest(
            name: name ?? old?.name ?? absolute.lastPathComponent, classes: classes, superclasses: groups,
            imageShape: [first.channels, first.height, first.width],
            source: old?.source ?? "adopted by `persephone datasets init` from \(absolute.path)",
            splits: splits, checksum: checksum.value)
        try manifest.validate(path: manifestPath)
        try manifest.write(directory: root)
        let tree = try DatasetTree(root: root)
        try? stamps.save(tree: tree, paths: entries.map(\.relativePath))
        return AdoptionReport(manifest: manifest, moved: moved, refreshed: old != nil)
    }

    struct Inspected {
        var width: Int, height: Int, channels: Int
        var hash: UInt64
        var stamp: FileStamp?
    }

    /// Moves `<class>/*` to `train/<class>/` and `test/<class>/`; returns the files moved.
    static func split(root: String, classFolders: [String], fraction: Double, log: (String) -> Void) throws -> Int {
        let fm = FileManager.default
        for folder in classFolders {
            if !isDirectory(root + "/" + folder) {
                throw DatasetError(path: root + "/" + folder, message: "is a file where class folders belong",
                                   hint: "put each image in <class>/ under \(root); remove or move the file")
            }
            if splitNames.contains(folder) {
                throw DatasetError(path: root + "/" + folder, message: "a class folder cannot be named \(folder) when splitting",
                                   hint: "rename the class folder, or arrange the tree as train/<class>/ and test/<class>/ yourself")
            }
        }
        // Plan every move before making any.
        var moves: [(from: String, to: String)] = []
        for folder in classFolders {
            let files = try visibleContents(of: root + "/" + folder)
            let ordered = files.sorted { a, b in
                let (ha, hb) = (FNV1a.hash(Array(a.utf8)), FNV1a.hash(Array(b.utf8)))
                return ha != hb ? ha < hb : DatasetTree.byteOrder(a, b)
            }
            let testCount = Int((fraction * Double(ordered.count)).rounded())
            for (k, file) in ordered.enumerated() {
                let split = k < testCount ? "test" : "train"
                moves.append((folder + "/" + file, split + "/" + folder + "/" + file))
            }
        }
        do {
            for split in splitNames {
                for folder in classFolders {
                    try fm.createDirectory(atPath: root + "/" + split + "/" + folder, withIntermediateDirectories: true)
                }
            }
            for move in moves { try fm.moveItem(atPath: root + "/" + move.from, toPath: root + "/" + move.to) }
            for folder in classFolders { try fm.removeItem(atPath: root + "/" + folder) }
        } catch {
            throw DatasetError(path: root, message: "cannot move the images into train/ and test/: \(error.localizedDescription)",
                               hint: "check permissions; images already moved are in \(root)/train and \(root)/test, and running init again without --test-fraction adopts that tree")
        }
        log("split \(classFolders.count) class folders of \(root): \(moves.filter { $0.to.hasPrefix("test/") }.count) test, \(moves.filter { $0.to.hasPrefix("train/") }.count) train images")
        return moves.count
    }

    /// Non-hidden directory entries in byte order (`.cache` and other dot names are skipped).
    static func visibleContents(of directory: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory)
                .filter { !$0.hasPrefix(".") }.sorted(by: DatasetTree.byteOrder)
        } catch {
            throw DatasetError(path: directory, message: "cannot list directory: \(error.localizedDescription)",
                               hint: "give the directory holding the class folders (or train/ and test/)")
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }
}
