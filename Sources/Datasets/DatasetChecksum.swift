/// The checksum stored in dataset.json (docs/datasets.md, "Checksum").
///
/// Definition: each PNG file gets h_f = FNV-1a-64 of its bytes. The files of all splits are
/// sorted by path relative to the tree root (`train/coat/00019.png`, `/` separators) in
/// byte order; the checksum is FNV-1a-64 over, for each file in that order, the path's
/// UTF-8 bytes, one 0 byte, and h_f as 8 little-endian bytes. Hashing files separately lets
/// the per-file work run in parallel while the result stays independent of scheduling.
public struct DatasetChecksum: Sendable {
    private var files: [(path: String, hash: UInt64)] = []

    public init() {}

    /// Records one file by its path under the root and its bytes.
    public mutating func add(relativePath: String, bytes: [UInt8]) {
        files.append((relativePath, FNV1a.hash(bytes)))
    }

    /// Records one file by its path and an already computed FNV-1a-64 of its bytes.
    public mutating func add(relativePath: String, fileHash: UInt64) {
        files.append((relativePath, fileHash))
    }

    /// The checksum, `fnv1a64:<16 hex digits>`.
    public var value: String {
        var h = FNV1a()
        for file in files.sorted(by: { DatasetTree.byteOrder($0.path, $1.path) }) {
            h.feed(string: file.path)
            h.feed(word: file.hash)
        }
        return FNV1a.format(h.value)
    }
}
