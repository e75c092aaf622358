import Foundation

/// The contents of a tree's `dataset.json` (field by field in docs/datasets.md).
///
/// `classes` are in label order: class k's images live in `<split>/<classes[k].folder>/`.
/// `superclasses`, when present, partition the classes (each class folder in exactly one
/// group); a group's index is its superclass label. `imageShape` is [C, H, W] with C 1
/// (gray) or 3 (RGB). `splits` give, per split, the image count per class in label order.
/// `checksum` is `fnv1a64:<16 hex digits>` over the tree's PNG files (see `DatasetChecksum`).
public struct DatasetManifest: Codable, Equatable, Sendable {
    public static let fileName = "dataset.json"
    public static let currentFormat = 1

    public struct ClassEntry: Codable, Equatable, Sendable {
        /// Folder name under each split directory.
        public var folder: String
        /// Display name, as the source spells it.
        public var name: String
        public init(folder: String, name: String) { self.folder = folder; self.name = name }
    }

    public struct Superclass: Codable, Equatable, Sendable {
        public var name: String
        /// Folders of the member classes.
        public var classes: [String]
        public init(name: String, classes: [String]) { self.name = name; self.classes = classes }
    }

    public struct Split: Codable, Equatable, Sendable {
        /// Directory name under the tree root, e.g. `train`.
        public var name: String
        /// Images per class, in label order.
        public var classCounts: [Int]
        public var count: Int { classCounts.reduce(0, +) }
        public init(name: String, classCounts: [Int]) { self.name = name; self.classCounts = classCounts }
    }

    /// Version of this schema; readers refuse a newer one.
    public var format: Int
    public var name: String
    public var classes: [ClassEntry]
    public var superclasses: [Superclass]?
    /// [C, H, W].
    public var imageShape: [Int]
    /// Where the images came from (files and package), for provenance.
    public var source: String
    public var splits: [Split]
    public var checksum: String

    public init(name: String, classes: [ClassEntry], superclasses: [Superclass]?, imageShape: [Int],
                source: String, splits: [Split], checksum: String) {
        self.format = DatasetManifest.currentFormat
        self.name = name
        self.classes = classes
        self.superclasses = superclasses
        self.imageShape = imageShape
        self.source = source
        self.splits = splits
        self.checksum = checksum
    }

    public var channels: Int { imageShape[0] }
    public var height: Int { imageShape[1] }
    public var width: Int { imageShape[2] }

    /// For each class in label order, the index of its superclass, or nil without groups.
    public var superclassOfClass: [Int]? {
        guard let groups = superclasses else { return nil }
        var map = [Int](repeating: -1, count: classes.count)
        for (g, group) in groups.enumerated() {
            for folder in group.classes {
                if let k = classes.firstIndex(where: { $0.folder == folder }) { map[k] = g }
            }
        }
        return map
    }

    /// Checks the invariants stated on the type; `path` names the file in errors.
    public func validate(path: String) throws {
        func fail(_ message: String) -> DatasetError {
            DatasetError(path: path, message: message,
                         hint: "fix \(DatasetManifest.fileName) by hand or re-import the dataset (docs/datasets.md lists the fields)")
        }
        guard format <= DatasetManifest.currentFormat else {
            throw DatasetError(path: path, message: "format \(format) is newer than this build reads (\(DatasetManifest.currentFormat))",
                               hint: "update Persephone")
        }
        guard imageShape.count == 3, [1, 3].contains(imageShape[0]), imageShape[1] > 0, imageShape[2] > 0 else {
            throw fail("imageShape \(imageShape) is not [C, H, W] with C 1 or 3 and positive H, W")
        }
        guard !classes.isEmpty else { throw fail("no classes") }
        var seen = Set<String>()
        for (k, entry) in classes.enumerated() {
            guard FolderName.isValid(entry.folder) else {
                throw fail("classes[\(k)].folder \"\(entry.folder)\" is not a safe folder name (A-Z a-z 0-9 . - _, not starting with .)")
            }
            guard seen.insert(entry.folder).inserted else {
                throw fail("classes[\(k)].folder \"\(entry.folder)\" appears twice")
            }
        }
        if let groups = superclasses {
            var owner = [String: String]()
            for (g, group) in groups.enumerated() {
                for folder in group.classes {
                    guard seen.contains(folder) else {
                        throw fail("superclasses[\(g)] (\(group.name)) lists \"\(folder)\", which is not a class folder")
                    }
                    if let other = owner.updateValue(group.name, forKey: folder) {
                        throw fail("class \"\(folder)\" is in superclasses \(other) and \(group.name); each class must be in exactly one")
                    }
                }
            }
            if let missing = classes.first(where: { owner[$0.folder] == nil }) {
                throw fail("class \"\(missing.folder)\" is in no superclass; superclasses must cover every class")
            }
        }
        var splitNames = Set<String>()
        for split in splits {
            guard FolderName.isValid(split.name), splitNames.insert(split.name).inserted else {
                throw fail("split name \"\(split.name)\" is not a safe folder name or appears twice")
            }
            guard split.classCounts.count == classes.count, split.classCounts.allSatisfy({ $0 >= 0 }) else {
                throw fail("split \(split.name) has \(split.classCounts.count) class counts for \(classes.count) classes")
            }
        }
    }

    /// Reads and validates `<directory>/dataset.json`.
    public static func read(directory: String) throws -> DatasetManifest {
        let path = directory + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: directory)
            throw DatasetError(
                path: path,
                message: exists ? "missing or unreadable" : "no such dataset directory \(directory)",
                hint: "import a dataset first (`persephone datasets import fashion-mnist`), or give the directory that holds dataset.json")
        }
        let manifest: DatasetManifest
        do {
            manifest = try JSONDecoder().decode(DatasetManifest.self, from: data)
        } catch let error as DecodingError {
            throw DatasetError(path: path, message: describe(error),
                               hint: "fix \(fileName) by hand or re-import the dataset (docs/datasets.md lists the fields)")
        }
        try manifest.validate(path: path)
        return manifest
    }

    /// Pretty, key-sorted JSON, so the same manifest always gives the same bytes.
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings and integers cannot fail.
        return try! encoder.encode(self) + Data("\n".utf8)
    }

    /// Writes `<directory>/dataset.json` atomically.
    public func write(directory: String) throws {
        let path = directory + "/" + DatasetManifest.fileName
        do {
            try encoded().write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw DatasetError(path: path, message: "cannot write: \(error.localizedDescription)",
                               hint: "check that the directory exists and is writable")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func key(_ path: [CodingKey]) -> String {
            path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let k, let context):
            let at = key(context.codingPath)
            return "missing key \"\(k.stringValue)\"" + (at.isEmpty ? "" : " in \(at)")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            return "key \(key(context.codingPath)): expected \(type)"
        case .dataCorrupted(let context):
            let at = key(context.codingPath)
            return (at.isEmpty ? "" : "key \(at): ") + "not valid JSON (\(context.debugDescription))"
        @unknown default:
            return "cannot decode: \(error)"
        }
    }
}
