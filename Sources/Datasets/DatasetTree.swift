import Foundation

/// A dataset on disk: `<root>/dataset.json` and `<root>/<split>/<class folder>/<id>.png`
/// (docs/datasets.md, "Tree layout").
///
/// Sample order, used by loading, checking and the cache: by class in label order, then
/// by file name in byte order. Importers name files with zero-padded indices of the
/// source's order, so within a class this is the source's order.
public struct DatasetTree: Sendable {
    public let root: String
    public let manifest: DatasetManifest

    /// Hidden directory under the root holding decoded caches.
    public static let cacheDirectory = ".cache"

    /// One image file of a split.
    public struct Entry: Equatable, Sendable {
        /// Path under the root, `<split>/<folder>/<file>`, with `/` separators.
        public var relativePath: String
        /// Class index.
        public var label: Int
    }

    /// The files of a split, and anything there that does not belong.
    public struct Listing: Sendable {
        /// Images in sample order.
        public var entries: [Entry]
        /// Paths under the root that are neither a known class folder nor a `.png` file
        /// (any letter case) in one.
        public var strays: [String]
    }

    /// Opens the tree at `root`, reading and validating its dataset.json.
    public init(root: String) throws {
        self.root = root
        self.manifest = try DatasetManifest.read(directory: root)
    }

    public func path(_ relativePath: String) -> String { root + "/" + relativePath }

    /// The split named `name` in dataset.json, or an error listing the splits there are.
    public func split(named name: String) throws -> DatasetManifest.Split {
        guard let split = manifest.splits.first(where: { $0.name == name }) else {
            throw DatasetError(path: path(DatasetManifest.fileName),
                               message: "no split \"\(name)\"; the dataset has \(manifest.splits.map(\.name).joined(separator: ", "))",
                               hint: "name one of those splits")
        }
        return split
    }

    /// Lists a split's images in sample order.
    public func list(split name: String) throws -> Listing {
        _ = try split(named: name)
        let splitDirectory = path(name)
        let folders = try contents(of: splitDirectory)
        let known = Dictionary(uniqueKeysWithValues: manifest.classes.enumerated().map { ($1.folder, $0) })
        var strays = folders.filter { known[$0] == nil }.map { name + "/" + $0 }
        var entries = [Entry]()
        for (label, entry) in manifest.classes.enumerated() {
            let folder = name + "/" + entry.folder
            guard folders.contains(entry.folder) else { continue }
            for file in try contents(of: path(folder)) {
                if DatasetTree.isImageFileName(file) {
                    entries.append(Entry(relativePath: folder + "/" + file, label: label))
                } else {
                    strays.append(folder + "/" + file)
                }
            }
        }
        return Listing(entries: entries, strays: strays.sorted(by: DatasetTree.byteOrder))
    }

    /// Directory entries sorted in byte order.
    func contents(of directory: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).sorted(by: DatasetTree.byteOrder)
        } catch {
            throw DatasetError(path: directory, message: "cannot list directory: \(error.localizedDescription)",
                               hint: "a tree needs <split>/<class folder>/*.png under the dataset root; re-import the dataset")
        }
    }

    /// A visible file named `*.png` in any letter case (`.PNG` from cameras and Windows tools).
    static func isImageFileName(_ name: String) -> Bool {
        !name.hasPrefix(".") && name.count > 4 && name.suffix(4).lowercased() == ".png"
    }

    func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
