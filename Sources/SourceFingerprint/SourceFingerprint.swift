import Foundation

/// The code fingerprint: one hash of the files that define what the binary computes,
/// `Package.swift` and every source file under `Sources/` (`.swift`, `.c`, `.h`,
/// `.modulemap`). Nothing else counts: not `.build/`, not datasets, results, docs, specs
/// or tests, and not whether the files are committed.
///
/// Definition: the files, as paths relative to the package root with `/` separators,
/// sorted in byte order; FNV-1a-64 over, for each file, its path's UTF-8 bytes, one 0
/// byte, its size as 8 little-endian bytes, and its bytes. Written `sources:fnv1a64:<16 hex>`.
///
/// The build embeds it (the `SourceFingerprintPlugin` build-tool plugin runs
/// `source-fingerprint` and compiles the result into the `Experiments` target); at run time
/// `Provenance` compares it with the tree in the current directory.
public enum SourceFingerprint {
    public static let extensions: Set<String> = ["swift", "c", "h", "modulemap"]

    /// The files that count, relative to `root`, in byte order; nil when `root` has no
    /// `Package.swift` or no `Sources/` directory.
    public static func files(root: String) -> [String]? {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root + "/Package.swift"),
              fm.fileExists(atPath: root + "/Sources", isDirectory: &isDirectory), isDirectory.boolValue,
              let walker = fm.enumerator(atPath: root + "/Sources") else { return nil }
        var files = ["Package.swift"]
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(".") {
                walker.skipDescendants()
                continue
            }
            guard let ext = name.split(separator: ".").last.map(String.init), name.contains("."), extensions.contains(ext) else { continue }
            var directory: ObjCBool = false
            if fm.fileExists(atPath: root + "/Sources/" + relative, isDirectory: &directory), !directory.boolValue {
                files.append("Sources/" + relative)
            }
        }
        return files.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    /// The fingerprint of the tree at `root`, or nil when it is not a package tree or a
    /// file cannot be read.
    public static func compute(root: String) -> String? {
        guard let files = files(root: root) else { return nil }
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func feed<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for byte in bytes { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: root + "/" + file) else { return nil }
            feed(file.utf8)
            feed([0])
            feed((0..<8).map { UInt8(truncatingIfNeeded: UInt64(data.count) >> (8 * $0)) })
            feed(data)
        }
        let hex = String(h, radix: 16)
        return "sources:fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
