import Codecs
import Foundation
import Testing
@testable import Datasets

/// The dataset fingerprint comes from the images; loaders refuse a tree that disagrees
/// with dataset.json; `datasets init` adopts plain class-folder trees.
@Suite struct ContentFingerprintTests {
    @Test func fingerprintFollowsTheImagesNotDatasetJSON() throws {
        let imported = try ImportedFixture()
        defer { imported.remove() }
        let tree = try DatasetTree(root: imported.tree)
        let first = try tree.contentChecksum()
        #expect(first.value == tree.manifest.checksum)  // unchanged tree: the recorded checksum
        #expect(first.hashed == first.files && first.files == imported.fixture.train.count + imported.fixture.test.count)
        let again = try tree.contentChecksum()
        #expect(again.value == first.value && again.hashed == 0)  // stamps reused: nothing read
        // Overwrite one image with other pixels of the same size: dataset.json still says the old checksum.
        let file = imported.tree + "/test/dress/00003.png"
        let image = try PNG.read(path: file, as: .gray)
        try PNG.write(PNGImage(width: image.width, height: image.height, channels: 1,
                               pixels: image.pixels.map { 255 - $0 }), to: file)
        let changed = try tree.contentChecksum()
        #expect(changed.value != first.value && changed.hashed == 1)
        #expect(DatasetTree.fingerprint(directory: imported.tree) == changed.value)
        // Once per process and directory: a later change is seen by contentChecksum only.
        try FileManager.default.removeItem(atPath: imported.tree + "/test/dress/00003.png")
        #expect(DatasetTree.fingerprint(directory: imported.tree) == changed.value)
        try PNG.write(PNGImage(width: image.width, height: image.height, channels: 1,
                               pixels: image.pixels.map { 255 - $0 }), to: file)
        #expect(try DatasetManifest.read(directory: imported.tree).checksum == first.value)
        #expect(DatasetTree.fingerprint(directory: imported.root + "/nowhere") == "missing")
        // Deleting the stamp table costs a re-read, not a different answer.
        try FileManager.default.removeItem(atPath: tree.stampCachePath)
        #expect(try tree.contentChecksum() == ContentChecksum(value: changed.value, files: first.files, hashed: first.files))
    }
}

@Suite struct TreeAgreementTests {
    @Test func loaderRefusesCountsThatDisagreeWithDatasetJSON() throws {
        let imported = try ImportedFixture()
        defer { imported.remove() }
        try FileManager.default.removeItem(atPath: imported.tree + "/train/coat/00002.png")
        let error = try #require(throws: DatasetError.self) { try DatasetTree(root: imported.tree).load(split: "train") }
        #expect(error.path == imported.tree + "/train")
        #expect(error.message.contains("dataset.json says \(imported.fixture.train.count)") && error.message.contains("coat"))
        #expect(error.hint.contains("datasets init \(imported.tree) --refresh"))
    }

    @Test func loaderRefusesRGBGrayAlphaAndRGBAInAGrayDataset() throws {
        let (w, h) = (FashionFixture.columns, FashionFixture.rows)
        for (channels, name) in [(3, "RGB"), (2, "gray+alpha"), (4, "RGBA")] {
            let imported = try ImportedFixture()
            defer { imported.remove() }
            let file = imported.tree + "/train/coat/00002.png"
            Fixture.write(TestPNG.encode(width: w, height: h, channels: channels), to: file)
            #expect(try PNG.info(path: file).channels == channels)
            let error = try #require(throws: DatasetError.self) {
                try DatasetTree(root: imported.tree).load(split: "train", useCache: false)
            }
            #expect(error.path == file && error.message.hasPrefix("stores \(name), the dataset's images are gray"))
        }
    }

    @Test func upperCasePNGIsAnImageAndASubdirectoryIsNamedAsSuch() throws {
        let imported = try ImportedFixture()
        defer { imported.remove() }
        let fm = FileManager.default
        let t = imported.tree
        try fm.moveItem(atPath: t + "/train/coat/00002.png", toPath: t + "/train/coat/00002.PNG")
        try fm.createDirectory(atPath: t + "/train/bag/more", withIntermediateDirectories: false)
        let report = try DatasetTree(root: t).check()
        #expect(report.problems.map(\.description) == [
            "train/bag/more: a directory inside a class folder (class folders hold only .png files; move its images up or remove it)",
            "dataset.json: checksum \(report.checksum == "" ? "" : try DatasetManifest.read(directory: t).checksum), the tree hashes to \(report.checksum): files changed since import",
        ].sorted())
        // The renamed file still counts, so the load passes the count check.
        #expect(try DatasetTree(root: t).load(split: "train").split.count == imported.fixture.train.count)
    }
}

@Suite struct AdoptionTests {
    /// `root/<split>/<class>/<i>.png`, gray w x h, pixel value i + class.
    static func makeTree(_ root: String, splits: [String?], classes: [String: Int], width: Int = 6, height: Int = 5) throws {
        for split in splits {
            for (folder, count) in classes {
                let dir = root + "/" + (split.map { $0 + "/" } ?? "") + folder
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                for i in 0..<count {
                    try PNG.write(PNGImage(width: width, height: height, channels: 1,
                                           pixels: [UInt8](repeating: UInt8(i * 7 + folder.count), count: width * height)),
                                  to: dir + "/img\(i).png")
                }
            }
        }
    }

    @Test func trainTestTreeIsAdoptedAndLoads() throws {
        let root = Fixture.temporaryDirectory() + "/leaves"
        defer { try? FileManager.default.removeItem(atPath: root) }
        try Self.makeTree(root, splits: ["train", "test"], classes: ["oak": 4, "Maple": 3, "ash": 2])
        let report = try DatasetAdoption.adopt(directory: root)
        let m = report.manifest
        #expect(m.name == "leaves" && m.classes.map(\.folder) == ["Maple", "ash", "oak"])
        #expect(m.imageShape == [1, 5, 6])
        #expect(m.splits.map(\.classCounts) == [[3, 2, 4], [3, 2, 4]])
        let tree = try DatasetTree(root: root)
        #expect(tree.manifest == m)
        #expect(try tree.check().passed)
        #expect(try tree.contentChecksum() == ContentChecksum(value: m.checksum, files: 18, hashed: 0))  // stamps written by init
        #expect(try tree.load(split: "test").split.count == 9)
        // A second init refuses; --refresh after a change rewrites the counts and checksum.
        #expect(throws: DatasetError.self) { try DatasetAdoption.adopt(directory: root) }
        try FileManager.default.removeItem(atPath: root + "/train/oak/img0.png")
        let refreshed = try DatasetAdoption.adopt(directory: root, refresh: true)
        #expect(refreshed.refreshed && refreshed.manifest.splits[0].classCounts == [3, 2, 3])
        #expect(refreshed.manifest.checksum != m.checksum)
    }

    @Test func oneFolderIsSplitDeterministicallyByTheFraction() throws {
        let base = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        var manifests: [DatasetManifest] = []
        var testFiles: [[String]] = []
        for copy in ["a", "b"] {
            let root = base + "/" + copy
            try Self.makeTree(root, splits: [nil], classes: ["cat": 10, "dog": 5])
            #expect(throws: DatasetError.self) { try DatasetAdoption.adopt(directory: root) }  // no fraction given
            let report = try DatasetAdoption.adopt(directory: root, testFraction: 0.2, name: "pets")
            #expect(report.moved == 15)
            manifests.append(report.manifest)
            testFiles.append(try FileManager.default.subpathsOfDirectory(atPath: root + "/test").sorted())
            #expect(!FileManager.default.fileExists(atPath: root + "/cat"))
        }
        #expect(manifests[0].splits.map(\.classCounts) == [[8, 4], [2, 1]])
        manifests[1].source = manifests[0].source  // names the directory
        #expect(manifests[0] == manifests[1] && testFiles[0] == testFiles[1])
    }

    @Test func badTreesAreRefusedNamingTheFile() throws {
        let base = Fixture.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: base) }
        func refused(_ setUp: (String) throws -> Void) throws -> DatasetError {
            let root = base + "/" + UUID().uuidString
            try Self.makeTree(root, splits: ["train", "test"], classes: ["a": 2, "b": 2])
            try setUp(root)
            do {
                _ = try DatasetAdoption.adopt(directory: root)
            } catch let error as DatasetError {
                return error
            } catch let error as CodecError {  // an undecodable PNG: the codec's error, naming the file
                return DatasetError(path: error.path, message: error.message, hint: error.hint)
            }
            Issue.record("adopted a bad tree")
            return DatasetError(path: "", message: "", hint: "")
        }
        var e = try refused { try PNG.write(PNGImage(width: 3, height: 3, channels: 1, pixels: [UInt8](repeating: 0, count: 9)), to: $0 + "/test/b/img1.png") }
        #expect(e.path.hasSuffix("test/b/img1.png") && e.message.contains("is 3x3 gray"))
        e = try refused { Fixture.write(TestPNG.encode(width: 6, height: 5, channels: 4), to: $0 + "/train/a/img0.png") }
        #expect(e.path.hasSuffix("train/a/img0.png") && e.message.contains("stores RGBA"))
        e = try refused { try FileManager.default.createDirectory(atPath: $0 + "/train/a/sub", withIntermediateDirectories: false) }
        #expect(e.path.hasSuffix("train/a/sub") && e.message.contains("directory inside a class folder"))
        e = try refused { try FileManager.default.createDirectory(atPath: $0 + "/test/c", withIntermediateDirectories: false) }
        #expect(e.message.contains("differing: c"))
        e = try refused { Fixture.write([1, 2, 3], to: $0 + "/train/a/notes.txt") }
        #expect(e.message == "is not a .png image file")
        e = try refused { Fixture.write([1, 2, 3], to: $0 + "/train/a/img9.png") }
        #expect(e.path.hasSuffix("train/a/img9.png"))
    }
}

/// Minimal PNG encoder for colour types the codec does not write (gray+alpha, RGBA):
/// stored (uncompressed) zlib blocks, filter 0, mid-gray opaque pixels.
enum TestPNG {
    static func encode(width: Int, height: Int, channels: Int) -> [UInt8] {
        let colourType: UInt8 = [1: 0, 2: 4, 3: 2, 4: 6][channels]!
        var raw: [UInt8] = []
        for _ in 0..<height { raw += [0] + [UInt8](repeating: 128, count: width * channels).enumerated().map { i, v in
            (channels == 2 || channels == 4) && i % channels == channels - 1 ? 255 : v } }
        var zlib: [UInt8] = [0x78, 0x01, 1] + le16(raw.count) + le16(~raw.count & 0xffff) + raw
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        zlib += be32(Int((b << 16) | a))
        var png: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
        png += chunk("IHDR", be32(width) + be32(height) + [8, colourType, 0, 0, 0])
        png += chunk("IDAT", zlib)
        png += chunk("IEND", [])
        return png
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(Int(crc32(body)))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for byte in bytes {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }

    static func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff)] }
}
