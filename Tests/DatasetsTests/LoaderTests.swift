import Codecs
import Foundation
import Testing
@testable import Datasets

/// A Fashion-MNIST fixture imported into a temporary tree.
struct ImportedFixture {
    let root: String
    let tree: String
    let fixture: FashionFixture

    init() throws {
        root = Fixture.temporaryDirectory()
        fixture = try FashionFixture(directory: root)
        tree = root + "/tree"
        try DatasetImporter.write(try DatasetSources.fashionMNIST(from: root), to: tree)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

@Suite struct LoaderTests {
    @Test func loadGivesSampleOrderExactPixelsAndStatistics() throws {
        let imported = try ImportedFixture()
        defer { imported.remove() }
        let source = imported.fixture.train
        let (split, cache) = try DatasetTree(root: imported.tree).load(split: "train")
        #expect(cache == .rebuilt(reason: "no cache yet"))
        #expect(split.count == source.count)
        #expect(split.images.shape == [source.count, 1, FashionFixture.rows, FashionFixture.columns])
        let order = sampleOrder(source.labels)
        #expect(split.labels == order.map { source.labels[$0] })
        #expect(split.labels == split.labels.sorted())
        let expected = order.flatMap { source.image($0) }
        #expect(split.images.scalars == expected.map { Float($0) / 255 })
        #expect(split.images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        let superOf = [0, 1, 0, 2, 0, 3, 0, 3, 4, 3]
        #expect(split.superclassLabels == split.labels.map { superOf[$0] })
        #expect(split.classNames == DatasetSources.fashionMNISTClasses)
        #expect(split.superclassNames == ["tops", "bottoms", "dresses", "footwear", "bags"])
        // Mean and std against a plain two-pass computation in Double.
        let values = expected.map { Double($0) / 255 }
        let mean = values.reduce(0, +) / Double(values.count)
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        #expect(abs(split.mean[0] - mean) < 1e-12)
        #expect(abs(split.std[0] - std) < 1e-9)
        #expect(split.mean.count == 1 && split.std.count == 1)
    }

    @Test func cacheIsUsedThenInvalidatedByAChangedFile() throws {
        let imported = try ImportedFixture()
        defer { imported.remove() }
        let tree = try DatasetTree(root: imported.tree)
        let first = try tree.load(split: "test")
        #expect(first.cache == .rebuilt(reason: "no cache yet"))
        #expect(FileManager.default.fileExists(atPath: imported.tree + "/.cache/test.bin"))
        let second = try tree.load(split: "test")
        #expect(second.cache == .hit)
        #expect(second.split.images == first.split.images)
        #expect(second.split.labels == first.split.labels)
        #expect(second.split.mean == first.split.mean && second.split.std == first.split.std)

        // Rewrite the first test image (source index 0, class 0) with new pixels.
        let pixels = [UInt8](repeating: 200, count: FashionFixture.rows * FashionFixture.columns)
        try PNG.write(PNGImage(width: FashionFixture.columns, height: FashionFixture.rows, channels: 1, pixels: pixels),
                      to: imported.tree + "/test/t-shirt_top/00000.png")
        let third = try tree.load(split: "test")
        #expect(third.cache == .rebuilt(reason: "the tree changed since the cache was written"))
        #expect(Array(third.split.images.scalars.prefix(pixels.count)) == pixels.map { Float($0) / 255 })
        #expect(try tree.load(split: "test").cache == .hit)

        // A removed file disagrees with dataset.json's counts: refused until it is refreshed,
        // after which the sample list is one shorter.
        try FileManager.default.removeItem(atPath: imported.tree + "/test/t-shirt_top/00000.png")
        #expect(throws: DatasetError.self) { try tree.load(split: "test") }
        _ = try DatasetAdoption.adopt(directory: imported.tree, refresh: true)
        let fourth = try DatasetTree(root: imported.tree).load(split: "test")
        #expect(fourth.cache == .rebuilt(reason: "the tree changed since the cache was written"))
        #expect(fourth.split.count == imported.fixture.test.count - 1)
    }

    @Test func corruptCacheIsRebuiltNotTrusted() throws {
        let imported = try ImportedFixture()
        defer { imported.remove() }
        let tree = try DatasetTree(root: imported.tree)
        let clean = try tree.load(split: "train").split
        let cacheFile = tree.cachePath(split: "train")
        var bytes = [UInt8](FileManager.default.contents(atPath: cacheFile)!)
        bytes[bytes.count - 30] ^= 0xff // a pixel near the end
        Fixture.write(bytes, to: cacheFile)
        var notes = [String]()
        let reloaded = try tree.load(split: "train", log: { notes.append($0) })
        #expect(reloaded.cache == .rebuilt(reason: "the cache was corrupt (payload check failed)"))
        #expect(notes.first?.contains("payload check failed") == true)
        #expect(reloaded.split.images == clean.images)
        #expect(try tree.load(split: "train").cache == .hit)
        Fixture.write(Array(bytes.prefix(10)), to: cacheFile)
        #expect(try tree.load(split: "train").split.images == clean.images)
    }

    @Test func disabledCacheDecodesEveryTime() throws {
        let imported = try ImportedFixture()
        defer { imported.remove() }
        let tree = try DatasetTree(root: imported.tree)
        #expect(try tree.load(split: "test", useCache: false).cache == .disabled)
        #expect(!FileManager.default.fileExists(atPath: imported.tree + "/.cache"))
        let error = #expect(throws: DatasetError.self) { try tree.load(split: "validation") }
        #expect(error?.message.contains("the dataset has train, test") == true)
    }

    @Test func wrongSizedImageStopsTheLoadNamingIt() throws {
        let imported = try ImportedFixture()
        defer { imported.remove() }
        let bad = imported.tree + "/train/coat/00002.png"
        try PNG.write(PNGImage(width: 3, height: 3, channels: 1, pixels: [UInt8](repeating: 1, count: 9)), to: bad)
        let error = #expect(throws: DatasetError.self) { try DatasetTree(root: imported.tree).load(split: "train") }
        #expect(error?.path == bad)
        #expect(error?.hint.contains("persephone datasets check") == true)
    }
}

@Suite struct CheckTests {
    @Test func cleanImportPasses() throws {
        let imported = try ImportedFixture()
        defer { imported.remove() }
        let tree = try DatasetTree(root: imported.tree)
        _ = try tree.load(split: "train") // a cache must not upset check
        let report = try tree.check()
        #expect(report.passed, "\(report.problems)")
        #expect(report.imagesChecked == imported.fixture.train.count + imported.fixture.test.count)
        #expect(report.checksum == tree.manifest.checksum)
    }

    @Test func everyKindOfDamageIsReported() throws {
        let imported = try ImportedFixture()
        defer { imported.remove() }
        let t = imported.tree
        let fm = FileManager.default
        // A truncated PNG, a wrong-sized one, an RGB one in a gray dataset, stray files and folders.
        let truncated = [UInt8](fm.contents(atPath: t + "/train/trouser/00003.png")!)
        Fixture.write(Array(truncated.prefix(40)), to: t + "/train/trouser/00003.png")
        try PNG.write(PNGImage(width: 2, height: 2, channels: 1, pixels: [0, 1, 2, 3]), to: t + "/train/coat/00002.png")
        let rgb = [UInt8](repeating: 9, count: FashionFixture.rows * FashionFixture.columns * 3)
        try PNG.write(PNGImage(width: FashionFixture.columns, height: FashionFixture.rows, channels: 3, pixels: rgb),
                      to: t + "/test/dress/00003.png")
        try fm.createDirectory(atPath: t + "/train/socks", withIntermediateDirectories: false)
        _ = fm.createFile(atPath: t + "/train/bag/notes.txt", contents: Data("x".utf8))
        try fm.createDirectory(atPath: t + "/validation", withIntermediateDirectories: false)
        try fm.removeItem(atPath: t + "/test/pullover/00002.png")

        let report = try DatasetTree(root: t).check()
        #expect(!report.passed)
        let byPath = Dictionary(grouping: report.problems, by: \.path).mapValues { $0.map(\.message) }
        #expect(byPath["train/trouser/00003.png"]?.first?.hasPrefix("cannot decode") == true)
        #expect(byPath["train/coat/00002.png"] == ["is 2x2, expected 4x5"])
        #expect(byPath["test/dress/00003.png"] == ["has 3 channels as stored, expected 1"])
        #expect(byPath["train/socks"] == ["unknown class folder (not in dataset.json classes)"])
        #expect(byPath["train/bag/notes.txt"] == ["not a .png image file"])
        #expect(byPath["validation"]?.isEmpty == false)
        #expect(byPath["test/pullover"] == ["0 images, dataset.json says 1"])
        #expect(byPath["dataset.json"]?.first?.contains("files changed since import") == true)
        #expect(report.problems.count == 8)
        #expect(report.problems.map(\.path) == report.problems.map(\.path).sorted())
    }
}

@Suite struct VerifyTests {
    @Test func verifyFindsChangedPixelsMovedAndMissingFiles() throws {
        let imported = try ImportedFixture()
        defer { imported.remove() }
        let plan = try DatasetSources.fashionMNIST(from: imported.root)
        let tree = try DatasetTree(root: imported.tree)
        let clean = try tree.verify(against: plan)
        #expect(clean.passed, "\(clean.mismatches)")
        #expect(clean.imagesCompared == imported.fixture.train.count + imported.fixture.test.count)

        let t = imported.tree
        let pixels = [UInt8](repeating: 3, count: FashionFixture.rows * FashionFixture.columns)
        try PNG.write(PNGImage(width: FashionFixture.columns, height: FashionFixture.rows, channels: 1, pixels: pixels),
                      to: t + "/train/coat/00002.png")
        try FileManager.default.moveItem(atPath: t + "/train/trouser/00003.png", toPath: t + "/train/bag/00003.png")
        try FileManager.default.removeItem(atPath: t + "/test/dress/00003.png")
        let report = try tree.verify(against: plan)
        #expect(report.mismatches == [
            "train/coat/00002.png: pixels differ from source image 2",
            "train/bag/00003.png: in class Bag, the source says Trouser",
            "test: 1 source images have no file (first: index 3)",
        ])
    }
}
