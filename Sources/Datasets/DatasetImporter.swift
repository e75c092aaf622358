import Codecs
import Foundation

/// What an importer turns into a tree: class names in label order, optional superclass
/// groups, and the splits' images in source order.
public struct ImportPlan: Sendable {
    public struct Split: Sendable {
        public var name: String
        public var images: LabelledImages
        public init(name: String, images: LabelledImages) { self.name = name; self.images = images }
    }

    public var name: String
    public var classNames: [String]
    /// Groups of class indices with their names; nil when the source has none.
    public var superclasses: [(name: String, classes: [Int])]?
    public var source: String
    public var splits: [Split]

    public init(name: String, classNames: [String], superclasses: [(name: String, classes: [Int])]?,
                source: String, splits: [Split]) {
        self.name = name
        self.classNames = classNames
        self.superclasses = superclasses
        self.source = source
        self.splits = splits
    }
}

/// Writes an `ImportPlan` as a PNG class-folder tree (docs/datasets.md).
public enum DatasetImporter {
    /// Builds the tree beside `destination` (`<destination>.partial-<pid>`) and renames it
    /// into place, so an interrupted import never leaves a tree that looks complete. An
    /// existing `destination` is refused unless `force`, which replaces it. PNGs are
    /// encoded and written on all cores. `log` receives progress lines.
    @discardableResult
    public static func write(_ plan: ImportPlan, to destination: String, force: Bool = false,
                             log: @escaping (String) -> Void = { _ in }) throws -> DatasetManifest {
        let fm = FileManager.default
        let destination = destination.hasSuffix("/") && destination.count > 1
            ? String(destination.dropLast()) : destination
        if fm.fileExists(atPath: destination) && !force {
            throw DatasetError(path: destination, message: "already exists; refusing to overwrite it",
                               hint: "pass --force to replace it, or choose another directory with --to")
        }
        let folders = plan.classNames.map(FolderName.folder(forClassName:))
        if let duplicate = folders.enumerated().first(where: { folders.firstIndex(of: $0.element) != $0.offset }) {
            throw DatasetError(path: destination,
                               message: "class names \"\(plan.classNames[folders.firstIndex(of: duplicate.element)!])\" and \"\(plan.classNames[duplicate.offset])\" map to the same folder \"\(duplicate.element)\"",
                               hint: "rename one of the classes in the source's class-name file")
        }
        // The source readers validate their input; these are programmer errors.
        guard let first = plan.splits.first?.images else {
            preconditionFailure("an import plan needs at least one split")
        }
        for split in plan.splits {
            let images = split.images
            precondition((images.channels, images.height, images.width) == (first.channels, first.height, first.width),
                         "split \(split.name) has another image shape")
            precondition(images.labels.allSatisfy { $0 >= 0 && $0 < plan.classNames.count },
                         "split \(split.name) has labels outside the \(plan.classNames.count) classes")
        }
        let partial = destination + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        try? fm.removeItem(atPath: partial)
        do {
            var checksum = DatasetChecksum()
            var splits = [DatasetManifest.Split]()
            for split in plan.splits {
                let counts = try writeSplit(split, folders: folders, into: partial, checksum: &checksum, log: log)
                splits.append(DatasetManifest.Split(name: split.name, classCounts: counts))
            }
            let manifest = DatasetManifest(
                name: plan.name,
                classes: zip(folders, plan.classNames).map { DatasetManifest.ClassEntry(folder: $0, name: $1) },
                superclasses: plan.superclasses.map { groups in
                    groups.map { DatasetManifest.Superclass(name: $0.name, classes: $0.classes.map { folders[$0] }) }
                },
                imageShape: [first.channels, first.height, first.width],
                source: plan.source, splits: splits, checksum: checksum.value)
            try manifest.validate(path: partial + "/" + DatasetManifest.fileName)
            try manifest.write(directory: partial)
            try moveIntoPlace(partial, destination, force: force)
            return manifest
        } catch {
            try? fm.removeItem(atPath: partial)
            throw error
        }
    }

    /// Writes one split's PNGs and returns the image count per class.
    static func writeSplit(_ split: ImportPlan.Split, folders: [String], into root: String,
                           checksum: inout DatasetChecksum, log: @escaping (String) -> Void) throws -> [Int] {
        let images = split.images
        for folder in folders {
            try makeDirectory(root + "/" + split.name + "/" + folder)
        }
        // Ids are zero-padded source indices, so byte order of file names is source order.
        let digits = max(5, String(max(0, images.count - 1)).count)
        let reporter = ProgressReporter(label: "import \(split.name)", total: images.count, sink: log)
        let hashes = try parallelMap(count: images.count, progress: reporter.update) { i -> (String, UInt64) in
            let id = String(i)
            let relative = split.name + "/" + folders[images.labels[i]] + "/"
                + String(repeating: "0", count: digits - id.count) + id + ".png"
            let png = try PNG.encode(PNGImage(width: images.width, height: images.height,
                                              channels: images.channels, pixels: images.interleavedImage(i)))
            try PlainFile.write(png, to: root + "/" + relative)
            return (relative, FNV1a.hash(png))
        }
        for (path, hash) in hashes { checksum.add(relativePath: path, fileHash: hash) }
        var counts = [Int](repeating: 0, count: folders.count)
        for label in images.labels { counts[label] += 1 }
        return counts
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw DatasetError(path: path, message: "cannot create directory: \(error.localizedDescription)",
                               hint: "check that the parent directory is writable")
        }
    }

    /// Renames the finished tree into place; with `force`, an existing tree is first moved
    /// aside and deleted only after the new one is in place.
    static func moveIntoPlace(_ partial: String, _ destination: String, force: Bool) throws {
        let fm = FileManager.default
        var aside: String?
        if force && fm.fileExists(atPath: destination) {
            let old = destination + ".replaced-\(ProcessInfo.processInfo.processIdentifier)"
            try? fm.removeItem(atPath: old)
            do { try fm.moveItem(atPath: destination, toPath: old) } catch {
                throw DatasetError(path: destination, message: "cannot move the existing tree aside: \(error.localizedDescription)",
                                   hint: "remove it by hand and import again")
            }
            aside = old
        }
        do {
            try fm.moveItem(atPath: partial, toPath: destination)
        } catch {
            if let old = aside { try? fm.moveItem(atPath: old, toPath: destination) }
            throw DatasetError(path: destination, message: "cannot rename \(partial) into place: \(error.localizedDescription)",
                               hint: "check that the parent directory is writable")
        }
        if let old = aside { try? fm.removeItem(atPath: old) }
    }
}
