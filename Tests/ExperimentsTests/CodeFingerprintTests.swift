import Experiments
import Foundation
import SourceFingerprint
import Testing

/// The code fingerprint is the binary's own (embedded at build time) and covers exactly
/// Sources/ and Package.swift.
@Suite("Code fingerprint")
struct CodeFingerprintTests {
    /// The package root: two levels above this file's directory (Tests/ExperimentsTests/).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func theBinaryCarriesTheFingerprintOfTheTreeItWasBuiltFrom() throws {
        let tree = try #require(SourceFingerprint.compute(root: Self.packageRoot))
        #expect(Provenance.binaryCodeFingerprint == tree)
        #expect(Provenance.sourceTreeMismatch(directory: Self.packageRoot) == nil)
        // From outside any source tree: no comparison, and the code is still known.
        #expect(Provenance.sourceTreeMismatch(directory: NSTemporaryDirectory()) == nil)
        #expect(Provenance.collect().code == tree)
    }

    @Test func onlySourcesAndPackageSwiftCount() throws {
        let root = NSTemporaryDirectory() + "fingerprint-" + UUID().uuidString
        let fm = FileManager.default
        defer { try? fm.removeItem(atPath: root) }
        func write(_ path: String, _ text: String) throws {
            try fm.createDirectory(atPath: (root + "/" + path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: root + "/" + path))
        }
        #expect(SourceFingerprint.compute(root: root) == nil)  // not a package
        try write("Package.swift", "// package\n")
        try write("Sources/A/a.swift", "let a = 1\n")
        try write("Sources/CX/module.modulemap", "module CX {}\n")
        let base = try #require(SourceFingerprint.compute(root: root))
        #expect(base.hasPrefix("sources:fnv1a64:") && base.count == "sources:fnv1a64:".count + 16)
        #expect(SourceFingerprint.files(root: root) == ["Package.swift", "Sources/A/a.swift", "Sources/CX/module.modulemap"])
        // Build products, datasets, docs, tests, hidden and non-source files do not count.
        try write(".build/debug/x.swift", "junk")
        try write("datasets/d/train/a/0.png", "png")
        try write("docs/a.md", "doc")
        try write("Tests/T/t.swift", "test")
        try write("Sources/A/.#a.swift", "editor lock")
        try write("Sources/A/notes.txt", "notes")
        #expect(SourceFingerprint.compute(root: root) == base)
        // Any source edit, addition or rename does.
        try write("Sources/A/a.swift", "let a = 2\n")
        let edited = try #require(SourceFingerprint.compute(root: root))
        #expect(edited != base)
        try write("Sources/A/b.swift", "")
        #expect(SourceFingerprint.compute(root: root) != edited)
        try write("Package.swift", "// package, changed\n")
        #expect(SourceFingerprint.compute(root: root) != edited)
        #expect(Provenance.sourceTreeMismatch(directory: root)?.contains("rebuild") == true)
    }
}
